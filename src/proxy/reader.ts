import type { Socket } from 'node:net';

/** The client broke the handshake; the message is logged and the connection closed. */
export class HandshakeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HandshakeError';
  }
}

/**
 * Reads a handshake off a socket in exact amounts, then hands back whatever
 * the client sent beyond it (pipelined data must reach the upstream).
 */
export class HandshakeReader {
  private buffer: Buffer = Buffer.alloc(0);
  private waiter?: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void };
  private failure?: Error;
  private readonly onData = (chunk: Buffer) => {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    this.settle();
  };
  private readonly onEnd = () => this.fail(new HandshakeError('client closed the connection in the middle of the handshake'));

  constructor(private readonly socket: Socket) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
  }

  /** The next n bytes. */
  read(n: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.waiter = { n, resolve, reject };
      this.settle();
    });
  }

  /** The next byte, without consuming it. */
  async peek(): Promise<number> {
    const b = await this.read(1);
    this.buffer = this.buffer.length === 0 ? b : Buffer.concat([b, this.buffer]);
    return b[0];
  }

  /** Reads up to and including `delimiter`, at most `max` bytes in all. */
  async readUntil(delimiter: Buffer, max: number, tooLong: () => Error): Promise<Buffer> {
    for (;;) {
      const at = this.buffer.indexOf(delimiter);
      if (at >= 0) return this.take(at + delimiter.length);
      if (this.buffer.length >= max) throw tooLong();
      await this.read(this.buffer.length + 1).then((b) => {
        this.buffer = b;
      });
    }
  }

  /** Stops reading; returns the bytes received beyond the handshake. */
  detach(): Buffer {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.pause();
    const rest = this.buffer;
    this.buffer = Buffer.alloc(0);
    return rest;
  }

  fail(err: Error): void {
    this.failure ??= err;
    this.settle();
  }

  private take(n: number): Buffer {
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  private settle(): void {
    const w = this.waiter;
    if (!w) return;
    if (this.buffer.length >= w.n) {
      this.waiter = undefined;
      w.resolve(this.take(w.n));
    } else if (this.failure) {
      this.waiter = undefined;
      w.reject(this.failure);
    }
  }
}
