import type { Duplex } from 'node:stream';

/** The client broke the handshake; the message is logged and the connection closed. */
export class HandshakeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HandshakeError';
  }
}

/** Past this many buffered bytes the socket is paused until the handshake asks for more. */
const PAUSE_ABOVE = 256 * 1024;

/**
 * Reads a handshake off a socket in exact amounts, then hands back whatever
 * the client sent beyond it (pipelined data must reach the upstream).
 * Buffering is bounded: a client that floods during the handshake or the dial
 * is paused, not stored.
 */
export class HandshakeReader {
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;
  private end = 0;
  private waiter?: { ready: () => boolean; resolve: () => void; reject: (e: Error) => void };
  private failure?: Error;
  private readonly onData = (chunk: Buffer) => {
    this.append(chunk);
    if (this.end - this.start >= PAUSE_ABOVE) this.socket.pause();
    this.settle();
  };
  private readonly onEnd = () => this.fail(new HandshakeError('client closed the connection in the middle of the handshake'));

  constructor(private readonly socket: Duplex) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
  }

  get buffered(): number {
    return this.end - this.start;
  }

  /** The next byte, not consumed. */
  async peek(): Promise<number> {
    await this.until(() => this.buffered >= 1);
    return this.buf[this.start];
  }

  /** The next n bytes (a view, valid until the next read). */
  async read(n: number): Promise<Buffer> {
    await this.until(() => this.buffered >= n);
    return this.take(n);
  }

  /**
   * The next n bytes if they are here already, else undefined (then `read`):
   * `reader.readNow(n) ?? (await reader.read(n))` costs no promise when a
   * client sent the whole message at once, as clients do.
   */
  readNow(n: number): Buffer | undefined {
    return this.buffered >= n ? this.take(n) : undefined;
  }

  /** Reads up to and including `delimiter`; throws `tooLong()` if it is not within the first `max` bytes. */
  async readUntil(delimiter: Buffer, max: number, tooLong: () => Error): Promise<Buffer> {
    let scanned = 0;
    let at = -1;
    await this.until(() => {
      const from = Math.max(0, scanned - delimiter.length + 1);
      const limit = Math.min(this.end, this.start + max);
      at = this.buf.subarray(this.start, limit).indexOf(delimiter, from);
      scanned = limit - this.start;
      return at >= 0 || scanned >= max;
    });
    if (at < 0) throw tooLong();
    return this.take(at + delimiter.length);
  }

  /** Stops reading (the socket is left paused); returns the bytes received beyond the handshake. */
  detach(): Buffer {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.pause();
    const rest = this.buf.subarray(this.start, this.end);
    this.buf = Buffer.alloc(0);
    this.start = this.end = 0;
    return rest;
  }

  /** Makes the pending (and any later) read fail, unless its bytes are already here. */
  fail(err: Error): void {
    this.failure ??= err;
    this.settle();
  }

  private until(ready: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiter = { ready, resolve, reject };
      if (this.socket.isPaused() && !this.failure) this.socket.resume();
      this.settle();
    });
  }

  private append(chunk: Buffer): void {
    const have = this.end - this.start;
    if (this.end + chunk.length > this.buf.length) {
      // Grow geometrically (amortised O(n) even for a byte-at-a-time client), dropping consumed bytes.
      const next = Buffer.allocUnsafe(Math.max(512, 2 * (have + chunk.length)));
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
      this.start = 0;
      this.end = have;
    }
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
  }

  private take(n: number): Buffer {
    const out = this.buf.subarray(this.start, this.start + n);
    this.start += n;
    return out;
  }

  private settle(): void {
    const w = this.waiter;
    if (!w) return;
    if (w.ready()) {
      this.waiter = undefined;
      w.resolve();
    } else if (this.failure) {
      this.waiter = undefined;
      w.reject(this.failure);
    }
  }
}
