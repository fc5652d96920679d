import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { startHttpServer, type TestHttpServer } from '../helpers/http';
import { run } from '../helpers/exec';
import { BIN, spawnCli, type RunningCli } from '../helpers/cli';

describe('booster CLI: start, version, plugins', function () {
  this.timeout(30_000);
  let origin: TestHttpServer;
  let node: RunningCli | undefined;

  before(async () => {
    origin = await startHttpServer();
  });
  after(() => origin.close());
  afterEach(async () => {
    node?.kill('SIGKILL');
    await node?.exited();
    node = undefined;
  });

  it('starts a node that proxies curl, and exits 0 on SIGTERM', async () => {
    node = spawnCli(['start', '--pport', '0', '--bport', '0', '--bind', '127.0.0.1']);
    const [, port] = await node.waitFor(/proxy listening on 127\.0\.0\.1:(\d+)/);
    const res = await run('curl', ['-sS', '--socks5-hostname', `127.0.0.1:${port}`, `${origin.url}/hello`]);
    expect(res.stdout).to.equal('hello\n');
    node.kill('SIGTERM');
    expect(await node.exited()).to.equal(0);
    // curl has its answer; the node may not have counted the tunnel closed yet.
    expect(node.stderr()).to.match(/stopping \(SIGTERM\)(; draining 1 open tunnel for up to \d+ ms \(Ctrl-C again to exit now\))?\n/);
    expect(node.stderr()).to.match(/\nstopped in \d+ ms\n$/);
  });

  it('Ctrl-C with a tunnel open says it drains; a second Ctrl-C exits at once', async () => {
    node = spawnCli(['start', '--pport', '0', '--bport', '0', '--bind', '127.0.0.1']);
    const [, port] = await node.waitFor(/proxy listening on 127\.0\.0\.1:(\d+)/);
    // An idle tunnel: a download that drips for a minute.
    const download = spawn('curl', ['-sSN', '--socks5-hostname', `127.0.0.1:${port}`, `${origin.url}/slow?ms=60000`], { stdio: ['ignore', 'pipe', 'ignore'] });
    const exited = new Promise((r) => download.once('exit', r));
    await new Promise((r) => download.stdout.once('data', r));
    node.kill('SIGINT');
    await node.waitFor(/stopping \(SIGINT\); draining 1 open tunnel for up to \d+ ms \(Ctrl-C again to exit now\)/);
    const second = Date.now();
    node.kill('SIGINT');
    expect(await node.exited()).to.equal(130);
    expect(Date.now() - second).to.be.below(2000);
    expect(node.stderr()).to.match(/SIGINT again: exiting now, cutting open tunnels/);
    origin.finishSlow();
    await exited;
  });

  it('refuses an unknown policy with one clear line and a non-zero exit', async () => {
    const res = await run(process.execPath, [BIN, 'start', '--pport', '0', '--bport', '0', '--policy', 'no-such-policy']);
    expect(res.code).to.not.equal(0);
    expect(res.stderr).to.match(/policy "no-such-policy" is not contributed by any plugin \(available: .*least-busy.*round-robin/);
  });

  it('refuses a wrong flag', async () => {
    const res = await run(process.execPath, [BIN, 'start', '--pport', 'lots']);
    expect(res.code).to.not.equal(0);
    expect(res.stderr).to.match(/pport/);
  });

  it('refuses an interface this machine does not have, naming the ones it has', async () => {
    const res = await run(process.execPath, [BIN, 'start', '--pport', '0', '--bport', '0', '--bind', '127.0.0.1', '--interface', 'eth9nosuch']);
    expect(res.code).to.equal(1);
    expect(res.stderr.trim().split('\n')).to.have.length(1);
    expect(res.stderr).to.match(/^booster: cannot start: no such interface "eth9nosuch" on this machine \(it has: .*lo.*\)/);
  });

  it('reports a port already in use clearly', async () => {
    const res = await run(process.execPath, [BIN, 'start', '--pport', String(origin.port), '--bport', '0', '--bind', '127.0.0.1']);
    expect(res.code).to.not.equal(0);
    expect(res.stderr).to.match(/EADDRINUSE|in use/);
  });

  it('prints its version and protocol', async () => {
    const res = await run(process.execPath, [BIN, 'version', '--json']);
    expect(res.code).to.equal(0);
    expect(JSON.parse(res.stdout)).to.include({ protocol: '0.3' });
  });

  it('lists the plugins it found with their contributions', async () => {
    const res = await run(process.execPath, [BIN, 'plugins', '--json']);
    expect(res.code, res.stderr).to.equal(0);
    const plugins = JSON.parse(res.stdout) as { name: string; contributes: Record<string, string[]>; status: string }[];
    const byName = Object.fromEntries(plugins.map((p) => [p.name, p]));
    expect(byName['@booster/plugin-least-busy'].contributes.policies).to.deep.equal(['least-busy']);
    expect(byName['@booster/plugin-local'].contributes.dialers).to.deep.equal(['direct']);
    expect(plugins.every((p) => p.status === 'inactive')).to.equal(true);
  });
});
