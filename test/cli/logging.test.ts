import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN, spawnCli, type RunningCli } from '../helpers/cli';
import { run } from '../helpers/exec';

const LOOPBACK_NODE = ['start', '--pport', '0', '--bport', '0', '--bind', '127.0.0.1'];

/** Waits until `file` holds a line matching `pattern`. */
async function waitInFile(file: string, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in ${file}:\n${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('booster start: --log-format, --log-file, --log-level (real CLI)', function () {
  this.timeout(30_000);
  let node: RunningCli | undefined;
  let dir: string;

  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-logs-'))));
  afterEach(async () => {
    node?.kill('SIGKILL');
    await node?.exited();
    node = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('--log-format json writes only pino JSON lines on stderr, the stop lines included', async () => {
    node = spawnCli([...LOOPBACK_NODE, '--log-format', 'json']);
    await node.waitFor(/"msg":"proxy listening on 127\.0\.0\.1:\d+/);
    node.kill('SIGTERM');
    expect(await node.exited()).to.equal(0);
    const lines = node.stderr().trim().split('\n');
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const r of records) {
      expect(r.level).to.be.a('number');
      expect(r.time).to.be.a('number');
      expect(r.msg).to.be.a('string');
    }
    const listening = records.find((r) => /^proxy listening on/.test(String(r.msg)))!;
    expect(listening.level).to.equal(30);
    // The structured fields the node logs with, as JSON keys.
    expect(listening.policy).to.be.a('string');
    expect(listening.sources).to.deep.equal(['direct']);
    expect(records.map((r) => r.msg)).to.include.members(['stopping (SIGTERM)']);
    expect(String(records[records.length - 1].msg)).to.match(/^stopped in \d+ ms$/);
  });

  it('--log-file appends there (0600); stderr keeps only the lines about the process', async () => {
    const file = path.join(dir, 'booster.log');
    node = spawnCli([...LOOPBACK_NODE, '--log-file', file]);
    await waitInFile(file, /INFO  .*proxy listening on 127\.0\.0\.1:\d+/);
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    node.kill('SIGTERM');
    expect(await node.exited()).to.equal(0);
    expect(node.stderr()).to.match(/^stopping \(SIGTERM\)\nstopped in \d+ ms\n$/);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).to.match(/INFO  stopped in \d+ ms\n$/);
    expect(
      text
        .split('\n')
        .slice(0, -1)
        .every((l) => /^\S+Z (INFO|WARN|DEBUG|ERROR) /.test(l)),
    ).to.equal(true);

    // A second run appends to the same file.
    node = spawnCli([...LOOPBACK_NODE, '--log-file', file, '--log-format', 'json']);
    await waitInFile(file, /"msg":"proxy listening/);
    node.kill('SIGTERM');
    expect(await node.exited()).to.equal(0);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines[0]).to.equal(text.split('\n')[0]);
    expect(JSON.parse(lines[lines.length - 1]).msg).to.match(/^stopped in/);
  });

  it('--log-level warn leaves out the info lines', async () => {
    const file = path.join(dir, 'warn.log');
    node = spawnCli([...LOOPBACK_NODE, '--log-file', file, '--log-level', 'warn']);
    // The node logs its key and ports at info as it starts (see the test above); none of it may reach the file.
    await new Promise((r) => setTimeout(r, 1500));
    node.kill('SIGTERM');
    expect(await node.exited()).to.equal(0);
    expect(fs.readFileSync(file, 'utf8')).to.not.match(/INFO/);
    expect(node.stderr()).to.match(/stopped in/);
  });

  it('refuses an unknown format, or a log file whose directory is missing, with one clear line', async () => {
    const format = await run(process.execPath, [BIN, ...LOOPBACK_NODE, '--log-format', 'xml']);
    expect(format.code).to.equal(2);
    expect(format.stderr.trim().split('\n')).to.have.length(1);
    expect(format.stderr).to.equal('booster: Expected --log-format=xml to be one of: text, json (see: booster start --help)\n');

    const missing = path.join(dir, 'no-such-dir', 'booster.log');
    const file = await run(process.execPath, [BIN, ...LOOPBACK_NODE, '--log-file', missing]);
    expect(file.code).to.equal(1);
    expect(file.stderr.trim().split('\n')).to.have.length(1);
    expect(file.stderr).to.equal(`booster: cannot start: cannot open log file ${missing}: directory ${path.dirname(missing)} does not exist\n`);
  });
});
