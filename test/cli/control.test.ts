import { expect } from 'chai';
import { run } from '../helpers/exec';
import { BIN, spawnCli, type RunningCli } from '../helpers/cli';
import { startHttpServer, type TestHttpServer } from '../helpers/http';
import { freePort, waitUntil } from '../helpers/ports';

/** The CLI against a node running as its own process: monitor, policy control, ctrl. */
describe('booster CLI: monitor, policy, ctrl', function () {
  this.timeout(40_000);
  let origin: TestHttpServer;
  let node: RunningCli;
  let bport: number;
  let pport: number;
  const addr = () => `127.0.0.1:${bport}`;
  const cli = (...args: string[]) => run(process.execPath, [BIN, ...args]);

  before(async () => {
    origin = await startHttpServer();
    bport = await freePort();
    pport = await freePort();
    node = spawnCli(['start', '--pport', String(pport), '--bport', String(bport), '--bind', '127.0.0.1']);
    await node.waitFor(/booster endpoint listening/);
  });
  after(async () => {
    node.kill('SIGKILL');
    await origin.close();
  });

  it('monitor node --json streams the snapshot and then tunnel events', async () => {
    const mon = spawnCli(['monitor', 'node', '-t', addr(), '--json']);
    const lines: string[] = [];
    mon.child.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().trim().split('\n')));
    await waitUntil('the snapshot', () => lines.length > 0, 15_000);
    await run('curl', ['-sS', '-o', '/dev/null', '--socks5-hostname', `127.0.0.1:${pport}`, `${origin.url}/hello`]);
    await waitUntil('the tunnel events', () => lines.filter((l) => l.includes('proxy-update')).length >= 2, 10_000);
    mon.kill('SIGINT');
    await mon.exited();
    const messages = lines.filter(Boolean).map((l) => JSON.parse(l) as { kind: string; target?: string; operation?: string });
    expect(messages[0].kind).to.equal('node-status');
    expect(messages.filter((m) => m.kind === 'proxy-update').map((m) => m.operation)).to.deep.equal(['added', 'removed']);
    expect(messages.find((m) => m.kind === 'proxy-update')!.target).to.equal(`127.0.0.1:${origin.port}`);
  });

  it('monitor net prints a readable throughput line every second', async () => {
    const mon = spawnCli(['monitor', 'net', '-t', addr()]);
    let out = '';
    mon.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitUntil('a throughput line', () => /↑/.test(out), 15_000);
    mon.kill('SIGINT');
    await mon.exited();
    expect(out).to.match(/↓ .*\/s \(total .*\)\s+↑ .*\/s/);
  });

  it('policy use / rules add, list, remove change the running node', async () => {
    let res = await cli('policy', 'use', 'round-robin', '-t', addr());
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout).to.match(/policy: round-robin/);
    res = await cli('policy', 'use', 'no-such', '-t', addr());
    expect(res.code).to.equal(1);
    expect(res.stderr).to.match(/policy "no-such" is not contributed by any plugin/);
    res = await cli('policy', 'rules', 'add', 'avoid', 'direct', '*.example', '-t', addr());
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout).to.match(/#0 avoid direct for \*\.example/);
    res = await cli('policy', 'rules', 'add', 'reserve', 'direct', '-t', addr());
    expect(res.code).to.equal(1);
    expect(res.stderr).to.match(/"hosts" must be a non-empty list/);
    // A source the node does not have: refused, naming the ones it has; nothing added.
    res = await cli('policy', 'rules', 'add', 'block', 'nosuchsource', '-t', addr());
    expect(res.code).to.equal(1);
    expect(res.stderr.trim().split('\n')).to.have.length(1);
    expect(res.stderr).to.match(/no source "nosuchsource" on this node; its sources are: direct \(see booster sources\)/);
    expect((await cli('policy', 'rules', 'list', '-t', addr(), '--json')).stdout).to.not.match(/nosuchsource/);
    res = await cli('policy', 'list', '-t', addr(), '--json');
    expect(JSON.parse(res.stdout)).to.deep.include({ policy: 'round-robin' });
    res = await cli('policy', 'rules', 'remove', '0', '-t', addr());
    expect(res.stdout).to.match(/removed rule: avoid direct/);
    expect((await cli('policy', 'rules', 'list', '-t', addr())).stdout).to.match(/no rules/);
  });

  it('ctrl restart brings the node back on the same ports; ctrl stop ends it with exit 0', async () => {
    let res = await cli('ctrl', addr(), 'restart');
    expect(res.code, res.stderr).to.equal(0);
    await node.waitFor(/restarting[\s\S]*booster endpoint listening/);
    res = await cli('status', addr());
    expect(res.code, res.stderr).to.equal(0);
    res = await cli('ctrl', addr(), 'stop');
    expect(res.code, res.stderr).to.equal(0);
    expect(await node.exited()).to.equal(0);
  });

  it('talking to nothing gives one clear line and exit 1', async () => {
    const res = await cli('status', `127.0.0.1:${await freePort()}`);
    expect(res.code).to.equal(1);
    expect(res.stderr.trim()).to.match(/^booster: cannot talk to node 127\.0\.0\.1:\d+: .*refused the connection/);
  });
});
