import type { TcpSocketConnectOpts } from 'node:net';
import { BufferPool } from './buffer-pool';

/** The most one read of an upstream socket takes. */
const READ_SIZE = 256 * 1024;
/**
 * Every upstream socket reads into this one buffer: Node asks `onread.buffer()`
 * for the next read's buffer right after each read, so a buffer of the
 * socket's own would stay pinned for as long as the socket is idle. Reads run
 * one at a time on this thread and each chunk is copied out before the read
 * callback returns, so sharing it is safe.
 */
const LANDING = Buffer.allocUnsafeSlow(READ_SIZE);

/** Where chunks wait until the client has taken them; free buffers are kept up to 16 MiB. */
export const upstreamBuffers = new BufferPool([16 * 1024, 64 * 1024, READ_SIZE], 16 * 1024 * 1024);

/** Receives upstream chunks; calls `flushed` once the chunk is written, returns false to pause the upstream meanwhile. */
export type ChunkSink = (chunk: Buffer, flushed: () => void) => boolean;

/**
 * Reads a tunnel's upstream without a fresh allocation per chunk (passed to
 * the dialer as the socket's `onread`): each chunk is copied from the shared
 * landing buffer into a pooled buffer that goes back to the pool once the
 * client has been written. An idle tunnel therefore holds no buffer at all.
 * Chunks that arrive before the relay is attached are kept aside and
 * delivered first. `release()` once the upstream socket is closed.
 */
/**
 * A socket's `onread` option: Node reads into `buffer` and calls `callback`
 * instead of emitting 'data' (about half again the single-stream throughput).
 * `buffer` is a buffer, or a function Node calls for the buffer of the next
 * read (right after each read, and once when the socket is created). The
 * callback returns false to pause the socket while a chunk still waits to be
 * written. Internal: dialers receive it only inside `socketOptions`.
 */
export interface ReadBufferOption {
  readonly buffer: Buffer | (() => Buffer);
  callback(bytes: number, buffer: Buffer): boolean;
}

export class UpstreamReader {
  private sink?: ChunkSink;
  private readonly early: Buffer[] = [];
  /** Pooled buffers whose chunk the client has not taken yet (at most one while the relay pauses on a pending write). */
  private readonly held = new Set<Buffer>();
  readonly option: ReadBufferOption = {
    buffer: () => LANDING,
    callback: (bytes, buffer) => this.deliver(buffer, bytes),
  };
  /** What the dialer gets (DialRequest.socketOptions): made once per tunnel. */
  readonly socketOptions: Readonly<Partial<TcpSocketConnectOpts>> = { onread: this.option };

  /** The relay takes over. */
  attach(sink: ChunkSink): void {
    this.sink = sink;
    for (const chunk of this.early.splice(0)) sink(chunk, () => undefined);
  }

  /** Stops accounting for chunks the client never took (their writes may still hold them; they are not reused). */
  release(): void {
    for (const b of this.held) upstreamBuffers.forget(b);
    this.held.clear();
  }

  private deliver(landing: Buffer, bytes: number): boolean {
    if (!this.sink) {
      this.early.push(Buffer.from(landing.subarray(0, bytes)));
      return true;
    }
    const copy = upstreamBuffers.take(bytes);
    landing.copy(copy, 0, 0, bytes);
    this.held.add(copy);
    return this.sink(copy.subarray(0, bytes), () => {
      if (this.held.delete(copy)) upstreamBuffers.give(copy);
    });
  }
}
