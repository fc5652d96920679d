import type { Duplex } from 'node:stream';
import type { InboundProtocol, TunnelInfo } from '../api/events';
import type { DialRequest } from '../api/dialer';
import type { SourceDescriptor } from '../api/sources';
import type { Target } from '../api/target';

/** One new connection the proxy wants opened. */
export interface DispatchRequest {
  readonly target: Target;
  readonly protocol: InboundProtocol;
  /** "ip:port" of the application that asked. */
  readonly client: string;
  /** Handed to the dialer for the upstream socket (the proxy reads it into a reused buffer). */
  readonly socketOptions?: DialRequest['socketOptions'];
  /**
   * The client is not on this machine: it may not reach loopback, link-local,
   * unspecified or this machine's own addresses (dialers get an AddressGuard).
   */
  readonly restricted?: boolean;
}

/** Live accounting for one open tunnel; the proxy reports bytes and the end. */
export interface TunnelHandle {
  readonly info: TunnelInfo;
  countUp(bytes: number): void;
  countDown(bytes: number): void;
  /** Ends the tunnel (idempotent). */
  close(error?: string): void;
  /**
   * Registers how to cut the tunnel from outside (its source died): the owner
   * of the sockets resets them. One listener; a later call replaces it.
   */
  onAbort(cut: (reason: string) => void): void;
}

export interface OpenedUpstream {
  readonly upstream: Duplex;
  readonly bound?: { readonly host: string; readonly port: number };
  readonly source: SourceDescriptor;
  readonly tunnel: TunnelHandle;
}

/**
 * The proxy's only dependency: opens an upstream for a request (policy,
 * dialer, retries) and registers the tunnel. Rejects with a DialFailure.
 */
export interface Connector {
  open(request: DispatchRequest, signal: AbortSignal): Promise<OpenedUpstream>;
}
