import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TunnelHandle } from '../kernel/connector';
import type { UpstreamReader } from './upstream-reader';

export interface RelayOptions {
  /** Client bytes that go upstream before anything else (pipelined data, a rewritten HTTP head). */
  readonly first?: Buffer;
  /** Reads the upstream instead of its 'data' events, when the dialer used its `onread` option. */
  readonly reader?: UpstreamReader;
  /** The TCP socket under `client` when that is a TLS stream: it is what gets reset when the tunnel is cut. */
  readonly clientTransport?: Socket;
  /**
   * Hold an upstream end this long before passing it to the client. A peer
   * that dies closes our TLS stream to it without close_notify, which Node
   * reports as a clean end; the peer link notices the death at the same moment,
   * and the tunnel is reset (TunnelTable.resetSource) within this grace
   * instead of looking complete. 0: pass the end on at once.
   */
  readonly upstreamEndGraceMs?: number;
}

export interface Relay {
  /** Settles once both sides are closed and the tunnel is closed. */
  readonly done: Promise<void>;
  /** Cuts both sides now; `reason` becomes the tunnel's error. */
  destroy(reason: string): void;
}

/**
 * Moves bytes both ways between the client and the upstream until both are
 * closed, counting them on the tunnel.
 * - Backpressure end to end: a side whose peer cannot take more is paused
 *   until the peer drains, so a slow reader never makes the node buffer.
 * - Half-close: an end on one side ends the other's write side; the reverse
 *   direction keeps flowing until it ends too.
 * - An error or abrupt close on either side cuts both (TCP reset), and the
 *   tunnel is closed with that reason; otherwise it is closed without error.
 */
export function relay(client: Duplex, upstream: Duplex, tunnel: TunnelHandle, options: RelayOptions = {}): Relay {
  const { first, reader, clientTransport, upstreamEndGraceMs = 0 } = options;
  let error: string | undefined;
  let open = 2;
  let settle!: () => void;
  const done = new Promise<void>((resolve) => (settle = resolve));

  const finishers: (() => void)[] = [];
  const destroy = (reason: string) => {
    error ??= reason;
    cut(client, clientTransport);
    cut(upstream);
    // A stream already closed may not emit 'close' again: count it here, so the tunnel always ends.
    process.nextTick(() => finishers.forEach((f) => f()));
  };

  const sides = [
    { stream: client, name: 'client', peer: upstream, count: (n: number) => tunnel.countUp(n) },
    { stream: upstream, name: 'upstream', peer: client, count: (n: number) => tunnel.countDown(n) },
  ];
  // Half-close needs each side to stay writable after its read side ends.
  upstream.allowHalfOpen = true;
  client.allowHalfOpen = true;

  for (const { stream, name, peer, count } of sides) {
    stream.on('data', (chunk: Buffer) => {
      count(chunk.length);
      if (!peer.writable) {
        destroy(`${name} sent data after the other side had closed`);
      } else if (!peer.write(chunk)) {
        stream.pause();
      }
    });
    peer.on('drain', () => stream.resume());
    if (stream === upstream && upstreamEndGraceMs > 0) {
      stream.on('end', () => setTimeout(() => !error && peer.end(), upstreamEndGraceMs).unref());
    } else {
      stream.on('end', () => peer.end());
    }
    stream.on('error', (err: NodeJS.ErrnoException) => destroy(`${name}: ${err.code ?? err.message}`));
    let counted = false;
    const onClose = () => {
      if (counted) return;
      counted = true;
      // A clean close has both directions finished; anything else is a reset or a destroy.
      if (!(stream.readableEnded && stream.writableFinished)) destroy(`${name} connection closed abruptly`);
      if (--open === 0) {
        tunnel.close(error);
        settle();
      }
    };
    finishers.push(() => {
      if (stream.closed) onClose();
    });
    if (stream.closed) process.nextTick(onClose);
    else stream.on('close', onClose);
  }

  // An upstream read through pooled buffers (see UpstreamReader) delivers here instead of 'data'.
  let waiting = false;
  const resumeUpstream = () => {
    if (waiting) {
      waiting = false;
      upstream.resume();
    }
  };
  reader?.attach((chunk, flushed) => {
    tunnel.countDown(chunk.length);
    if (!client.writable) {
      flushed();
      destroy('upstream sent data after the other side had closed');
      return false;
    }
    client.write(chunk, () => {
      flushed();
      resumeUpstream();
    });
    if (client.writableLength === 0) return true;
    // The client cannot take more for now: read nothing more until this chunk is written.
    waiting = true;
    upstream.pause();
    return false;
  });

  if (first && first.length > 0) {
    tunnel.countUp(first.length);
    if (!upstream.write(first)) client.pause();
  }
  // The client may have ended its write side while the upstream was being dialed.
  if (client.readableEnded) upstream.end();
  else if (!upstream.writableNeedDrain) client.resume();
  upstream.resume();
  return { done, destroy };
}

/**
 * Destroys a stream; a TCP socket (or the TCP socket under a TLS stream) is
 * reset rather than ended, so a failure on the other side is not mistaken for
 * a clean end (a truncated download must not look complete). A stream whose
 * write side was already ended is complete in that direction and only
 * destroyed: libuv cannot reset a socket whose shutdown is still pending (a
 * client that stopped reading), and Node then loses the handle without
 * closing it.
 */
function cut(stream: Duplex, transport?: Socket): void {
  const tcp = transport ?? stream;
  if (tcp instanceof Socket && !tcp.destroyed && !stream.writableEnded) {
    try {
      tcp.resetAndDestroy();
    } catch {
      // Not a TCP handle (a pipe, say): a plain destroy below.
    }
  }
  if (!stream.destroyed) stream.destroy();
}
