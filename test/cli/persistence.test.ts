import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../helpers/exec';
import { BIN, spawnCli, type RunningCli } from '../helpers/cli';
import { FIXTURES } from '../helpers/paths';
import { freePort, waitUntil } from '../helpers/ports';

interface PolicyView {
  readonly policy: string;
  readonly rules: readonly { type: string; source?: string }[];
}

/** Peers, policy and rules that outlive the process: the config file's peers, the state file, --transient, ctrl restart. */
describe('booster CLI: persistent peers, policy and rules', function () {
  this.timeout(90_000);
  let dir: string;
  let keyFile: string;
  let env: NodeJS.ProcessEnv;
  const nodes: RunningCli[] = [];
  const cli = (...args: string[]) => run(process.execPath, [BIN, ...args], { env, timeoutMs: 30_000 });
  const count = (text: string, pattern: RegExp) => (text.match(new RegExp(pattern.source, 'g')) ?? []).length;

  /** A node in its own process, with its own data dir (state file) and the network's shared key. */
  async function startNode(name: string, ports: { bport: number; pport: number }, ...extra: string[]): Promise<RunningCli> {
    const node = spawnCli(
      [
        'start',
        '--bind',
        '127.0.0.1',
        '--bport',
        String(ports.bport),
        '--pport',
        String(ports.pport),
        '--data-dir',
        path.join(dir, name),
        '--key-file',
        keyFile,
        '--no-announce',
        ...extra,
      ],
      env,
    );
    nodes.push(node);
    await node.waitFor(/booster endpoint listening/);
    return node;
  }
  const ports = async () => ({ bport: await freePort(), pport: await freePort() });
  const policyOf = async (bport: number): Promise<PolicyView> => {
    const res = await cli('policy', 'list', '-n', `127.0.0.1:${bport}`, '--json');
    expect(res.code, res.stderr).to.equal(0);
    return JSON.parse(res.stdout) as PolicyView;
  };
  const stop = async (node: RunningCli) => {
    node.kill('SIGTERM');
    await node.exited();
  };

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-persist-'));
    keyFile = path.join(dir, 'network.key');
    // oclif's own data (linked plugins) in the test's directory, never the user's.
    env = { ...process.env, BOOSTER_DATA_DIR: path.join(dir, 'oclif-data'), BOOSTER_CACHE_DIR: path.join(dir, 'oclif-cache') };
    const made = await cli('key', 'new', '--key-file', keyFile);
    expect(made.code, made.stderr).to.equal(0);
  });
  afterEach(async () => {
    for (const node of nodes.splice(0)) {
      node.kill('SIGKILL');
      await node.exited();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("wires the config file's peers at start, under their names, and disconnect takes the name", async () => {
    const bPorts = await ports();
    const aPorts = await ports();
    await startNode('b', bPorts);
    const config = path.join(dir, 'a.json');
    fs.writeFileSync(config, `{\n  // B, by name\n  "peers": [{"address": "127.0.0.1:${bPorts.bport}", "name": "bee"}],\n}\n`);
    const a = await startNode('a', aPorts, '--config', config);
    await a.waitFor(/wired saved peer bee/);
    const status = await cli('status', '-n', `127.0.0.1:${aPorts.bport}`);
    expect(status.code, status.stderr).to.equal(0);
    expect(status.stdout).to.match(/^peer bee [0-9a-f]{40} {2}booster 127\.0\.0\.1:\d+/m);
    const sources = await cli('sources', '-n', `127.0.0.1:${aPorts.bport}`);
    expect(sources.stdout).to.include(`peer bee (127.0.0.1:${bPorts.bport})`);
    const bye = await cli('disconnect', '-n', `127.0.0.1:${aPorts.bport}`, 'bee', '--json');
    expect(bye.code, bye.stderr).to.equal(0);
    expect(JSON.parse(bye.stdout).node.baddr).to.equal(`127.0.0.1:${bPorts.bport}`);
    const unknown = await cli('disconnect', '-n', `127.0.0.1:${aPorts.bport}`, 'bee');
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.match(/no peer with id or name "bee"/);
  });

  it('keeps trying a configured peer that is not up yet, and wires it once it answers', async () => {
    const bPorts = await ports();
    const config = path.join(dir, 'a.json');
    fs.writeFileSync(config, JSON.stringify({ peers: [`127.0.0.1:${bPorts.bport}`] }));
    const a = await startNode('a', await ports(), '--config', config);
    await a.waitFor(/cannot wire peer 127\.0\.0\.1:\d+ yet \(.*\); trying again/);
    await startNode('b', bPorts);
    await a.waitFor(/wired saved peer 127\.0\.0\.1:\d+/, 20_000);
    expect(count(a.stderr(), /cannot wire peer/), 'one warning, then quiet retries').to.equal(1);
  });

  it('refuses a config file with a bad peer, saying which', async () => {
    const config = path.join(dir, 'bad.json');
    for (const [peers, message] of [
      ['[{"address": "127.0.0.1:4884", "name": "has space"}]', /peers\[0\]\.name must be 1-32 letters/],
      ['["127.0.0.1:99999"]', /peers\[0\] "127\.0\.0\.1:99999" is not HOST:PORT/],
      ['[{"adress": "127.0.0.1:4884"}]', /peers\[0\]: unknown key "adress"/],
      ['"127.0.0.1:4884"', /peers must be a list/],
      ['["127.0.0.1:4884", "127.0.0.1:4885"], "limits": {"maxPeers": 1}', /peers lists 2 peers, more than limits\.maxPeers \(1\)/],
    ] as const) {
      fs.writeFileSync(config, `{"peers": ${peers}}`);
      const res = await cli(
        'start',
        '--bind',
        '127.0.0.1',
        '--bport',
        '0',
        '--pport',
        '0',
        '--data-dir',
        path.join(dir, 'x'),
        '--key-file',
        keyFile,
        '--config',
        config,
      );
      expect(res.code, peers).to.equal(1);
      expect(res.stderr, peers).to.match(message);
    }
  });

  it('connect, policy use and rules persist across ctrl restart and a new process; --transient ones do not', async () => {
    const bPorts = await ports();
    const aPorts = await ports();
    await startNode('b', bPorts);
    let a = await startNode('a', aPorts);
    const aAddr = `127.0.0.1:${aPorts.bport}`;
    const connect = await cli('connect', '-n', aAddr, `127.0.0.1:${bPorts.bport}`, '--name', 'bee');
    expect(connect.code, connect.stderr).to.equal(0);
    expect(connect.stdout).to.match(/connected to 127\.0\.0\.1:\d+ as bee/);
    expect((await cli('policy', 'use', 'round-robin', '-n', aAddr)).code).to.equal(0);
    expect((await cli('policy', 'rules', 'add', 'avoid', 'direct', 'example.com', '-n', aAddr)).code).to.equal(0);
    // Transient: applied now, gone after a restart.
    const transient = await cli('policy', 'use', 'least-busy', '-n', aAddr, '--transient');
    expect(transient.stdout).to.match(/transient: not saved/);
    expect((await policyOf(aPorts.bport)).policy).to.equal('least-busy');

    const stateFile = path.join(dir, 'a', 'state.json');
    expect(fs.statSync(stateFile).mode & 0o777).to.equal(0o600);
    const saved = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    expect(saved).to.deep.include({ policy: 'round-robin', peers: [{ address: `127.0.0.1:${bPorts.bport}`, name: 'bee' }] });
    expect(saved.rules).to.deep.equal([{ type: 'avoid', source: 'direct', hosts: ['example.com'] }]);

    const restoredLike = async () => {
      const view = await policyOf(aPorts.bport);
      expect(view.policy).to.equal('round-robin');
      expect(view.rules).to.deep.equal([{ type: 'avoid', source: 'direct', hosts: ['example.com'] }]);
      const sources = await cli('sources', '-n', aAddr);
      expect(sources.stdout).to.include(`peer bee (127.0.0.1:${bPorts.bport})`);
    };

    const restart = await cli('ctrl', 'restart', '-n', aAddr);
    expect(restart.code, restart.stderr).to.equal(0);
    await waitUntil('the restarted node', () => count(a.stderr(), /booster endpoint listening/) >= 2, 20_000);
    await waitUntil('the saved peer wired again', () => count(a.stderr(), /wired saved peer bee/) >= 1, 20_000);
    await restoredLike();

    await stop(a);
    a = await startNode('a', aPorts);
    await a.waitFor(/wired saved peer bee/);
    await restoredLike();

    // A transient disconnect keeps the saved peer; a plain one forgets it.
    const keep = await cli('disconnect', '-n', aAddr, 'bee', '--transient');
    expect(keep.code, keep.stderr).to.equal(0);
    expect(JSON.parse(fs.readFileSync(stateFile, 'utf8')).peers).to.have.length(1);
    expect((await cli('connect', '-n', aAddr, `127.0.0.1:${bPorts.bport}`, '--transient')).code).to.equal(0);
    const forget = await cli('disconnect', '-n', aAddr, `127.0.0.1:${bPorts.bport}`);
    expect(forget.code, forget.stderr).to.equal(0);
    expect(JSON.parse(fs.readFileSync(stateFile, 'utf8')).peers).to.deep.equal([]);
  });

  it('the state file holds at most limits.maxPeers peers: a connect beyond says it was not saved', async () => {
    const [aPorts, bPorts, cPorts] = [await ports(), await ports(), await ports()];
    await startNode('b', bPorts);
    await startNode('c', cPorts);
    const config = path.join(dir, 'a.json');
    fs.writeFileSync(config, '{"limits": {"maxPeers": 1}}');
    await startNode('a', aPorts, '--config', config);
    const aAddr = `127.0.0.1:${aPorts.bport}`;
    expect((await cli('connect', '-n', aAddr, `127.0.0.1:${bPorts.bport}`)).code).to.equal(0);
    expect((await cli('disconnect', '-n', aAddr, `127.0.0.1:${bPorts.bport}`, '--transient')).code).to.equal(0);
    const over = await cli('connect', '-n', aAddr, `127.0.0.1:${cPorts.bport}`);
    expect(over.code, over.stderr).to.equal(0);
    expect(over.stdout).to.match(/connected to 127\.0\.0\.1:\d+, but could not save it: .*state\.json already holds 1 peers, the most limits\.maxPeers allows/);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'a', 'state.json'), 'utf8')).peers).to.deep.equal([{ address: `127.0.0.1:${bPorts.bport}` }]);
  });

  it('a --policy flag wins over the state file at start; ctrl restart keeps what policy use chose since', async () => {
    const aPorts = await ports();
    const aAddr = `127.0.0.1:${aPorts.bport}`;
    let a = await startNode('a', aPorts);
    expect((await cli('policy', 'use', 'round-robin', '-n', aAddr)).code).to.equal(0);
    await stop(a);
    a = await startNode('a', aPorts, '--policy', 'p2c');
    expect((await policyOf(aPorts.bport)).policy).to.equal('p2c');
    expect((await cli('policy', 'use', 'least-busy', '-n', aAddr)).code).to.equal(0);
    expect((await cli('ctrl', 'restart', '-n', aAddr)).code).to.equal(0);
    await waitUntil('the restarted node', () => count(a.stderr(), /booster endpoint listening/) >= 2, 20_000);
    expect((await policyOf(aPorts.bport)).policy).to.equal('least-busy');
  });

  it('a corrupt state file is one warning: the node starts from its config and keeps a copy', async () => {
    const aPorts = await ports();
    fs.mkdirSync(path.join(dir, 'a'), { recursive: true });
    const stateFile = path.join(dir, 'a', 'state.json');
    fs.writeFileSync(stateFile, '{"version": 1, "policy": ');
    const a = await startNode('a', aPorts);
    expect(count(a.stderr(), /ignoring the saved state/)).to.equal(1);
    expect(a.stderr()).to.match(/state\.json is not valid JSON; kept a copy as .*state\.json\.bad/);
    expect(fs.readFileSync(`${stateFile}.bad`, 'utf8')).to.equal('{"version": 1, "policy": ');
    expect((await policyOf(aPorts.bport)).policy).to.equal('bandwidth-weighted');
    // The next change writes a good file over it.
    expect((await cli('policy', 'use', 'round-robin', '-n', `127.0.0.1:${aPorts.bport}`)).code).to.equal(0);
    expect(JSON.parse(fs.readFileSync(stateFile, 'utf8')).policy).to.equal('round-robin');
  });

  it('ctrl restart finds a plugin linked since the process started, so its policy can be used', async () => {
    const aPorts = await ports();
    const aAddr = `127.0.0.1:${aPorts.bport}`;
    const a = await startNode('a', aPorts);
    const before = await cli('policy', 'use', 'first-listed', '-n', aAddr);
    expect(before.code).to.equal(1);
    expect(before.stderr).to.match(/policy "first-listed" is not contributed.*run "booster ctrl restart"/);
    const link = await cli('plugins', 'link', path.join(FIXTURES, 'plugins', 'extra-policy'));
    expect(link.code, link.stderr).to.equal(0);
    expect((await cli('ctrl', 'restart', '-n', aAddr)).code).to.equal(0);
    await waitUntil('the restarted node', () => count(a.stderr(), /booster endpoint listening/) >= 2, 20_000);
    const after = await cli('policy', 'use', 'first-listed', '-n', aAddr);
    expect(after.code, after.stderr).to.equal(0);
    expect(after.stdout).to.match(/policy: first-listed/);
    // The plugin goes away: the saved policy gives way to the config's, with a warning, rather than the node failing to come back.
    const unlink = await cli('plugins', 'unlink', 'fixture-extra-policy');
    expect(unlink.code, unlink.stderr).to.equal(0);
    expect((await cli('ctrl', 'restart', '-n', aAddr)).code).to.equal(0);
    await waitUntil('the second restart', () => count(a.stderr(), /booster endpoint listening/) >= 3, 20_000);
    expect(a.stderr()).to.match(/saved policy first-listed is not available .*; using bandwidth-weighted from the config/);
    expect((await policyOf(aPorts.bport)).policy).to.equal('bandwidth-weighted');
  });
});
