import pino from 'pino';
import type { Logger, LogLevel } from '../api/logger';
import type { LogSink } from './logger';

/** Keys pino writes itself: a field with one of these names is renamed, so no line carries a key twice. */
const RESERVED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'scope']);

// What JSON.stringify leaves raw: DEL, C1 and U+2028/U+2029. C0 is already \uNNNN.
const RAW_CONTROL = /[\x7f-\x9f\u2028\u2029]/g;

/**
 * JSON always escapes C0, so a crafted host name cannot start a forged line;
 * DEL, C1 (a terminal's CSI) and the Unicode line separators are left raw by
 * it. Inside a JSON line they can only sit in a string, where \uNNNN is the
 * same value: a parser reads the original text, a terminal sees no control.
 */
export function escapeJsonLine(line: string): string {
  return line.replace(RAW_CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Field values as the text format shows them: an Error by its message (never its stack). */
function plainFields(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!fields) return out;
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out[RESERVED.has(k) ? `${k}_` : k] = v instanceof Error ? v.message : v;
  }
  return out;
}

/**
 * One pino JSON object per line: pino's own keys (numeric `level`, `time` in
 * ms, `pid`, `hostname`, `msg`), `scope` for a child logger, and the fields
 * the caller gave, so jq, pino-pretty and log shippers read it unchanged.
 */
export class JsonLogger implements Logger {
  private readonly out: pino.Logger;
  private readonly root: pino.Logger;

  constructor(
    level: LogLevel = 'info',
    sink: LogSink = process.stderr,
    private readonly scope = '',
    root?: pino.Logger,
  ) {
    // pino writes each line with one synchronous write() call on the stream it is given.
    const base = root ?? pino({ level }, { write: (line: string) => sink.write(escapeJsonLine(line)) });
    this.out = scope ? base.child({ scope }) : base;
    this.root = base;
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.log('error', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.log('warn', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.log('info', message, fields);
  }
  debug(message: string, fields?: Record<string, unknown>): void {
    this.log('debug', message, fields);
  }

  child(scope: string): Logger {
    // From the root, with the whole path: pino would repeat a "scope" key per level of children.
    return new JsonLogger(undefined, undefined, this.scope ? `${this.scope}/${scope}` : scope, this.root);
  }

  private log(level: LogLevel, message: string, fields: Record<string, unknown> | undefined): void {
    // Checked first: a debug line per connection at level info must not copy its fields for nothing.
    if (this.out.isLevelEnabled(level)) this.out[level](plainFields(fields), message);
  }
}
