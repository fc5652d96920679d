/**
 * Text a client sent (a host name, a user name, a header line), or an error
 * message that may quote it, made safe for one log line: anything outside
 * printable ASCII is shown as \xNN (\u{...} above 0xff), and the result is cut
 * at `max` characters.
 */
export function printable(s: string, max = 80): string {
  const escaped = (s.length > max ? s.slice(0, max) : s).replace(/[^\x20-\x7e]/gu, (c) => {
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
  return s.length > max ? `${escaped}…` : escaped;
}
