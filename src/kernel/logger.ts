import type { Logger, LogLevel } from '../api/logger';

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

// C0 (newline, CR and tab included), DEL, C1, and the Unicode line and paragraph separators.
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/g;

/**
 * Makes text safe for one log line: control characters become \xNN or
 * \uNNNN, so a host name or user name from a client can neither start a
 * forged line nor move a terminal's cursor.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Error) return v.message;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v); // a BigInt, or a cycle
  }
}

export interface LogSink {
  write(line: string): void;
}

/** Line-oriented logger to stderr: `2026-11-25T03:00:00.000Z INFO  [proxy] message key=value`. */
export class ConsoleLogger implements Logger {
  constructor(
    private readonly level: LogLevel = 'info',
    private readonly scope = '',
    private readonly sink: LogSink = process.stderr,
  ) {}

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
    return new ConsoleLogger(this.level, this.scope ? `${this.scope}/${scope}` : scope, this.sink);
  }

  private log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (ORDER[level] > ORDER[this.level]) return;
    let line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${this.scope ? `[${escapeControl(this.scope)}] ` : ''}${escapeControl(message)}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        if (v !== undefined) line += ` ${escapeControl(k)}=${escapeControl(formatValue(v))}`;
      }
    }
    this.sink.write(line + '\n');
  }
}

/** Discards everything; for tests and embedded use. */
export const silentLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  child: () => silentLogger,
};
