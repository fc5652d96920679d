import { expect } from 'chai';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as util from 'node:util';
import * as QRCode from 'qrcode';
import { readConfigFile, resolveSettings } from '../../src/core/config';
import { NetworkKey } from '../../src/security/key';
import { BIN, spawnCli, type RunningCli } from '../helpers/cli';
import { run, type ExecResult } from '../helpers/exec';

/** A fresh random key's text, as `booster key show` prints it. */
const randomKeyText = () => crypto.randomBytes(32).toString('hex');

/** True when any 12 characters in a row of the key (hex either case, or base64) appear in `output`. */
function leaks(output: string, keyText: string): boolean {
  const bytes = Buffer.from(keyText, 'hex');
  const forms = [keyText.toLowerCase(), keyText.toUpperCase(), bytes.toString('base64'), bytes.toString('base64url')];
  return forms.some((form) => {
    for (let i = 0; i + 12 <= form.length; i++) if (output.includes(form.slice(i, i + 12))) return true;
    return false;
  });
}

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe('booster key new|show, and the network key of booster start', function () {
  this.timeout(30_000);
  let dir: string;
  let dataDir: string;
  /** The CLI with no BOOSTER_KEY (an empty one counts as unset), whatever the developer's shell has. */
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...process.env, BOOSTER_KEY: '', ...extra });
  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<ExecResult> => run(process.execPath, [BIN, ...args], { env: env(extra) });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-key-'));
    dataDir = path.join(dir, 'data');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('key new', () => {
    it('writes a 0600 key file of at least 256 bits in a 0700 data dir, and prints its path and fingerprint, not the key', async () => {
      const res = await cli(['key', 'new', '--data-dir', dataDir]);
      expect(res.code, res.stderr).to.equal(0);
      const file = path.join(dataDir, 'network.key');
      expect(mode(file).toString(8)).to.equal('600');
      expect(mode(dataDir).toString(8)).to.equal('700');
      const text = fs.readFileSync(file, 'utf8').trim();
      expect(text).to.match(/^[0-9a-f]+$/);
      expect(Buffer.from(text, 'hex').length * 8).to.be.at.least(256);
      const key = NetworkKey.parse(text, 'test');
      expect(res.stdout).to.include(file).and.to.include(key.fingerprint);
      expect(leaks(res.stdout + res.stderr, text)).to.equal(false);
    });

    it('refuses to overwrite a key; --force replaces it and warns that every node needs the new one', async () => {
      expect((await cli(['key', 'new', '--data-dir', dataDir])).code).to.equal(0);
      const file = path.join(dataDir, 'network.key');
      const first = fs.readFileSync(file, 'utf8');

      const again = await cli(['key', 'new', '--data-dir', dataDir]);
      expect(again.code).to.equal(1);
      expect(again.stderr).to.match(/already exists.*--force/);
      expect(fs.readFileSync(file, 'utf8')).to.equal(first);
      expect(fs.readdirSync(dataDir)).to.deep.equal(['network.key']);

      const forced = await cli(['key', 'new', '--data-dir', dataDir, '--force', '--json']);
      expect(forced.code, forced.stderr).to.equal(0);
      const second = fs.readFileSync(file, 'utf8');
      expect(second).to.not.equal(first);
      expect(mode(file).toString(8)).to.equal('600');
      expect(JSON.parse(forced.stdout)).to.deep.equal({ file, fingerprint: NetworkKey.parse(second, 't').fingerprint, replaced: true });
      expect(forced.stderr).to.match(/every node .* must get the new key/);
      expect(leaks(forced.stdout + forced.stderr, second.trim())).to.equal(false);
    });

    it('writes to --key-file instead of the data dir', async () => {
      const file = path.join(dir, 'elsewhere', 'home.key');
      const res = await cli(['key', 'new', '--key-file', file, '--data-dir', dataDir]);
      expect(res.code, res.stderr).to.equal(0);
      expect(mode(file).toString(8)).to.equal('600');
      expect(fs.existsSync(dataDir)).to.equal(false);
    });
  });

  describe('key show', () => {
    it('prints the key and its fingerprint; --json gives key, fingerprint and file', async () => {
      await cli(['key', 'new', '--data-dir', dataDir]);
      const file = path.join(dataDir, 'network.key');
      const text = fs.readFileSync(file, 'utf8').trim();
      const { fingerprint } = NetworkKey.parse(text, 't');

      const res = await cli(['key', 'show', '--data-dir', dataDir]);
      expect(res.code, res.stderr).to.equal(0);
      expect(res.stdout).to.include(text).and.to.include(fingerprint);
      expect(Buffer.from(res.stdout, 'latin1').toString('utf8')).to.not.match(/[█▀▄]/);

      const json = await cli(['key', 'show', '--data-dir', dataDir, '--json']);
      expect(json.code, json.stderr).to.equal(0);
      expect(JSON.parse(json.stdout)).to.deep.equal({ key: text, fingerprint, file });
    });

    it('--qr draws a QR code of the key (dark modules as blocks, with a quiet zone) above the text', async () => {
      await cli(['key', 'new', '--data-dir', dataDir]);
      const text = fs.readFileSync(path.join(dataDir, 'network.key'), 'utf8').trim();
      const res = await cli(['key', 'show', '--data-dir', dataDir, '--qr']);
      expect(res.code, res.stderr).to.equal(0);
      expect(res.stdout).to.include(text);

      const stdout = Buffer.from(res.stdout, 'latin1').toString('utf8'); // run() keeps stdout's bytes as latin1
      const lines = stdout.split('\n');
      const block = lines.slice(
        0,
        lines.findIndex((l) => l.startsWith('network key')),
      );
      expect(block.length, stdout).to.be.at.least(10);
      expect(
        block.every((l) => /^[ █▀▄]+$/.test(l) && l.length === block[0].length),
        stdout,
      ).to.equal(true);
      expect(block.filter((l) => /[█▀▄]/.test(l)).length).to.be.at.least(10);

      // Read the modules back from the half blocks and compare them with the QR code of the key.
      const expected = QRCode.create(text.toUpperCase(), { errorCorrectionLevel: 'M' }).modules;
      const dark = (r: number, c: number) => {
        const ch = block[Math.floor(r / 2)]?.[c] ?? ' ';
        return ch === '█' || (r % 2 === 0 ? ch === '▀' : ch === '▄');
      };
      const margin = 2;
      for (let r = 0; r < expected.size; r++) {
        for (let c = 0; c < expected.size; c++) expect(dark(r + margin, c + margin), `module ${r},${c}`).to.equal(Boolean(expected.get(r, c)));
      }
      for (let i = 0; i < margin; i++) expect(dark(i, margin) || dark(margin, i), 'quiet zone').to.equal(false);
      // The code holds the hex in uppercase (QR alphanumeric mode): the same key.
      expect(NetworkKey.parse(text.toUpperCase(), 'qr').equals(NetworkKey.parse(text, 'file'))).to.equal(true);
    });

    it('reads --key-file, else BOOSTER_KEY, else the data dir', async () => {
      await cli(['key', 'new', '--data-dir', dataDir]);
      const inDir = fs.readFileSync(path.join(dataDir, 'network.key'), 'utf8').trim();
      const fromEnv = randomKeyText();
      const keyFile = path.join(dir, 'other.key');
      const fromFile = randomKeyText();
      fs.writeFileSync(keyFile, fromFile + '\n', { mode: 0o600 });

      const show = async (args: string[], extra: NodeJS.ProcessEnv = {}) =>
        JSON.parse((await cli(['key', 'show', '--json', '--data-dir', dataDir, ...args], extra)).stdout);
      expect(await show([])).to.include({ key: inDir });
      expect(await show([], { BOOSTER_KEY: fromEnv })).to.include({ key: fromEnv, file: null });
      expect(await show(['--key-file', keyFile], { BOOSTER_KEY: fromEnv })).to.include({ key: fromFile, file: keyFile });
    });

    it('says how to make a key when there is none', async () => {
      const res = await cli(['key', 'show', '--data-dir', dataDir]);
      expect(res.code).to.equal(1);
      expect(res.stderr.trim()).to.match(/^booster: no network key yet: run "booster key new"/);
      expect(res.stderr.trim().split('\n')).to.have.length(1);
      expect(fs.existsSync(dataDir)).to.equal(false);
    });

    it('refuses a malformed key file without printing what it holds', async () => {
      const keyFile = path.join(dir, 'short.key');
      const short = crypto.randomBytes(16).toString('hex');
      fs.writeFileSync(keyFile, short, { mode: 0o600 });
      const res = await cli(['key', 'show', '--key-file', keyFile]);
      expect(res.code).to.equal(1);
      expect(res.stderr).to.match(/has 128 bits; at least 256 are required/);
      expect(res.stderr + res.stdout).to.not.include(short.slice(0, 12));
    });
  });

  describe('booster start', () => {
    let node: RunningCli | undefined;
    afterEach(async () => {
      node?.kill('SIGKILL');
      await node?.exited();
      node = undefined;
    });

    const base = ['start', '--pport', '0', '--bport', '0', '--bind', '127.0.0.1'];
    /** Starts a node, waits until it listens, stops it with SIGTERM; returns its whole log. */
    async function startAndStop(args: string[], extra: NodeJS.ProcessEnv = {}, whileRunning?: (bport: number) => Promise<void>): Promise<string> {
      node = spawnCli([...base, ...args], env(extra));
      const [, bport] = await node.waitFor(/booster endpoint listening on 127\.0\.0\.1:(\d+)/);
      await whileRunning?.(Number(bport));
      node.kill('SIGTERM');
      expect(await node.exited(), node.stderr()).to.equal(0);
      return node.stderr();
    }

    it('without a key, creates one in the data dir (0600) and says so in one line', async () => {
      const log = await startAndStop(['--data-dir', dataDir]);
      const file = path.join(dataDir, 'network.key');
      expect(mode(file).toString(8)).to.equal('600');
      const key = NetworkKey.read(file);
      const created = log.match(/created a network key in (\S+) \(fingerprint ([0-9a-f]+)\); run "booster key show --qr" to add other devices/g) ?? [];
      expect(created, log).to.have.length(1);
      expect(created[0]).to.include(file).and.to.include(key.fingerprint);
      expect(log).to.not.match(/network key \S+ \(from/);
      expect(leaks(log, key.reveal())).to.equal(false);

      // The next start uses that key, and says where it came from.
      const again = await startAndStop(['--data-dir', dataDir]);
      expect(again).to.include(`network key ${key.fingerprint} (from ${file})`);
      expect(again).to.not.include('created a network key');
      expect(NetworkKey.read(file).equals(key)).to.equal(true);
    });

    it('nodes starting at once in one fresh data dir agree on one key', async () => {
      const nodes = [0, 1, 2, 3].map(() => spawnCli([...base, '--data-dir', dataDir], env()));
      try {
        await Promise.all(nodes.map((n) => n.waitFor(/booster endpoint listening/)));
        const fingerprint = NetworkKey.read(path.join(dataDir, 'network.key')).fingerprint;
        const logs = nodes.map((n) => n.stderr());
        expect(
          logs.filter((log) => log.includes('created a network key')),
          logs.join('\n'),
        ).to.have.length(1);
        for (const log of logs) expect(log).to.match(new RegExp(`(fingerprint|network key) ${fingerprint}`));
        expect(fs.readdirSync(dataDir)).to.deep.equal(['network.key']);
      } finally {
        for (const n of nodes) n.kill('SIGKILL');
        await Promise.all(nodes.map((n) => n.exited()));
      }
    });

    it('takes BOOSTER_KEY, logs only its fingerprint (even with --verbose), and status does not show it', async () => {
      const text = randomKeyText();
      const fingerprint = NetworkKey.parse(text, 't').fingerprint;
      let status: ExecResult | undefined;
      const log = await startAndStop(['--data-dir', dataDir, '--verbose'], { BOOSTER_KEY: text }, async (bport) => {
        status = await cli(['status', `127.0.0.1:${bport}`, '--json'], { BOOSTER_KEY: text });
      });
      expect(log).to.include(`network key ${fingerprint} (from BOOSTER_KEY)`);
      expect(fs.existsSync(path.join(dataDir, 'network.key'))).to.equal(false);
      expect(leaks(log, text), log).to.equal(false);
      expect(status!.code, status!.stderr).to.equal(0);
      expect(leaks(status!.stdout + status!.stderr, text)).to.equal(false);
    });

    it('--key-file wins over BOOSTER_KEY and the data dir', async () => {
      await cli(['key', 'new', '--data-dir', dataDir]);
      const keyFile = path.join(dir, 'mine.key');
      const text = randomKeyText();
      fs.writeFileSync(keyFile, text, { mode: 0o600 });
      const log = await startAndStop(['--data-dir', dataDir, '--key-file', keyFile], { BOOSTER_KEY: randomKeyText() });
      expect(log).to.include(`network key ${NetworkKey.parse(text, 't').fingerprint} (from ${keyFile})`);
      expect(leaks(log, text)).to.equal(false);
    });

    it('takes "key", or "keyFile" relative to the config file, from the config file', async () => {
      const text = randomKeyText();
      const config = path.join(dir, 'booster.json');
      fs.writeFileSync(config, JSON.stringify({ key: text, dataDir }));
      let log = await startAndStop(['--config', config]);
      expect(log).to.include(`network key ${NetworkKey.parse(text, 't').fingerprint} (from the config file)`);
      expect(leaks(log, text)).to.equal(false);
      expect(fs.existsSync(dataDir)).to.equal(false);

      const other = randomKeyText();
      fs.mkdirSync(path.join(dir, 'keys'));
      fs.writeFileSync(path.join(dir, 'keys', 'home.key'), other, { mode: 0o600 });
      fs.writeFileSync(config, JSON.stringify({ keyFile: 'keys/home.key', dataDir }));
      log = await startAndStop(['--config', config]);
      expect(log).to.include(`network key ${NetworkKey.parse(other, 't').fingerprint} (from ${path.join(dir, 'keys', 'home.key')})`);
    });

    it('warns about a key file other users can read', async () => {
      const keyFile = path.join(dir, 'open.key');
      fs.writeFileSync(keyFile, randomKeyText(), { mode: 0o644 });
      fs.chmodSync(keyFile, 0o644);
      const log = await startAndStop(['--data-dir', dataDir, '--key-file', keyFile]);
      expect(log).to.match(/WARN .*network key file .*open\.key is readable by other users \(mode 644\); run: chmod 600/);
    });

    it('fails with one clear line, without the key, on a bad key', async () => {
      const short = crypto.randomBytes(16).toString('hex');
      const notHex = `${randomKeyText()}!`;
      const cut = randomKeyText().slice(0, 63);
      const cases: [string[], NodeJS.ProcessEnv, RegExp, string][] = [
        [[], { BOOSTER_KEY: short }, /network key from BOOSTER_KEY has 128 bits; at least 256 are required/, short],
        [[], { BOOSTER_KEY: notHex }, /network key from BOOSTER_KEY is not hex or base64/, notHex],
        [[], { BOOSTER_KEY: cut }, /network key from BOOSTER_KEY has an odd number of hex digits/, cut],
        [['--key-file', path.join(dir, 'missing.key')], {}, /cannot read the network key file .*missing\.key: no such file/, ''],
        [['--key-file', dir], {}, /cannot read the network key file .*: it is a directory/, ''],
      ];
      for (const [args, extra, message, secret] of cases) {
        const res = await run(process.execPath, [BIN, ...base, '--data-dir', dataDir, ...args], { env: env(extra) });
        expect(res.code, res.stderr).to.equal(1);
        expect(res.stderr.trim()).to.match(new RegExp(`^booster: cannot start: .*${message.source}`));
        expect(res.stderr.trim().split('\n'), res.stderr).to.have.length(1);
        if (secret) expect(res.stderr + res.stdout).to.not.include(secret.slice(0, 12));
      }
      expect(fs.existsSync(dataDir), 'no key is created when the given one is bad').to.equal(false);
    });

    it('never echoes the key from a config file it refuses', async () => {
      const text = `c${randomKeyText().slice(1)}`; // a letter first: unquoted, JSON.parse's message quotes the text and names no position
      const config = path.join(dir, 'bad.json');
      const cases: [string, RegExp][] = [
        // Comments and trailing commas are allowed (JSONC); a missing comma is not.
        [`{\n  "key": "${text}"\n  "pport": 1\n}`, /not valid JSON \(syntax error at line 3, column 3/],
        [`{\n  "pport": 0,\n  "key": ${text}\n}`, /not valid JSON \(syntax error at line 3, column 10\)/],
        [`{"key": "${text}"`, /not valid JSON/],
        [JSON.stringify({ key: text, networkKey: text }), /unknown setting "networkKey"/],
        [JSON.stringify({ key: text, ppport: 1 }), /unknown setting "ppport"/],
        [JSON.stringify({ key: Number.parseInt(text.slice(0, 12), 16) }), /"key" must be a string/],
        [JSON.stringify({ key: text.slice(0, 40) }), /network key from the config file has 160 bits/],
      ];
      for (const [content, message] of cases) {
        fs.writeFileSync(config, content);
        const res = await run(process.execPath, [BIN, ...base, '--data-dir', dataDir, '--config', config], { env: env() });
        expect(res.code, res.stderr).to.equal(1);
        expect(res.stderr, content).to.match(message);
        expect(leaks(res.stderr + res.stdout, text), res.stderr).to.equal(false);
        expect(res.stderr + res.stdout).to.not.include(String(Number.parseInt(text.slice(0, 12), 16)));
      }
    });

    it('maps --allow-clients and --allow-legacy-peers to the settings (checked like the config file)', async () => {
      for (const flag of ['--allow-clients', '--allow-legacy-peers']) {
        const res = await run(process.execPath, [BIN, ...base, '--data-dir', dataDir, flag, '192.168.1.0/24', flag, 'not-a-cidr'], { env: env() });
        expect(res.code).to.equal(1);
        const name = flag === '--allow-clients' ? 'allowClients' : 'allowLegacyPeers';
        expect(res.stderr).to.include(`${name}: "not-a-cidr" is not an address or CIDR`);
      }
      const log = await startAndStop([
        '--data-dir',
        dataDir,
        '--allow-clients',
        '192.168.1.0/24,10.0.0.7',
        '--allow-legacy-peers',
        '192.168.1.20',
        '--open-proxy',
      ]);
      expect(log).to.match(/booster endpoint listening/);
    });
  });

  describe('NetworkKey in process', () => {
    it('shows only its fingerprint through String, JSON and util.inspect', () => {
      const text = randomKeyText();
      const key = NetworkKey.parse(text, 'test');
      for (const shown of [
        String(key),
        `${key}`,
        JSON.stringify({ key }),
        util.inspect(key),
        util.inspect({ deep: { key } }, { depth: 10 }),
        util.format('%o %O %s', key, key, key),
      ]) {
        expect(shown).to.include(key.fingerprint);
        expect(leaks(shown, text), shown).to.equal(false);
      }
      expect(Object.keys(key)).to.not.include('bytes');
    });

    it("keeps the config file's key out of the settings (which plugins see)", () => {
      const dir2 = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-key-config-'));
      try {
        const text = randomKeyText();
        const file = path.join(dir2, 'booster.json');
        fs.writeFileSync(file, JSON.stringify({ key: text, keyFile: 'x.key', pport: 0 }));
        const read = readConfigFile(file);
        expect(read).to.include({ key: text, keyFile: 'x.key' });
        const settings = resolveSettings(read.settings);
        expect(settings).to.not.have.any.keys('key', 'keyFile');
        expect(leaks(JSON.stringify(settings), text)).to.equal(false);
      } finally {
        fs.rmSync(dir2, { recursive: true, force: true });
      }
    });
  });
});
