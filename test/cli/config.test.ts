import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readConfigFile } from '../../src/core/config';
import { run } from '../helpers/exec';
import { BIN, spawnCli, type RunningCli } from '../helpers/cli';
import { freePort, waitUntil } from '../helpers/ports';

/** booster config init / show, and reloading a running node's config (SIGHUP, ctrl reload). */
describe('booster CLI: config init, show and reload', function () {
  this.timeout(60_000);
  let dir: string;
  const cli = (...args: string[]) => run(process.execPath, [BIN, ...args], { timeoutMs: 30_000 });
  let node: RunningCli | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-config-'));
  });
  afterEach(async () => {
    node?.kill('SIGKILL');
    await node?.exited();
    node = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('config init writes a commented starter file that loads, and keeps an existing one unless --force', async () => {
    const file = path.join(dir, 'booster.json');
    const first = await cli('config', 'init', file);
    expect(first.code, first.stderr).to.equal(0);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).to.match(/^\/\/ booster config file/);
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    expect(readConfigFile(file).settings).to.include({ pport: 1080, bport: 4884, policy: 'bandwidth-weighted' });
    fs.writeFileSync(file, text.replace('"pport": 1080', '"pport": 1081'));
    const again = await cli('config', 'init', file);
    expect(again.code).to.equal(2);
    expect(again.stderr).to.match(/already exists; use --force/);
    expect(fs.readFileSync(file, 'utf8')).to.include('"pport": 1081');
    const forced = await cli('config', 'init', file, '--force');
    expect(forced.code, forced.stderr).to.equal(0);
    expect(fs.readFileSync(file, 'utf8')).to.equal(text);
    // Without FILE: DIR/config.json, which start and config show read without --config.
    const implicit = await cli('config', 'init', '--data-dir', path.join(dir, 'data'));
    expect(implicit.code, implicit.stderr).to.equal(0);
    const shown = await cli('config', 'show', '--data-dir', path.join(dir, 'data'), '--json');
    expect(JSON.parse(shown.stdout).configFile).to.equal(path.join(dir, 'data', 'config.json'));
  });

  it('config show prints the effective settings and their origin, with secrets redacted', async () => {
    const file = path.join(dir, 'c.json');
    const secret = 'hunter2-very-secret';
    const key = 'a'.repeat(64);
    fs.writeFileSync(
      file,
      JSON.stringify({
        key,
        policy: 'round-robin',
        auth: { username: 'me', password: secret },
        peers: ['127.0.0.1:4999'],
        capacityProbe: { url: `http://u:${secret}@speed.example/x` },
      }),
    );
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir);
    fs.writeFileSync(
      path.join(dataDir, 'state.json'),
      JSON.stringify({ version: 1, peers: [{ address: '127.0.0.1:4998', name: 'saved' }], rules: [{ type: 'block', source: 'direct' }] }),
    );
    const json = await cli('config', 'show', '--config', file, '--data-dir', dataDir, '--json');
    expect(json.code, json.stderr).to.equal(0);
    expect(json.stdout).to.not.include(secret);
    expect(json.stdout).to.not.include(key);
    const view = JSON.parse(json.stdout);
    expect(view.settings.policy).to.equal('round-robin');
    expect(view.settings.auth).to.deep.equal({ username: 'me', password: '(redacted)' });
    expect(view.settings.capacityProbe.url).to.equal('http://u:(redacted)@speed.example/x');
    expect(view.origins).to.include({ policy: 'config file', rules: 'state file', pport: 'default', dataDir: 'command line' });
    expect(view.peers).to.deep.equal([
      { address: '127.0.0.1:4999', origin: 'config file' },
      { address: '127.0.0.1:4998', name: 'saved', origin: 'state file' },
    ]);
    const flagged = JSON.parse((await cli('config', 'show', '--config', file, '--data-dir', dataDir, '--policy', 'p2c', '--json')).stdout);
    expect(flagged.origins.policy).to.equal('command line');
    const text = await cli('config', 'show', '--config', file, '--data-dir', dataDir);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.not.include(secret);
    expect(text.stdout).to.match(/^policy +"round-robin" +\(config file\)$/m);
    expect(text.stdout).to.match(/^ {2}127\.0\.0\.1:4998 as saved {2}\(state file\)$/m);
    const broken = await cli('config', 'show', '--config', path.join(dir, 'missing.json'), '--json');
    expect(broken.code).to.equal(1);
    expect(JSON.parse(broken.stdout).error.message).to.match(/cannot read config file/);
  });

  it('SIGHUP and ctrl reload apply policy, rules and peers from the edited config, refuse a broken one, and name what needs a restart', async () => {
    const file = path.join(dir, 'node.json');
    const bport = await freePort();
    const pport = await freePort();
    const write = (settings: Record<string, unknown>) =>
      fs.writeFileSync(
        file,
        `// edited by the test\n${JSON.stringify({ bind: '127.0.0.1', bport, pport, discovery: { announce: false }, ...settings }, null, 2)}`,
      );
    write({});
    node = spawnCli(['start', '--config', file, '--data-dir', path.join(dir, 'data')]);
    await node.waitFor(/booster endpoint listening/);
    const addr = `127.0.0.1:${bport}`;
    const policy = async () => JSON.parse((await cli('policy', 'list', '-n', addr, '--json')).stdout) as { policy: string; rules: unknown[] };

    write({ policy: 'round-robin', rules: [{ type: 'avoid', source: 'direct', hosts: ['example.com'] }] });
    node.child.kill('SIGHUP');
    await node.waitFor(/config reloaded, applied: policy round-robin, 1 rule$/m);
    expect(await policy()).to.deep.include({ policy: 'round-robin', rules: [{ type: 'avoid', source: 'direct', hosts: ['example.com'] }] });

    fs.writeFileSync(file, '{"policy": "least-busy",, }');
    const refused = await cli('ctrl', 'reload', '-n', addr);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/config not reloaded, nothing changed: .*not valid JSON \(syntax error at line 1, column 25\)/);
    expect(node.stderr()).to.match(/ERROR.*config not reloaded|config not reloaded.*/);
    expect((await policy()).policy).to.equal('round-robin');
    write({ policy: 'no-such-policy' });
    const unknown = await cli('ctrl', 'reload', '-n', addr);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.match(/config not reloaded: policy "no-such-policy" is not contributed/);
    expect((await policy()).policy).to.equal('round-robin');

    const peer = spawnCli(['start', '--bind', '127.0.0.1', '--bport', '0', '--pport', '0', '--no-announce', '--data-dir', path.join(dir, 'data')]);
    try {
      const [, peerPort] = await peer.waitFor(/booster endpoint listening on 127\.0\.0\.1:(\d+)/);
      write({
        policy: 'round-robin',
        rules: [{ type: 'avoid', source: 'direct', hosts: ['example.com'] }],
        peers: [{ address: `127.0.0.1:${peerPort}`, name: 'late' }],
        heartbeatMs: 500,
      });
      const reload = await cli('ctrl', 'reload', '-n', addr, '--json');
      expect(reload.code, reload.stderr).to.equal(0);
      expect(JSON.parse(reload.stdout).message).to.equal(
        `config reloaded, applied: peer added late (127.0.0.1:${peerPort}); needs a restart ("booster ctrl restart") to take effect: heartbeatMs`,
      );
      await node.waitFor(/wired saved peer late/);
      write({ policy: 'round-robin', rules: [{ type: 'avoid', source: 'direct', hosts: ['example.com'] }], heartbeatMs: 500 });
      expect((await cli('ctrl', 'reload', '-n', addr)).stdout).to.match(/applied: peer removed 127\.0\.0\.1:\d+;/);
      await waitUntil('the peer dropped', async () => !(await cli('sources', '-n', addr)).stdout.includes('peer late'), 10_000);
    } finally {
      peer.kill('SIGKILL');
      await peer.exited();
    }
    expect(node.child.exitCode, 'the node kept running').to.equal(null);
  });
});
