import type { ReadBufferOption } from '../api/read-buffer';

const SIZE = 256 * 1024;
/** Free buffers kept for reuse: enough for a busy node, bounded in memory (16 MiB). */
const POOL_MAX = 64;
const pool: Buffer[] = [];

/**
 * One reused read buffer for a tunnel's upstream (passed to the dialer as the
 * socket's `onread`), taken from a small pool so that neither chunks nor
 * connections allocate. Bytes that arrive before the relay is attached are
 * copied aside and delivered first. `release()` once the upstream socket is
 * closed (it must never read into the buffer again).
 */
export class UpstreamReader {
  private sink?: (chunk: Buffer) => boolean;
  private readonly early: Buffer[] = [];
  private buffer?: Buffer = pool.pop() ?? Buffer.allocUnsafe(SIZE);
  readonly option: ReadBufferOption = {
    buffer: this.buffer!,
    callback: (bytes, buffer) => this.deliver(buffer.subarray(0, bytes)),
  };

  /** The relay takes over; `sink` returns false while the chunk it was given is still referenced. */
  attach(sink: (chunk: Buffer) => boolean): void {
    this.sink = sink;
    for (const chunk of this.early.splice(0)) sink(chunk);
  }

  release(): void {
    if (this.buffer && pool.length < POOL_MAX) pool.push(this.buffer);
    this.buffer = undefined;
  }

  private deliver(chunk: Buffer): boolean {
    if (this.sink) return this.sink(chunk);
    this.early.push(Buffer.from(chunk));
    return true;
  }
}
