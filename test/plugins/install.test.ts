import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../helpers/exec';
import { BIN, spawnCli } from '../helpers/cli';
import { startHttpServer, type TestHttpServer } from '../helpers/http';
import { REPO_ROOT } from '../helpers/paths';

const EXAMPLE = path.join(REPO_ROOT, 'examples', 'policy-lowest-latency');

/** Pack the example plugin, install it with `booster plugins install`, use its policy, uninstall it. */
describe('third-party plugins: install, use, uninstall', function () {
  this.timeout(120_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let origin: TestHttpServer;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-plugins-'));
    // oclif keeps installed plugins under BOOSTER_DATA_DIR: an empty one per test run.
    env = { ...process.env, BOOSTER_DATA_DIR: path.join(dir, 'data'), BOOSTER_CACHE_DIR: path.join(dir, 'cache') };
    origin = await startHttpServer();
  });
  after(async () => {
    await origin.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => run(process.execPath, [BIN, ...args], { env, timeoutMs: 90_000 });

  it('installs the packed example, runs a node with its policy, and refuses the policy once uninstalled', async () => {
    expect(fs.existsSync(path.join(EXAMPLE, 'dist', 'index.js')), 'the build compiles examples/').to.equal(true);
    const pack = await run('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: EXAMPLE, timeoutMs: 60_000 });
    expect(pack.code, pack.stderr).to.equal(0);
    const tarball = path.join(dir, pack.stdout.trim().split('\n').pop()!);

    const install = await cli('plugins', 'install', tarball);
    expect(install.code, install.stderr).to.equal(0);

    const listed = JSON.parse((await cli('plugins', '--json')).stdout) as { name: string; origin: string; contributes: { policies?: string[] } }[];
    const mine = listed.find((p) => p.name === 'booster-plugin-lowest-latency');
    expect(mine, JSON.stringify(listed)).to.include({ origin: 'user' });
    expect(mine!.contributes.policies).to.deep.equal(['lowest-latency']);

    const node = spawnCli(['start', '--pport', '0', '--bport', '0', '--bind', '127.0.0.1', '--policy', 'lowest-latency', '--verbose'], env);
    try {
      const [, port] = await node.waitFor(/proxy listening on 127\.0\.0\.1:(\d+)/);
      const res = await run('curl', ['-sS', '--socks5-hostname', `127.0.0.1:${port}`, `${origin.url}/hello`]);
      expect(res.stdout).to.equal('hello\n');
      await node.waitFor(/lowest-latency chose direct for 127\.0\.0\.1:\d+/);
    } finally {
      node.kill('SIGTERM');
      await node.exited();
    }

    const uninstall = await cli('plugins', 'uninstall', 'booster-plugin-lowest-latency');
    expect(uninstall.code, uninstall.stderr).to.equal(0);
    const refused = await cli('start', '--pport', '0', '--bport', '0', '--bind', '127.0.0.1', '--policy', 'lowest-latency');
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/policy "lowest-latency" is not contributed by any plugin/);
  });
});
