import type { Disposable } from '../../api/disposable';
import type { ReportedLink } from '../../wire';

/** A report goes out when a figure moved by more than this share of what was last sent... */
const CHANGE_RATIO = 0.1;
/** ...and by more than this many bytes/s (an EWMA decaying towards 0 changes by 30 % a second forever). */
const MIN_CHANGE = 1024;
/** Sent anyway this often, so a report lost to a bug or a restart heals. */
export const LINK_REPORT_REFRESH_MS = 30_000;

export interface LinkReporterOptions {
  /** Least time between two reports (settings.linkReportMs). */
  readonly intervalMs: number;
  /** Longest time between two reports; default LINK_REPORT_REFRESH_MS. */
  readonly refreshMs?: number;
  /** This node's own links now (SourceRegistry.localLinks). */
  readonly links: () => readonly ReportedLink[];
  readonly send: (links: readonly ReportedLink[]) => void;
  readonly now?: () => number;
}

/**
 * Tells the node that wired us what our own links are (booster.v1 LinkReport):
 * once at once, then at most once per interval, and only when a figure
 * changed noticeably or the last report is getting old.
 */
export class LinkReporter implements Disposable {
  private timer?: NodeJS.Timeout;
  private last = new Map<string, ReportedLink>();
  private lastAt = 0;
  private readonly now: () => number;
  private readonly refreshMs: number;

  constructor(private readonly options: LinkReporterOptions) {
    this.now = options.now ?? Date.now;
    this.refreshMs = Math.max(options.refreshMs ?? LINK_REPORT_REFRESH_MS, options.intervalMs);
  }

  start(): void {
    if (this.timer) return;
    this.report(this.options.links());
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  dispose(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const links = this.options.links();
    if (this.now() - this.lastAt >= this.refreshMs || this.changed(links)) this.report(links);
  }

  private report(links: readonly ReportedLink[]): void {
    this.options.send(links);
    this.last = new Map(links.map((l) => [l.id, l]));
    this.lastAt = this.now();
  }

  private changed(links: readonly ReportedLink[]): boolean {
    if (links.length !== this.last.size) return true;
    return links.some((l) => {
      const before = this.last.get(l.id);
      return !before || before.kind !== l.kind || moved(before.capacity, l.capacity) || moved(before.throughput, l.throughput);
    });
  }
}

function moved(before: number, now: number): boolean {
  const delta = Math.abs(now - before);
  return delta > MIN_CHANGE && delta > CHANGE_RATIO * before;
}
