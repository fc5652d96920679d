import type { Duplex } from 'node:stream';
// Built-in plugins ship together: the tls transport is the tcp one plus `secure`.
import { tcpTransport } from '../../tcp/src/index';
import type { LinkSecurity, PluginContext, Transport } from 'booster';

/**
 * Booster links over TCP that turn into TLS 1.3 right after the plain 0.3
 * Hello (StartTls, README "Security"). The pre-shared key is derived from the
 * network key, so a node without the key cannot complete the handshake, and
 * nothing on the LAN can read or alter the link. A 0.3 node never asks for
 * StartTls and keeps talking plain, where --allow-legacy-peers admits it.
 * Connecting and listening are plain TCP's; only `secure` is added.
 */
export function tlsTransport(security: LinkSecurity): Transport {
  return {
    id: 'tls',
    connect: (address, signal) => tcpTransport.connect(address, signal),
    listen: (address, onConnection) => tcpTransport.listen(address, onConnection),
    secure(stream: Duplex, role: 'client' | 'server', signal?: AbortSignal): Promise<Duplex> {
      return role === 'client' ? security.secureClient(stream, signal) : security.secureServer(stream, signal);
    },
  };
}

export function activate(context: PluginContext): void {
  context.subscriptions.push(context.transports.register(tlsTransport(context.security)));
}
