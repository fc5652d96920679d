import type { Socket } from 'node:net';
import type { InboundProtocol } from '../api/events';
import type { Target } from '../api/target';
import type { Socks5Reply } from '../dispatch/errors';

/** A parsed proxy request: where to go, and how to answer the client in that protocol. */
export interface InboundRequest {
  readonly target: Target;
  readonly protocol: InboundProtocol;
  /** Writes the success reply; returns bytes to send upstream before relaying (HTTP forwarding's rewritten head). */
  succeed(client: Socket, bound?: { host: string; port: number }): Buffer | undefined;
  /** Writes the failure reply for a SOCKS5-style reply code. */
  fail(client: Socket, reply: Socks5Reply, message: string): void;
}

export interface HandshakeOptions {
  readonly auth?: { readonly username: string; readonly password: string };
}

export function targetOf(host: string, port: number): Target {
  const kind = host.includes(':') ? 'ipv6' : /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ? 'ipv4' : 'domain';
  return { host, port, kind };
}
