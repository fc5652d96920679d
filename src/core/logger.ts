import type { Logger, LogLevel } from '../api/logger';

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

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
    let line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${this.scope ? `[${this.scope}] ` : ''}${message}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        if (v !== undefined) line += ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
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
