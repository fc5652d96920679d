import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TunnelHandle } from '../dispatch/types';

/**
 * Moves bytes both ways between the client and the upstream until both
 * sockets are closed. pipe() gives backpressure end to end (a slow reader
 * pauses the other side instead of growing buffers); an end on one side is
 * passed on as a half-close, so a client that shuts its write side still gets
 * the whole response. A reset or error on either side ends both.
 */
export function relay(client: Socket, upstream: Duplex, tunnel: TunnelHandle, head?: Buffer): Promise<void> {
  return new Promise((resolve) => {
    let error: string | undefined;
    let open = 2;
    const onClose = (self: Duplex, other: Duplex) => () => {
      // Closed without its read side ending: the peer vanished (reset, destroy).
      if (!self.readableEnded) {
        error ??= self === client ? 'client went away' : 'upstream closed abruptly';
        other.destroy();
      }
      if (--open === 0) {
        tunnel.close(error);
        resolve();
      }
    };
    const onError = (side: string, other: Duplex) => (err: NodeJS.ErrnoException) => {
      error ??= `${side}: ${err.code ?? err.message}`;
      other.destroy();
    };
    client.on('error', onError('client', upstream));
    upstream.on('error', onError('upstream', client));
    client.on('close', onClose(client, upstream));
    upstream.on('close', onClose(upstream, client));
    client.on('data', (chunk: Buffer) => tunnel.countUp(chunk.length));
    upstream.on('data', (chunk: Buffer) => tunnel.countDown(chunk.length));

    if (head && head.length > 0) {
      tunnel.countUp(head.length);
      upstream.write(head);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
}
