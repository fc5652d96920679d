import { escapeControl } from '../kernel/logger';

/**
 * Text a client sent (a host name, a user name, a header line), or an error
 * message that may quote it, made safe for one log line or monitor event:
 * control characters escaped as the logger does, and cut at `max` characters.
 */
export function printable(s: string, max = 80): string {
  return s.length > max ? `${escapeControl(s.slice(0, max))}…` : escapeControl(s);
}
