import * as net from 'node:net';
import type { Dialer, DialRequest, DialResult } from 'booster';

/** Opens a TCP connection from this machine; resolves names with the local resolver. */
export class DirectDialer implements Dialer {
  readonly id = 'direct';

  dial({ target, source, signal, onread }: DialRequest): Promise<DialResult> {
    return new Promise((resolve, reject) => {
      const localAddress = source.localAddress;
      const socket = net.connect({
        host: target.host,
        port: target.port,
        localAddress,
        family: localAddress ? net.isIP(localAddress) : undefined,
        noDelay: true,
        onread,
      });
      // The signal bounds the dial only, never the tunnel's lifetime.
      const onAbort = () => socket.destroy(Object.assign(new Error('dial aborted'), { name: 'AbortError', code: 'ABORT_ERR' }));
      const onError = (err: Error) => {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(err);
      };
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once('connect', () => {
        signal.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        resolve({ socket, bound: { host: socket.localAddress ?? '0.0.0.0', port: socket.localPort ?? 0 } });
      });
    });
  }
}
