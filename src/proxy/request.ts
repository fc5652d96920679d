import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { InboundProtocol } from '../api/events';
import type { Logger } from '../api/logger';
import type { Target } from '../api/target';
import type { Socks5Reply } from '../kernel/connector-errors';

/** A parsed proxy request: where to go, and how to answer the client in its protocol. */
export interface InboundRequest {
  readonly target: Target;
  readonly protocol: InboundProtocol;
  /** Writes the success reply; returns bytes to send upstream first (HTTP forwarding's rewritten head). */
  succeed(client: Duplex, bound?: { readonly host: string; readonly port: number }): Buffer | undefined;
  /** Writes the failure reply for a SOCKS5 reply code and ends the client's write side. */
  fail(client: Duplex, reply: Socks5Reply, message: string): void;
}

export type CredentialVerdict = 'ok' | 'wrong' | 'locked-out';

/** Checks a username/password a client presented (throttled: a wrong one is answered late). */
export interface CredentialCheck {
  check(username: Buffer, password: Buffer): Promise<CredentialVerdict>;
}

/** What this client needs to be served. */
export interface ClientAccess {
  /** Served without credentials. */
  readonly admitted: boolean;
  /** Set when the proxy has credentials configured: a client that is not admitted may still present them. */
  readonly credentials?: CredentialCheck;
  /** SOCKS5 method 0x86 (TLS with the network key) may be chosen. */
  readonly tlsUpgrade: boolean;
}

/** What a protocol handshake may use besides the socket. */
export interface HandshakeContext {
  readonly access: ClientAccess;
  /** "ip:port" of the client, for log lines. */
  readonly peer: string;
  readonly log: Logger;
}

export function targetOf(host: string, port: number): Target {
  const family = net.isIP(host);
  return { host, port, kind: family === 4 ? 'ipv4' : family === 6 ? 'ipv6' : 'domain' };
}
