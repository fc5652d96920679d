import type { Logger } from '../api/logger';
import type { LimitLog } from '../core/limit-log';

/** Turned-away clients logged one line each within an interval; beyond this, only counted. */
export const REJECTIONS_LOGGED_PER_INTERVAL = 20;

/**
 * Logs clients the proxy turned away (refused, malformed, failed login): one
 * info line each, up to REJECTIONS_LOGGED_PER_INTERVAL per interval, then a
 * summary with a count through LimitLog, so that a scan of the LAN cannot
 * flood the log. `reason` must already be safe to print (see printable).
 */
export class RejectionLog {
  private windowStart = -Infinity;
  private inWindow = 0;

  constructor(
    private readonly log: Logger,
    private readonly limitLog: LimitLog,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  rejected(client: string, reason: string): void {
    const t = this.now();
    if (t - this.windowStart >= this.intervalMs) {
      this.windowStart = t;
      this.inWindow = 0;
    }
    if (++this.inWindow <= REJECTIONS_LOGGED_PER_INTERVAL) this.log.info(`rejected ${client}: ${reason}`);
    else this.limitLog.hit('proxy-rejections', `proxy turned away more than ${REJECTIONS_LOGGED_PER_INTERVAL} clients within ${Math.round(this.intervalMs / 1000)} s; further ones are counted, not logged (latest: ${client}: ${reason})`);
  }
}
