import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { LinkSecurity, PluginContext, Transport, TransportAddress, TransportListener } from 'booster';

/**
 * Booster links over TCP that turn into TLS 1.3 right after the plain 0.3
 * Hello (StartTls, README "Security"). The pre-shared key is derived from the
 * network key, so a node without the key cannot complete the handshake, and
 * nothing on the LAN can read or alter the link. A 0.3 node never asks for
 * StartTls and keeps talking plain, where --allow-legacy-peers admits it.
 */
export function tlsTransport(security: LinkSecurity): Transport {
  return {
    id: 'tls',

    connect(address: TransportAddress, signal?: AbortSignal): Promise<Duplex> {
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

    listen(address: TransportAddress, onConnection): Promise<TransportListener> {
      return new Promise((resolve, reject) => {
        const sockets = new Set<net.Socket>();
        const server = net.createServer({ noDelay: true }, (socket) => {
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

    secure(stream: Duplex, role: 'client' | 'server', signal?: AbortSignal): Promise<Duplex> {
      return role === 'client' ? security.secureClient(stream, signal) : security.secureServer(stream, signal);
    },
  };
}

export function activate(context: PluginContext): void {
  context.subscriptions.push(context.transports.register(tlsTransport(context.security)));
}
