import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TunnelHandle } from '../dispatch/types';
import type { UpstreamReader } from './upstream-reader';

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
 * `first` (pipelined client bytes, a rewritten HTTP head) goes upstream before anything else.
 */
export function relay(client: Socket, upstream: Duplex, tunnel: TunnelHandle, first?: Buffer, reader?: UpstreamReader): Relay {
  let error: string | undefined;
  let open = 2;
  let settle!: () => void;
  const done = new Promise<void>((resolve) => (settle = resolve));

  const destroy = (reason: string) => {
    error ??= reason;
    cut(client);
    cut(upstream);
  };

  const sides = [
    { stream: client as Duplex, name: 'client', peer: upstream, count: (n: number) => tunnel.countUp(n) },
    { stream: upstream, name: 'upstream', peer: client as Duplex, count: (n: number) => tunnel.countDown(n) },
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
    stream.on('end', () => peer.end());
    stream.on('error', (err: NodeJS.ErrnoException) => destroy(`${name}: ${err.code ?? err.message}`));
    const onClose = () => {
      // A clean close has both directions finished; anything else is a reset or a destroy.
      if (!(stream.readableEnded && stream.writableFinished)) destroy(`${name} connection closed abruptly`);
      if (--open === 0) {
        tunnel.close(error);
        settle();
      }
    };
    if (stream.closed) process.nextTick(onClose);
    else stream.on('close', onClose);
  }

  // An upstream read through a reused buffer (see UpstreamReader) delivers here instead of 'data'.
  let waiting = false;
  const resumeUpstream = () => {
    if (waiting) {
      waiting = false;
      upstream.resume();
    }
  };
  reader?.attach((chunk) => {
    tunnel.countDown(chunk.length);
    if (!client.writable) {
      destroy('upstream sent data after the other side had closed');
      return false;
    }
    client.write(chunk, resumeUpstream);
    if (client.writableLength === 0) return true;
    // The chunk is a view of the reused buffer and still queued: read nothing more until it is written.
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
 * Destroys a stream; a TCP socket is reset rather than ended, so a failure on
 * the other side is not mistaken for a clean end (a truncated download must
 * not look complete).
 */
function cut(stream: Duplex): void {
  if (stream.destroyed) return;
  if (stream instanceof Socket) {
    try {
      stream.resetAndDestroy();
      return;
    } catch {
      // Not a TCP handle (a pipe, say): a plain destroy below.
    }
  }
  stream.destroy();
}
