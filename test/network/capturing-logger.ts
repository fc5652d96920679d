import type { Logger } from '../../src/api/logger';

/** A logger that keeps its lines, to check what the node says (when it drops a link, say). */
export function capturingLogger(lines: string[] = []): Logger & { lines: string[] } {
  const log = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  const logger = { lines, error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug'), child: () => logger };
  return logger;
}
