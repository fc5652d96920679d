import { expect } from 'chai';
import type { BoosterNode } from '../../src/core/node';
import { run } from '../helpers/exec';
import { BIN } from '../helpers/cli';
import { startTestNode } from '../helpers/node';
import { freePort } from '../helpers/ports';

/**
 * One way to address a node: -n/--node HOST:PORT on every command that talks
 * to one, $BOOSTER_NODE as the default, the 0.3 positional forms where they are
 * unambiguous, -t/--target as an alias; and errors: one line on stderr, or a
 * JSON envelope on stdout with --json, never silence.
 */
describe('booster CLI: addressing a node, and errors', function () {
  this.timeout(40_000);
  let a: BoosterNode;
  let b: BoosterNode;
  const addr = (n: BoosterNode) => `127.0.0.1:${n.endpointAddress.port}`;
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => run(process.execPath, [BIN, ...args], { env: { ...process.env, BOOSTER_NODE: '', ...env } });
  const statusId = async (args: string[], env?: NodeJS.ProcessEnv) => {
    const res = await cli(['status', '--json', ...args], env);
    expect(res.code, res.stderr).to.equal(0);
    return (JSON.parse(res.stdout) as { id: string }[])[0].id;
  };

  before(async () => {
    [a, b] = await Promise.all([startTestNode(), startTestNode()]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('status: --node, -n, the 0.3 positional form and $BOOSTER_NODE all name the node', async () => {
    expect(await statusId(['--node', addr(a)])).to.equal(a.id);
    expect(await statusId(['-n', addr(b)])).to.equal(b.id);
    expect(await statusId([addr(a)])).to.equal(a.id);
    expect(await statusId([], { BOOSTER_NODE: addr(b) })).to.equal(b.id);
    // An explicit node wins over the environment.
    expect(await statusId(['-n', addr(a)], { BOOSTER_NODE: addr(b) })).to.equal(a.id);
    expect(await statusId([addr(a)], { BOOSTER_NODE: addr(b) })).to.equal(a.id);
  });

  it('policy and monitor commands take -n too, and keep -t/--target as aliases', async () => {
    for (const flag of ['-n', '--node', '-t', '--target']) {
      const res = await cli(['policy', 'list', flag, addr(a), '--json']);
      expect(res.code, `${flag}: ${res.stderr}`).to.equal(0);
      expect(JSON.parse(res.stdout)).to.have.property('policy');
    }
    const env = await cli(['policy', 'list', '--json'], { BOOSTER_NODE: addr(a) });
    expect(env.code, env.stderr).to.equal(0);
  });

  it('naming the node twice, differently, is a usage error (exit 2), not a guess', async () => {
    const res = await cli(['status', '-n', addr(a), addr(b)]);
    expect(res.code).to.equal(2);
    expect(res.stderr.trim().split('\n')).to.have.length(1);
    expect(res.stderr).to.match(/named twice/);
  });

  it("connect and disconnect with -n; disconnect accepts the peer's address, and refuses an unknown one listing the peers", async () => {
    const connect = await cli(['connect', '-n', addr(a), addr(b)]);
    expect(connect.code, connect.stderr).to.equal(0);
    expect(a.network.list()).to.have.length(1);
    const missing = await cli(['disconnect', '-n', addr(a), `127.0.0.1:${await freePort()}`]);
    expect(missing.code).to.equal(1);
    expect(missing.stderr.trim().split('\n')).to.have.length(1);
    expect(missing.stderr).to.match(/has no peer at 127\.0\.0\.1:\d+; its peers: [0-9a-f]{40} \(127\.0\.0\.1:\d+\)/);
    expect(a.network.list()).to.have.length(1);
    const peerId = a.network.list()[0].id;
    const byAddress = await cli(['disconnect', '-n', addr(a), `localhost:${b.endpointAddress.port}`, '--json']);
    expect(byAddress.code, byAddress.stderr).to.equal(0);
    expect(JSON.parse(byAddress.stdout).node.id).to.equal(peerId);
    expect(a.network.list()).to.deep.equal([]);
  });

  it('--json: every error is { error: { code, message } } on stdout with a non-zero exit', async () => {
    const down = await cli(['status', '--json', '-n', `127.0.0.1:${await freePort()}`]);
    expect(down.code).to.equal(1);
    expect(JSON.parse(down.stdout)).to.deep.equal({ error: { code: 'failed', message: JSON.parse(down.stdout).error.message } });
    expect(JSON.parse(down.stdout).error.message).to.match(/refused the connection/);

    const bogus = await cli(['status', '--json', '--bogus']);
    expect(bogus.code).to.equal(2);
    expect(JSON.parse(bogus.stdout)).to.deep.equal({ error: { code: 'usage', message: 'Nonexistent flag: --bogus' } });
    expect(bogus.stdout.length).to.be.below(200);

    const ctrl = await cli(['ctrl', '--json', '-n', addr(a), 'frobnicate']);
    expect(ctrl.code).to.equal(2);
    expect(JSON.parse(ctrl.stdout).error).to.deep.equal({ code: 'usage', message: 'unknown operation "frobnicate": use stop, restart or reload' });
  });

  it('an unknown flag without --json is one line on stderr, exit 2', async () => {
    const res = await cli(['status', '--bogus']);
    expect(res.code).to.equal(2);
    expect(res.stdout).to.equal('');
    expect(res.stderr.trim().split('\n')).to.deep.equal(['booster: Nonexistent flag: --bogus (see: booster status --help)']);
  });

  it('plugins install of a path that does not exist fails at once with one clear line', async () => {
    const started = Date.now();
    const res = await cli(['plugins', 'install', './no-such-plugin-dir']);
    expect(res.code).to.equal(1);
    expect(res.stderr.trim().split('\n')).to.deep.equal([
      'booster: ./no-such-plugin-dir: no such file or folder (a plugin path must exist; npm packages are named without ./, ../ or /)',
    ]);
    // Not a network lookup (which took 70 s): under the CLI's own start-up time.
    expect(Date.now() - started).to.be.below(10_000);
    const json = await cli(['plugins', 'install', '/no/such/plugin.tgz', '--json']);
    expect(json.code).to.equal(1);
    expect(JSON.parse(json.stdout).error.message).to.match(/no such file or folder/);
  });

  it('topic help describes the topic, not one of its subcommands', async () => {
    for (const [topic, text] of [
      ['policy', /^The balancing policy of a running node/],
      ['key', /^The network key/],
      ['monitor', /^Live views of a running node/],
    ] as const) {
      const res = await cli([topic, '--help']);
      expect(res.code, res.stderr).to.equal(0);
      expect(res.stdout.trim()).to.match(text);
    }
  });

  it('a mistyped command gets the nearest command, one line, exit 127 (JSON with --json)', async () => {
    const typo = await cli(['stauts']);
    expect(typo.code).to.equal(127);
    expect(typo.stderr.trim().split('\n')).to.deep.equal(['booster: "stauts" is not a booster command; did you mean "status"? ("booster help" lists them)']);
    const nested = await cli(['policy', 'rules', 'lst', '--json']);
    expect(nested.code).to.equal(127);
    expect(JSON.parse(nested.stdout).error).to.deep.include({ code: 'not-found' });
    expect(JSON.parse(nested.stdout).error.message).to.match(/did you mean "policy rules list"\?/);
    const far = await cli(['zzzzzz']);
    expect(far.stderr).to.not.match(/did you mean/);
  });

  it("status shows a peer's own id when it differs; disconnect accepts that id too", async () => {
    const connect = await cli(['connect', '-n', addr(a), addr(b)]);
    expect(connect.code, connect.stderr).to.equal(0);
    const known = a.network.list()[0].id;
    // A knows B by the address it used (127.0.0.1); B calls itself after "localhost".
    expect(known).to.not.equal(b.id);
    const status = await cli(['status', '-n', addr(a)]);
    expect(status.code, status.stderr).to.equal(0);
    expect(status.stdout).to.include(`peer ${known}`);
    expect(status.stdout).to.include(`its own id: ${b.id} (0.3 derives a node's id from the address used to reach it`);
    const res = await cli(['disconnect', '-n', addr(a), b.id]);
    expect(res.code, res.stderr).to.equal(0);
    expect(a.network.list()).to.deep.equal([]);
  });
});
