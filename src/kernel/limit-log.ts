import type { Logger } from '../api/logger';

/**
 * Reports a limit being hit without flooding the log: the first hit is logged
 * at once, later ones are counted and summarised at most once per interval.
 * Never silent, never one line per hit.
 */
export class LimitLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
    /** Told of every hit, logged or not (the node fires onLimitHit with it, for metrics). */
    private readonly onHit?: (limit: string, message: string) => void,
  ) {}

  /** `key` groups hits of one limit; `message` says what was refused and which setting raises it. */
  hit(key: string, message: string): void {
    this.onHit?.(key, message);
    const t = this.now();
    const entry = this.last.get(key);
    if (entry && t - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    const more = entry && entry.suppressed > 0 ? ` (and ${entry.suppressed} more in the last ${Math.round((t - entry.at) / 1000)} s)` : '';
    this.log.warn(`limit: ${message}${more}`);
    this.last.set(key, { at: t, suppressed: 0 });
    if (this.last.size > 1000) this.last.delete(this.last.keys().next().value as string);
  }
}
