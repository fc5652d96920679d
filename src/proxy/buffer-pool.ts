/**
 * Reusable buffers in a few fixed sizes, with accounting: what is handed out
 * (`inUse`) and what waits for reuse (`free`). Free buffers are kept up to
 * `maxFreeBytes`; beyond that a returned buffer is left to the GC.
 */
export class BufferPool {
  private readonly free: Buffer[][];
  private freeTotal = 0;
  private used = 0;
  private usedTotal = 0;
  private taken = 0;

  constructor(
    /** Ascending; a request for n bytes gets the smallest size ≥ n. */
    readonly sizes: readonly number[],
    private readonly maxFreeBytes: number,
  ) {
    this.free = sizes.map(() => []);
  }

  /** Buffers handed out and not yet given back or forgotten. */
  get inUse(): number {
    return this.used;
  }

  get inUseBytes(): number {
    return this.usedTotal;
  }

  get freeBytes(): number {
    return this.freeTotal;
  }

  /** Buffers handed out since the pool was made. */
  get handedOut(): number {
    return this.taken;
  }

  /** A buffer of at least n bytes (n ≤ the largest size); its contents are arbitrary. */
  take(n: number): Buffer {
    const i = this.sizes.findIndex((size) => size >= n);
    if (i < 0) throw new RangeError(`buffer pool asked for ${n} bytes; its largest size is ${this.sizes[this.sizes.length - 1]}`);
    const b = this.free[i].pop();
    if (b) this.freeTotal -= b.length;
    const out = b ?? Buffer.allocUnsafeSlow(this.sizes[i]);
    this.used++;
    this.taken++;
    this.usedTotal += out.length;
    return out;
  }

  /** Returns a buffer taken from this pool; nothing may read or write it any more. */
  give(b: Buffer): void {
    this.forget(b);
    const i = this.sizes.indexOf(b.length);
    if (i >= 0 && this.freeTotal + b.length <= this.maxFreeBytes) {
      this.free[i].push(b);
      this.freeTotal += b.length;
    }
  }

  /** Stops counting a buffer that may still be referenced (it is never reused). */
  forget(b: Buffer): void {
    this.used--;
    this.usedTotal -= b.length;
  }
}
