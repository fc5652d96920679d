import * as net from 'node:net';
import type { Socket } from 'node:net';
import type { InboundProtocol } from '../api/events';
import type { Logger } from '../api/logger';
import type { Target } from '../api/target';
import type { Socks5Reply } from '../dispatch/errors';

/** A parsed proxy request: where to go, and how to answer the client in its protocol. */
export interface InboundRequest {
  readonly target: Target;
  readonly protocol: InboundProtocol;
  /** Writes the success reply; returns bytes to send upstream first (HTTP forwarding's rewritten head). */
  succeed(client: Socket, bound?: { readonly host: string; readonly port: number }): Buffer | undefined;
  /** Writes the failure reply for a SOCKS5 reply code and ends the client's write side. */
  fail(client: Socket, reply: Socks5Reply, message: string): void;
}

/** What a protocol handshake may use besides the socket. */
export interface HandshakeContext {
  readonly auth?: { readonly username: string; readonly password: string };
  /** "ip:port" of the client, for log lines. */
  readonly peer: string;
  readonly log: Logger;
}

export function targetOf(host: string, port: number): Target {
  const family = net.isIP(host);
  return { host, port, kind: family === 4 ? 'ipv4' : family === 6 ? 'ipv6' : 'domain' };
}
