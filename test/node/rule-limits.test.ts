import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tcpTransport } from '../../plugins/tcp/src';
import type { Limits } from '../../src/api/settings';
import { BoosterClient } from '../../src/client/client';
import type { BoosterNode } from '../../src/core/node';
import { BIN, spawnCli } from '../helpers/cli';
import { run } from '../helpers/exec';
import { startHttpServer, type TestHttpServer } from '../helpers/http';
import { startTestNode } from '../helpers/node';
import { getViaSocks } from '../helpers/socks';

const avoid = (...hosts: string[]) => ({ type: 'avoid', source: 'direct', hosts });

/** Routing rules against a node with low limits, through the real client and CLI; the proxy keeps working. */
describe('rule limits on a running node', function () {
  this.timeout(60_000);
  let origin: TestHttpServer;
  let node: BoosterNode;
  let client: BoosterClient;
  const addr = () => `127.0.0.1:${node.endpointAddress.port}`;
  const cli = (...args: string[]) => run(process.execPath, [BIN, ...args], { timeoutMs: 30_000 });
  const proxyServes = async () => expect((await getViaSocks(node.proxyAddress.port, '127.0.0.1', origin.port, '/hello')).status).to.equal(200);

  // A node per test: the rules one test adds never fill another's.
  beforeEach(async () => {
    origin = await startHttpServer();
    // resolveSettings fills in the limits not given here from the defaults.
    node = await startTestNode({ settings: { limits: { maxRules: 3, maxHostsPerRule: 2 } as Limits } });
    client = await BoosterClient.open(tcpTransport, addr());
  });
  afterEach(async () => {
    client?.close();
    await node?.stop();
    await origin?.close();
  });

  it('the CLI is refused a rule beyond limits.maxRules with a line saying how to raise it; the node keeps its rules and proxies on', async () => {
    for (const host of ['a.example', 'b.example', 'c.example']) await client.control({ op: 'rules-add', rule: avoid(host) });
    await proxyServes();
    const res = await cli('policy', 'rules', 'add', 'avoid', 'direct', 'd.example', '-t', addr());
    expect(res.code, res.stdout).to.equal(1);
    expect(res.stderr.trim()).to.match(
      /^booster: this node already has 3 rules, the most limits\.maxRules allows; remove one first .*raise limits\.maxRules in the node's config file$/,
    );
    expect(node.rules.list().map((r) => ('hosts' in r ? r.hosts?.[0] : undefined))).to.deep.equal(['a.example', 'b.example', 'c.example']);
    expect(node.settings.limits.maxPeers).to.equal(64); // untouched limits keep their defaults
    await proxyServes();
    await client.control({ op: 'rules-remove', index: 0 });
    const reply = await client.control({ op: 'rules-add', rule: avoid('d.example') });
    expect(reply.rules).to.have.length(3);
  });

  it('refuses too many hosts in one rule, and hosts that are not host names', async () => {
    // Exactly limits.maxHostsPerRule hosts is fine.
    await client.control({ op: 'rules-add', rule: avoid('a.example', 'b.example') });
    await expectRefused(avoid('a.example', 'b.example', 'c.example'), /lists 3 hosts, more than limits\.maxHostsPerRule \(2\)/);
    await expectRefused(avoid(`${'a'.repeat(250)}.com`), /is 254 characters long; a host name has at most 253/);
    await expectRefused(avoid('a.example\n2026-01-01T00:00:00.000Z INFO forged'), /is not a host name, an IP address or a \*\.domain pattern/);
    expect(node.rules.list()).to.have.length(1);
    await proxyServes();
  });

  it('a config file with more rules than limits.maxRules stops `booster start` with one clear line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-rules-'));
    const file = path.join(dir, 'booster.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ bind: '127.0.0.1', pport: 0, bport: 0, limits: { maxRules: 2 }, rules: [avoid('a.example'), avoid('b.example'), avoid('c.example')] }),
    );
    try {
      const start = spawnCli(['start', '--config', file]);
      expect(await start.exited()).to.equal(1);
      expect(start.stderr()).to.match(
        /booster: cannot start: .*3 rules configured, more than limits\.maxRules \(2\); use fewer rules, or raise limits\.maxRules in the config file/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  async function expectRefused(rule: object, reason: RegExp): Promise<void> {
    let error: Error | undefined;
    await client.control({ op: 'rules-add', rule }).catch((err: Error) => (error = err));
    expect(error?.message).to.match(reason);
  }
});
