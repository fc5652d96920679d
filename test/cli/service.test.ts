import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN } from '../helpers/cli';
import { run } from '../helpers/exec';

const SYSTEMD_ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => fs.existsSync(p));

/** `booster service …` with HOME (and so the user unit directory) in a temporary directory. */
function service(home: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const clean: NodeJS.ProcessEnv = { ...process.env, HOME: home, ...env };
  delete clean.XDG_CONFIG_HOME;
  return run(process.execPath, [BIN, 'service', ...args], { env: clean });
}

/** systemd-analyze's complaints about this unit (it exits 0 on unknown keys or bad values, so its stderr is what counts). */
async function verify(unitFile: string, user: boolean): Promise<string[]> {
  const runtime = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-run-'));
  const res = await run(SYSTEMD_ANALYZE!, [...(user ? ['--user'] : []), 'verify', unitFile], { env: { ...process.env, XDG_RUNTIME_DIR: runtime } });
  fs.rmSync(runtime, { recursive: true, force: true });
  return res.stderr.split('\n').filter((l) => l.includes(path.basename(unitFile)) || /Failed/.test(l));
}

describe('booster service install/uninstall (real CLI)', function () {
  this.timeout(30_000);
  let home: string;
  let unitFile: string;

  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-svc-home-'));
    unitFile = path.join(home, '.config', 'systemd', 'user', 'booster.service');
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('--dry-run prints the user unit, running this node and bin with the given config, and writes nothing', async () => {
    const config = path.join(home, 'my booster.json');
    fs.writeFileSync(config, JSON.stringify({ drainTimeoutMs: 20_000 }));
    const res = await service(home, ['install', '--dry-run', '--config', config]);
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout).to.include(`ExecStart=${process.execPath} ${fs.realpathSync(BIN)} start --config "${config}"\n`);
    expect(res.stdout).to.include('Restart=on-failure\n');
    // The node's drain (20 s, from the config) plus 10 s.
    expect(res.stdout).to.include('TimeoutStopSec=30\n');
    expect(res.stderr).to.include(`would be written to ${unitFile}`);
    expect(res.stderr).to.include('systemctl --user daemon-reload && systemctl --user enable --now booster');
    expect(fs.existsSync(unitFile)).to.equal(false);
  });

  it('--dry-run --system prints a hardened unit with its state directory', async () => {
    const res = await service(home, ['install', '--system', '--dry-run']);
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout).to.match(/\nExecStart=\S+ \S+ start --data-dir \/var\/lib\/booster\n/);
    expect(res.stdout).to.include('\nDynamicUser=yes\n');
    expect(res.stdout).to.include('\nProtectSystem=strict\n');
    expect(res.stdout).to.include('\nStateDirectory=booster\n');
    expect(res.stderr).to.include('systemctl daemon-reload && systemctl enable --now booster');
  });

  it('refuses a config the node could not start with', async () => {
    const config = path.join(home, 'bad.json');
    fs.writeFileSync(config, '{"pportt": 1}');
    const res = await service(home, ['install', '--dry-run', '--config', config]);
    expect(res.code).to.equal(1);
    expect(res.stderr.trim().split('\n')).to.have.length(1);
    expect(res.stderr).to.match(/unknown setting "pportt"/);
  });

  it('installs the user unit, refuses to overwrite it without --force, and uninstalls it', async () => {
    const first = await service(home, ['install']);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.include(`wrote ${unitFile}`);
    expect(first.stdout).to.include('systemctl --user daemon-reload && systemctl --user enable --now booster');
    expect(fs.readFileSync(unitFile, 'utf8')).to.match(/^ExecStart=\/\S+ \/\S+\/bin\/run start$/m);
    expect(fs.statSync(unitFile).mode & 0o777).to.equal(0o644);

    fs.appendFileSync(unitFile, '# my edit\n');
    const again = await service(home, ['install']);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.match(/already exists; pass --force to replace it/);
    expect(fs.readFileSync(unitFile, 'utf8')).to.include('# my edit');

    const forced = await service(home, ['install', '--force', '--log-format', 'json']);
    expect(forced.code, forced.stderr).to.equal(0);
    expect(fs.readFileSync(unitFile, 'utf8')).to.not.include('# my edit');
    expect(fs.readFileSync(unitFile, 'utf8')).to.match(/start --log-format json$/m);

    const removed = await service(home, ['uninstall']);
    expect(removed.code, removed.stderr).to.equal(0);
    expect(removed.stdout).to.include(`removed ${unitFile}`);
    expect(fs.existsSync(unitFile)).to.equal(false);
    const twice = await service(home, ['uninstall']);
    expect(twice.code).to.equal(1);
    expect(twice.stderr).to.match(/no booster unit at .*nothing to remove/);
  });

  it('uninstall refuses an enabled unit, and --disable runs systemctl around the removal', async () => {
    expect((await service(home, ['install'])).code).to.equal(0);
    const wants = path.join(path.dirname(unitFile), 'default.target.wants');
    fs.mkdirSync(wants);
    fs.symlinkSync(unitFile, path.join(wants, 'booster.service'));
    const refused = await service(home, ['uninstall']);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/still enabled .*systemctl --user disable --now booster/);
    expect(fs.existsSync(unitFile)).to.equal(true);

    // A stand-in systemctl that records its calls and does what disable does.
    const bin = path.join(home, 'bin');
    const calls = path.join(home, 'calls');
    fs.mkdirSync(bin);
    fs.writeFileSync(
      path.join(bin, 'systemctl'),
      `#!/bin/sh\necho "$*" >> '${calls}'\n[ "$2" = disable ] && rm -f '${path.join(wants, 'booster.service')}'\nexit 0\n`,
      { mode: 0o755 },
    );
    const res = await service(home, ['uninstall', '--disable'], { PATH: `${bin}:${process.env.PATH}` });
    expect(res.code, res.stderr).to.equal(0);
    expect(fs.readFileSync(calls, 'utf8')).to.equal('--user disable --now booster\n--user daemon-reload\n');
    expect(fs.existsSync(unitFile)).to.equal(false);
  });

  it('install --enable runs daemon-reload then enable --now, and reports a failing systemctl', async () => {
    const bin = path.join(home, 'bin');
    const calls = path.join(home, 'calls');
    fs.mkdirSync(bin);
    fs.writeFileSync(
      path.join(bin, 'systemctl'),
      `#!/bin/sh\necho "$*" >> '${calls}'\n[ "$2" = enable ] && { echo "Failed to connect to bus" >&2; exit 1; }\nexit 0\n`,
      { mode: 0o755 },
    );
    const res = await service(home, ['install', '--enable'], { PATH: `${bin}:${process.env.PATH}` });
    expect(res.code).to.equal(1);
    expect(fs.readFileSync(calls, 'utf8')).to.equal('--user daemon-reload\n--user enable --now booster\n');
    expect(res.stderr).to.match(/systemctl --user enable --now booster failed: Failed to connect to bus/);
    expect(fs.existsSync(unitFile)).to.equal(true);
  });

  it('a system install without root is refused with what to do', async function () {
    // As root, drop to nobody (setpriv): root would write /etc/systemd/system for real.
    const asRoot = process.getuid?.() === 0;
    if (asRoot && !fs.existsSync('/usr/bin/setpriv')) {
      console.log('      (skipped: running as root without setpriv to drop privileges)');
      return this.skip();
    }
    if (asRoot) {
      // nobody must be able to reach the checkout (a clone under a 0700 directory cannot).
      const reach = await run('/usr/bin/setpriv', [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        '-e',
        `require('fs').accessSync(${JSON.stringify(BIN)})`,
      ]);
      if (reach.code !== 0) {
        console.log(`      (skipped: user nobody cannot read ${BIN}: a directory above it is private)`);
        return this.skip();
      }
      fs.chmodSync(home, 0o755);
    }
    const res = asRoot
      ? await run('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'service', 'install', '--system'], {
          env: { ...process.env, HOME: home },
        })
      : await service(home, ['install', '--system']);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.match(/cannot write \/etc\/systemd\/system\/booster\.service: permission denied \(a system unit needs root/);
  });

  it('systemd-analyze verify accepts both units', async function () {
    if (!SYSTEMD_ANALYZE) {
      console.log('      (skipped: no systemd-analyze on this machine to verify the units)');
      return this.skip();
    }
    for (const scope of ['--user', '--system']) {
      const res = await service(home, ['install', scope, '--dry-run']);
      const file = path.join(home, `booster${scope}.service`);
      fs.writeFileSync(file, res.stdout);
      expect(await verify(file, scope === '--user'), scope).to.deep.equal([]);
      // The check can fail: a typo in a directive is reported.
      fs.writeFileSync(file, res.stdout.replace('Restart=on-failure', 'Restart=sometimes'));
      expect(await verify(file, scope === '--user'), scope).to.have.length.above(0);
    }
  });
});
