import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger, LogLevel } from '../api/logger';
import { JsonLogger } from './json-logger';
import { ConsoleLogger, type LogSink } from './logger';

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

/** Where and how `booster start` logs. */
export interface LogOptions {
  readonly level: LogLevel;
  /** text (the human-readable default) or json (one pino object per line). */
  readonly format: LogFormat;
  /** A file to append to instead of stderr. */
  readonly file?: string;
}

/** A log destination that cannot be used; says which and why. */
export class LogSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogSetupError';
  }
}

/**
 * Opens the log file for appending; a new file is created 0600, since log
 * lines name clients, peers and targets. Writes are synchronous so the last
 * lines before an exit (or a crash) are on disk.
 */
function openLogFile(file: string): LogSink {
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir)) throw new LogSetupError(`cannot open log file ${file}: directory ${dir} does not exist`);
  let fd: number;
  try {
    fd = fs.openSync(file, 'a', 0o600);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EISDIR' ? 'it is a directory' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new LogSetupError(`cannot open log file ${file}: ${why}`);
  }
  return { write: (line: string) => void fs.writeSync(fd, line) };
}

/** The node's logger for these options (checked here too: the config or an embedder may bypass the CLI's parser). */
export function createLogger(options: LogOptions, stderr: LogSink = process.stderr): Logger {
  if (!(LOG_FORMATS as readonly string[]).includes(options.format)) {
    throw new LogSetupError(`unknown log format "${String(options.format).slice(0, 32)}" (use ${LOG_FORMATS.join(' or ')})`);
  }
  if (!LOG_LEVELS.includes(options.level)) {
    throw new LogSetupError(`unknown log level "${String(options.level).slice(0, 32)}" (use ${LOG_LEVELS.join(', ')})`);
  }
  const sink = options.file !== undefined ? openLogFile(options.file) : stderr;
  return options.format === 'json' ? new JsonLogger(options.level, sink) : new ConsoleLogger(options.level, '', sink);
}
