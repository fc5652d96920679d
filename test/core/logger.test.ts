import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { escapeJsonLine, JsonLogger } from '../../src/kernel/json-logger';
import { createLogger, LogSetupError } from '../../src/kernel/log-output';
import { ConsoleLogger, escapeControl } from '../../src/kernel/logger';

function capture(): { logger: ConsoleLogger; lines: () => string[] } {
  let out = '';
  const logger = new ConsoleLogger('debug', 'proxy', { write: (line) => (out += line) });
  return { logger, lines: () => out.split('\n').slice(0, -1) };
}

describe('ConsoleLogger', () => {
  const forged = 'alice\n2026-01-01T00:00:00.000Z INFO forged';
  const ansi = 'evil.example\x1b[2K\x1b[1A\r';

  it('keeps a crafted username in the message and in a field on one line', () => {
    const { logger, lines } = capture();
    logger.warn(`proxy authentication failed for ${forged}`, { username: forged, host: ansi });
    expect(lines()).to.have.length(1);
    const line = lines()[0];
    expect(line).to.not.match(/[\x00-\x1f\x7f-\x9f]/);
    expect(line).to.include('failed for alice\\x0a2026-01-01T00:00:00.000Z INFO forged');
    expect(line).to.include('username=alice\\x0a2026');
    expect(line).to.include('host=evil.example\\x1b[2K\\x1b[1A\\x0d');
  });

  it('escapes C0 (tab included), DEL, C1 and U+2028/U+2029, and leaves other text alone', () => {
    expect(escapeControl('a\tb\x00c\x7fd\x85e\x9bf\u2028g\u2029h')).to.equal('a\\x09b\\x00c\\x7fd\\x85e\\x9bf\\u2028g\\u2029h');
    expect(escapeControl('bücher.example — 日本 \\x41')).to.equal('bücher.example — 日本 \\x41');
  });

  it('escapes inside non-string field values and error messages too', () => {
    const { logger, lines } = capture();
    logger.info('dial failed', { target: { host: 'a\u2028b', n: 1 }, error: new Error('bad\u0085thing') });
    expect(lines()).to.have.length(1);
    expect(lines()[0]).to.include('target={"host":"a\\u2028b","n":1}');
    expect(lines()[0]).to.include('error=bad\\x85thing');
  });
});

describe('JsonLogger', () => {
  function captureJson(level: 'info' | 'debug' = 'debug'): { logger: JsonLogger; lines: () => string[] } {
    let out = '';
    const logger = new JsonLogger(level, { write: (line) => (out += line) });
    return { logger, lines: () => out.split('\n').slice(0, -1) };
  }
  const forged = 'alice\n{"level":30,"msg":"forged"}';

  it('writes one pino object per line with level, time, msg, scope and the fields', () => {
    const { logger, lines } = captureJson();
    logger
      .child('proxy')
      .child('socks')
      .warn('auth failed', { username: 'bob', port: 1080, error: new Error('bad key') });
    expect(lines()).to.have.length(1);
    const rec = JSON.parse(lines()[0]);
    expect(rec).to.include({ level: 40, msg: 'auth failed', scope: 'proxy/socks', username: 'bob', port: 1080, error: 'bad key' });
    expect(rec.time)
      .to.be.a('number')
      .within(Date.now() - 5000, Date.now() + 1);
  });

  it('keeps crafted text on one line and free of raw controls, yet parses back to the same text', () => {
    const { logger, lines } = captureJson();
    const host = 'evil\x1b[2K\x9b1A\u2028x\x7f';
    logger.info(`failed for ${forged}`, { username: forged, host });
    expect(lines()).to.have.length(1);
    expect(lines()[0]).to.not.match(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/);
    const rec = JSON.parse(lines()[0]);
    expect(rec.msg).to.equal(`failed for ${forged}`);
    expect(rec.username).to.equal(forged);
    expect(rec.host).to.equal(host);
  });

  it("filters by level and renames fields that would repeat pino's keys", () => {
    const { logger, lines } = captureJson('info');
    logger.debug('hidden');
    logger.info('shown', { level: 'x', msg: 'y', time: 1 });
    expect(lines()).to.have.length(1);
    expect(JSON.parse(lines()[0])).to.include({ level: 30, msg: 'shown', level_: 'x', msg_: 'y', time_: 1 });
    expect(escapeJsonLine('"\u2029"')).to.equal('"\\u2029"');
  });
});

describe('createLogger', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-log-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('appends to a file created 0600', () => {
    const file = path.join(dir, 'booster.log');
    fs.writeFileSync(file, 'earlier\n', { mode: 0o600 });
    createLogger({ level: 'info', format: 'text', file }).info('one');
    createLogger({ level: 'info', format: 'json', file }).info('two');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    expect(lines[0]).to.equal('earlier');
    expect(lines[1]).to.match(/^\S+Z INFO  one$/);
    expect(JSON.parse(lines[2]).msg).to.equal('two');
    const fresh = path.join(dir, 'new.log');
    createLogger({ level: 'info', format: 'text', file: fresh });
    expect(fs.statSync(fresh).mode & 0o777).to.equal(0o600);
  });

  it('says why a destination or option cannot be used', () => {
    expect(() => createLogger({ level: 'info', format: 'text', file: path.join(dir, 'nope', 'a.log') })).to.throw(
      LogSetupError,
      /directory .*nope does not exist/,
    );
    expect(() => createLogger({ level: 'info', format: 'text', file: dir })).to.throw(LogSetupError, /it is a directory/);
    expect(() => createLogger({ level: 'info', format: 'xml' as 'text' })).to.throw(LogSetupError, /unknown log format "xml" \(use text or json\)/);
    expect(() => createLogger({ level: 'loud' as 'info', format: 'text' })).to.throw(LogSetupError, /unknown log level "loud"/);
  });
});
