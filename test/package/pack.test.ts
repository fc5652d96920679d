import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../helpers/exec';
import { startHttpServer, type TestHttpServer } from '../helpers/http';
import { REPO_ROOT } from '../helpers/paths';
import { getViaSocks } from '../helpers/socks';

// The published package, as a user gets it: `npm pack`, then `npm install -g`
// of the tarball into a throwaway prefix (dependencies from the registry, the
// built-in plugins from the tarball's bundle), then `booster start`. Slow and
// needs the npm registry, so it runs in CI (.ci/run sets BOOSTER_PACK_TEST=1)
// or when asked for, and is skipped with the reason otherwise.
const ENABLED = process.env.BOOSTER_PACK_TEST === '1' || process.env.CI === 'true';
const INSTALL_TIMEOUT_MS = 300_000;

/**
 * The environment of a user's shell: none of the npm_* settings of the `npm
 * test` running us, and no coverage collection (c8's NODE_V8_COVERAGE) of npm
 * itself or of the installed copy, which is not this checkout's code.
 */
function userEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_') && k !== 'NODE_V8_COVERAGE');
  return { ...Object.fromEntries(inherited), ...extra };
}

describe('npm package', function () {
  this.timeout(INSTALL_TIMEOUT_MS + 60_000);
  let tmp: string;
  let prefix: string;
  let installed: string;
  let origin: TestHttpServer | undefined;
  let node: ChildProcess | undefined;

  before(async function () {
    if (!ENABLED) {
      console.log('      (skipped: set BOOSTER_PACK_TEST=1 to pack and install the package; CI does)');
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-pack-'));
    prefix = path.join(tmp, 'prefix');
    // dist/ and the manifest are already built by `npm test`; --ignore-scripts keeps pack from rebuilding under the running tests.
    const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: REPO_ROOT, timeoutMs: 120_000, env: userEnv({}) });
    expect(pack.code, pack.stderr).to.equal(0);
    const [info] = JSON.parse(pack.stdout) as { filename: string; bundled: string[]; files: { path: string }[] }[];
    expect(info.bundled, 'the built-in plugins travel inside the tarball').to.include.members(builtinPlugins());
    const install = await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', path.join(tmp, info.filename)], {
      timeoutMs: INSTALL_TIMEOUT_MS,
      env: userEnv({}),
    });
    expect(install.code, `npm install -g failed:\n${install.stderr}`).to.equal(0);
    installed = path.join(prefix, 'lib', 'node_modules', 'booster');
  });

  after(async () => {
    node?.kill('SIGKILL');
    await origin?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('installs the booster command and every built-in plugin, each loading from the installed tree', async () => {
    const bin = path.join(prefix, 'bin', 'booster');
    expect(fs.existsSync(bin), `${bin} after npm install -g`).to.equal(true);
    // The entries resolve inside the install (not in this checkout) and export activate().
    const check = `for (const p of ${JSON.stringify(builtinPlugins())}) {
      const entry = require.resolve(p, { paths: [${JSON.stringify(installed)}] });
      if (!entry.startsWith(${JSON.stringify(installed + path.sep)})) throw new Error(p + ' resolved outside the install: ' + entry);
      if (typeof require(entry).activate !== 'function') throw new Error(p + ' exports no activate');
    }`;
    const loaded = await run(process.execPath, ['-e', check], { cwd: tmp, env: userEnv({}) });
    expect(loaded.code, loaded.stderr).to.equal(0);
    const listed = await run(bin, ['plugins', '--json'], { cwd: tmp, env: userEnv({ BOOSTER_HOME: path.join(tmp, 'home') }) });
    expect(listed.code, listed.stderr).to.equal(0);
    const plugins = JSON.parse(listed.stdout) as { name: string; status: string; root: string }[];
    expect(plugins.map((p) => p.name)).to.include.members(builtinPlugins());
    for (const p of plugins) {
      expect(p.status, `${p.name}: ${JSON.stringify(p)}`).to.not.be.oneOf(['invalid', 'failed']);
      expect(fs.realpathSync(p.root).startsWith(fs.realpathSync(installed)), `${p.name} at ${p.root}`).to.equal(true);
    }
  });

  it('`booster start` from the install serves SOCKS5 on loopback and stops on SIGTERM', async () => {
    origin = await startHttpServer();
    const home = path.join(tmp, 'home');
    node = spawn(path.join(prefix, 'bin', 'booster'), ['start', '--pport', '0', '--bport', '0', '--bind', '127.0.0.1', '--no-announce'], {
      cwd: tmp,
      env: userEnv({ BOOSTER_HOME: home, BOOSTER_ANNOUNCE: 'false' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = node;
    let log = '';
    const proxyPort = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "proxy listening" line within 30 s:\n${log}`)), 30_000);
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        const m = /proxy listening on 127\.0\.0\.1:(\d+)/.exec(log);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`booster start exited with ${code}:\n${log}`));
      });
    });
    const res = await getViaSocks(proxyPort, '127.0.0.1', origin.port, '/hello');
    expect(res.status).to.equal(200);
    expect(res.body.toString()).to.equal('hello\n');
    const code = await new Promise<number | null>((resolve) => {
      proc.once('exit', (c) => resolve(c));
      proc.kill('SIGTERM');
    });
    node = undefined;
    expect(code, log).to.equal(0);
  });
});

/** The built-in plugins the package must carry: the @booster packages it depends on. */
function builtinPlugins(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  return Object.keys(pkg.dependencies).filter((n) => n.startsWith('@booster/'));
}
