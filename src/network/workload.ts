/**
 * A peer's workload as its ProxyUpdate stream tells it: open tunnels per
 * target. Removals for targets it never announced are ignored, so a stream
 * joined late (or events lost while a link was down) cannot go negative or
 * leave phantom load; a fresh link starts from zero and the peer resends its
 * open tunnels (our nodes do on Notify).
 */
export class PeerWorkload {
  private readonly copies = new Map<string, number>();
  private count = 0;

  get total(): number {
    return this.count;
  }

  apply(target: string, operation: 'added' | 'removed'): void {
    const n = this.copies.get(target) ?? 0;
    if (operation === 'added') {
      this.copies.set(target, n + 1);
      this.count++;
    } else if (n > 0) {
      if (n === 1) this.copies.delete(target);
      else this.copies.set(target, n - 1);
      this.count--;
    }
  }

  reset(): void {
    this.copies.clear();
    this.count = 0;
  }

  entries(): { target: string; copies: number }[] {
    return [...this.copies].map(([target, copies]) => ({ target, copies }));
  }
}
