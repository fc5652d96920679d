import type { Disposable } from '../api/disposable';

/** One-shot timers that all go with dispose() (announcements and queries scheduled ahead). */
export class Timers implements Disposable {
  private readonly pending = new Set<NodeJS.Timeout>();

  /** Runs `fn` once after `ms`, unless disposed first. */
  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.pending.delete(t);
      fn();
    }, ms);
    this.pending.add(t);
  }

  dispose(): void {
    this.pending.forEach(clearTimeout);
    this.pending.clear();
  }
}
