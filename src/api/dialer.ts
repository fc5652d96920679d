import type { TcpSocketConnectOpts } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AddressGuard } from './security';
import type { SourceDescriptor } from './sources';
import type { Target } from './target';

export interface DialRequest {
  readonly target: Target;
  readonly source: SourceDescriptor;
  /** Aborted when the dial times out or the client goes away. */
  readonly signal: AbortSignal;
  /**
   * Options for a `net.Socket` the dialer creates itself and hands back
   * unread: spread them into `net.connect`. What they hold is the node's
   * business (they let it read the upstream efficiently); a dialer that reads
   * the socket before handing it back (a SOCKS handshake) ignores them.
   */
  readonly socketOptions?: Readonly<Partial<TcpSocketConnectOpts>>;
  /**
   * Set when the client is not on this machine: a dialer that resolves names
   * or connects to addresses itself must check every address with it and fail
   * with `socksReply: 2` (not allowed) when it returns a reason.
   */
  readonly guard?: AddressGuard;
}

export interface DialResult {
  readonly socket: Duplex;
  /** The address the upstream socket is bound to, for the SOCKS reply (BND.ADDR/BND.PORT). */
  readonly bound?: { readonly host: string; readonly port: number };
}

/**
 * Opens a connection to a target through one kind of source. Failures are
 * thrown as errors carrying a Node errno `code` (ECONNREFUSED, ENETUNREACH,
 * EHOSTUNREACH, ENOTFOUND, ETIMEDOUT, ...) or a `socksReply` number; the proxy
 * maps them to the client's reply code.
 */
export interface Dialer {
  readonly id: string;
  dial(request: DialRequest): Promise<DialResult>;
}
