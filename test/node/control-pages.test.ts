import { expect } from 'chai';
import { tcpTransport } from '../../plugins/tcp/src';
import type { Rule } from '../../src/api/settings';
import { BoosterClient } from '../../src/client/client';
import type { BoosterNode } from '../../src/core/node';
import { BIN } from '../helpers/cli';
import { run } from '../helpers/exec';
import { startHttpServer, type TestHttpServer } from '../helpers/http';
import { startTestNode } from '../helpers/node';
import { getViaSocks } from '../helpers/socks';

/** A 253-character host name, unique per rule and host. */
function bigHost(rule: number, host: number): string {
  const start = `r${rule}h${host}.${'x'.repeat(63)}.${'y'.repeat(63)}.${'z'.repeat(63)}.`;
  return start + 'e'.repeat(253 - start.length);
}

/** The default limits at their fullest: 256 rules of 64 such hosts, about 4 MB, where one packet carries 64 KiB. */
const BIG_RULES: Rule[] = Array.from({ length: 256 }, (_, r) => ({
  type: 'avoid',
  source: 'direct',
  hosts: Array.from({ length: 64 }, (_, h) => bigHost(r, h)),
}));

describe('rule listings larger than a packet', function () {
  this.timeout(60_000);
  let origin: TestHttpServer;
  let node: BoosterNode;
  let client: BoosterClient;
  const addr = () => `127.0.0.1:${node.endpointAddress.port}`;
  const cli = (...args: string[]) => run(process.execPath, [BIN, ...args], { timeoutMs: 30_000 });

  before(async () => {
    origin = await startHttpServer();
    node = await startTestNode({ settings: { rules: BIG_RULES } });
    client = await BoosterClient.open(tcpTransport, addr());
  });
  after(async () => {
    client?.close();
    await node?.stop();
    await origin?.close();
  });

  it('the node answers a page at a time, starting where asked', async () => {
    const first = await client.control({ op: 'status', rulesOffset: 0 });
    expect(first.rulesTotal).to.equal(256);
    expect(first.rulesOffset).to.equal(0);
    expect(first.rules.length).to.be.within(1, 255);
    expect(first.rules).to.deep.equal(BIG_RULES.slice(0, first.rules.length));
    const late = await client.control({ op: 'status', rulesOffset: 254 });
    expect(late.rulesOffset).to.equal(254);
    expect(late.rules).to.deep.equal(BIG_RULES.slice(254));
    const past = await client.control({ op: 'status', rulesOffset: 300 });
    expect(past.rules).to.deep.equal([]);
    expect(past.rulesTotal).to.equal(256);
  });

  it('the client fetches every page: all 256 rules, in order', async () => {
    const reply = await client.control({ op: 'status' });
    expect(reply.rulesTotal).to.equal(256);
    expect(reply.rules).to.deep.equal(BIG_RULES);
  });

  it('a request for a negative page is refused with a reason', async () => {
    let error: Error | undefined;
    await client.control({ op: 'status', rulesOffset: -1 }).catch((err: Error) => (error = err));
    expect(error?.message).to.match(/rulesOffset must be a rule number/);
  });

  it('a full node refuses one more rule, and its answer still lists every rule', async () => {
    let error: Error | undefined;
    await client.control({ op: 'rules-add', rule: { type: 'block', source: 'direct' } }).catch((err: Error) => (error = err));
    expect(error?.message).to.match(/already has 256 rules.*limits\.maxRules/);
    const reply = await client.control({ op: 'rules-remove', index: 255 });
    expect(reply.rules).to.deep.equal(BIG_RULES.slice(0, 255));
    await client.control({ op: 'rules-add', rule: BIG_RULES[255] });
    expect(node.rules.list()).to.deep.equal(BIG_RULES);
  });

  it('`booster policy rules list` shows all 256 rules; `booster policy list` works; the proxy serves throughout', async () => {
    const downloads = Array.from({ length: 4 }, () => getViaSocks(node.proxyAddress.port, '127.0.0.1', origin.port, '/hello'));
    const human = await cli('policy', 'rules', 'list', '-t', addr());
    expect(human.code, human.stderr).to.equal(0);
    const lines = human.stdout.trim().split('\n');
    expect(lines).to.have.length(256);
    expect(lines[255]).to.equal(`#255 avoid direct for ${BIG_RULES[255].type === 'avoid' ? BIG_RULES[255].hosts.join(',') : ''}`);
    const json = await cli('policy', 'rules', 'list', '-t', addr(), '--json');
    expect(json.code, json.stderr).to.equal(0);
    expect((JSON.parse(json.stdout) as { rules: Rule[] }).rules).to.deep.equal(BIG_RULES);
    const policy = await cli('policy', 'list', '-t', addr());
    expect(policy.code, policy.stderr).to.equal(0);
    expect(policy.stdout).to.match(/^policy: bandwidth-weighted$/m); // the default
    expect((await Promise.all(downloads)).map((r) => r.status)).to.deep.equal([200, 200, 200, 200]);
  });
});
