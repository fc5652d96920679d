import type { ReadBufferOption } from '../api/read-buffer';

const SIZE = 256 * 1024;

/**
 * One reused read buffer for a tunnel's upstream (passed to the dialer as the
 * socket's `onread`). Bytes that arrive before the relay is attached are
 * copied aside and delivered first.
 */
export class UpstreamReader {
  private sink?: (chunk: Buffer) => boolean;
  private readonly early: Buffer[] = [];
  readonly option: ReadBufferOption = {
    buffer: Buffer.allocUnsafe(SIZE),
    callback: (bytes, buffer) => this.deliver(buffer.subarray(0, bytes)),
  };

  /** The relay takes over; `sink` returns false while the chunk it was given is still referenced. */
  attach(sink: (chunk: Buffer) => boolean): void {
    this.sink = sink;
    for (const chunk of this.early.splice(0)) sink(chunk);
  }

  private deliver(chunk: Buffer): boolean {
    if (this.sink) return this.sink(chunk);
    this.early.push(Buffer.from(chunk));
    return true;
  }
}
