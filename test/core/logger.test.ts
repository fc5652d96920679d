import { expect } from 'chai';
import { ConsoleLogger, escapeControl } from '../../src/core/logger';

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
