import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { Disposable } from '../api/disposable';

/** GC pauses remembered, newest last: enough to cover any decision still being judged. */
const MAX_PAUSES = 64;

/**
 * Judges a policy's time without blaming it for GC pauses. A decision is timed
 * with performance.now() (cheap, on every connection); only one over the
 * deadline is judged, a little later, once the GC entries of its interval have
 * been delivered: its wall time minus the GC pauses that overlap it. Why not
 * CPU time: process.cpuUsage counts GC (it is CPU work, on this thread and on
 * helper threads) and every other thread of the process, so it cannot tell a
 * GC pause from a slow policy; a per-thread CPU clock needs Node 23.
 */
export class PolicyTiming implements Disposable {
  /** [start, end] in performance.now() ms, oldest first. */
  private readonly pauses: [number, number][] = [];
  private readonly observer?: PerformanceObserver;

  /** `observe`: watch real GC pauses (tests may feed `recordPause` instead). */
  constructor(observe = true) {
    if (!observe) return;
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.recordPause(e.startTime, e.duration);
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  now(): number {
    return performance.now();
  }

  recordPause(start: number, duration: number): void {
    this.pauses.push([start, start + duration]);
    if (this.pauses.length > MAX_PAUSES) this.pauses.shift();
  }

  /** The part of [start, end] not spent in a GC pause, in ms. */
  ownTime(start: number, end: number): number {
    let gc = 0;
    for (const [s, e] of this.pauses) gc += Math.max(0, Math.min(e, end) - Math.max(s, start));
    return Math.max(0, end - start - gc);
  }

  dispose(): void {
    this.observer?.disconnect();
  }
}
