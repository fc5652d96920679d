import * as net from 'node:net';
import type { PluginContext, Transport, TransportAddress, TransportListener } from 'booster';

/** Booster links over plain TCP, as 0.3 nodes speak them. */
export const tcpTransport: Transport = {
  id: 'tcp',

  connect(address: TransportAddress, signal?: AbortSignal) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: address.host, port: address.port, noDelay: true });
      // The signal bounds the connect only, never the link's lifetime.
      const onAbort = () => socket.destroy(Object.assign(new Error('connect aborted'), { name: 'AbortError', code: 'ABORT_ERR' }));
      if (signal?.aborted) onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      });
      socket.once('connect', () => {
        signal?.removeEventListener('abort', onAbort);
        socket.removeAllListeners('error');
        resolve(socket);
      });
    });
  },

  listen(address: TransportAddress, onConnection) {
    return new Promise<TransportListener>((resolve, reject) => {
      const sockets = new Set<net.Socket>();
      const server = net.createServer((socket) => {
        socket.setNoDelay(true);
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        onConnection(socket, { host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 });
      });
      server.once('error', reject);
      server.listen(address.port, address.host, () => {
        server.off('error', reject);
        const bound = server.address() as net.AddressInfo;
        resolve({
          address: { host: bound.address, port: bound.port },
          dispose() {
            server.close();
            for (const s of sockets) s.destroy();
          },
        });
      });
    });
  },
};

export function activate(context: PluginContext): void {
  context.subscriptions.push(context.transports.register(tcpTransport));
}
