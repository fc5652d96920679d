import type { Logger } from '../api/logger';
import type { LimitLog } from './limit-log';

/** Refusals logged one line each within an interval; beyond this, only counted. */
export const REFUSALS_LOGGED_PER_INTERVAL = 20;

/**
 * Logs what a listener turned away (the proxy's refused clients, the
 * endpoint's refused requests): one line each, up to
 * REFUSALS_LOGGED_PER_INTERVAL per interval, then a summary with a count
 * through LimitLog, so that a scan of the LAN cannot flood the log. Lines
 * must already be safe to print (see printable).
 */
export class RefusalLog {
  private windowStart = -Infinity;
  private inWindow = 0;

  constructor(
    /** The summary's opening, e.g. (20, 10) → "proxy turned away more than 20 clients within 10 s". */
    private readonly summary: (count: number, seconds: number) => string,
    private readonly write: (line: string) => void,
    private readonly limitLog: LimitLog,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  static info(summary: RefusalLog['summary'], log: Logger, limitLog: LimitLog, intervalMs: number): RefusalLog {
    return new RefusalLog(summary, (line) => log.info(line), limitLog, intervalMs);
  }

  static warn(summary: RefusalLog['summary'], log: Logger, limitLog: LimitLog, intervalMs: number): RefusalLog {
    return new RefusalLog(summary, (line) => log.warn(line), limitLog, intervalMs);
  }

  refused(line: string): void {
    const t = this.now();
    if (t - this.windowStart >= this.intervalMs) {
      this.windowStart = t;
      this.inWindow = 0;
    }
    if (++this.inWindow <= REFUSALS_LOGGED_PER_INTERVAL) this.write(line);
    else {
      const opening = this.summary(REFUSALS_LOGGED_PER_INTERVAL, Math.round(this.intervalMs / 1000));
      this.limitLog.hit(opening, `${opening}; further ones are counted, not logged (latest: ${line})`);
    }
  }
}
