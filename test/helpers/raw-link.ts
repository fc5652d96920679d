import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { ProtocolLink, type WireMessage } from '../../src/network/link/protocol';

/**
 * A hand-driven endpoint client for tests: every message the node sends is
 * queued, so a test can send anything (well-formed or not) and read exactly
 * what came back, and when the node closed the link.
 */
export class RawLink {
  private readonly queue: WireMessage[] = [];
  private waiter?: () => void;
  readonly closed: Promise<string>;

  private constructor(
    readonly link: ProtocolLink,
    readonly socket: Duplex,
  ) {
    link.onMessage((m) => {
      this.queue.push(m);
      this.waiter?.();
    });
    this.closed = new Promise((resolve) => link.onClose(resolve));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawLink> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port }, () => resolve(new RawLink(new ProtocolLink(socket, `test client → ${port}`), socket)));
      socket.once('error', reject);
    });
  }

  /** Wraps a stream already connected (after a TLS upgrade, say). */
  static over(stream: Duplex, label = 'test client'): RawLink {
    return new RawLink(new ProtocolLink(stream, label), stream);
  }

  /** The next message, optionally of one kind (others before it are skipped); rejects if the link closes first or after timeoutMs. */
  async next<K extends WireMessage['kind']>(kind?: K, timeoutMs = 3000): Promise<Extract<WireMessage, { kind: K }>> {
    const started = Date.now();
    for (;;) {
      const i = this.queue.findIndex((m) => !kind || m.kind === kind);
      if (i >= 0) return this.queue.splice(i, 1)[0] as Extract<WireMessage, { kind: K }>;
      if (this.link.isClosed)
        throw new Error(`link closed while waiting for ${kind ?? 'a message'} (queue: ${this.queue.map((m) => m.kind).join(', ') || 'empty'})`);
      const left = timeoutMs - (Date.now() - started);
      if (left <= 0) throw new Error(`no ${kind ?? 'message'} within ${timeoutMs} ms (queue: ${this.queue.map((m) => m.kind).join(', ') || 'empty'})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Hands the raw stream over (for TLS); this RawLink is done. */
  release(): Duplex {
    return this.link.release();
  }

  close(): void {
    this.link.close();
    this.socket.destroy();
  }
}
