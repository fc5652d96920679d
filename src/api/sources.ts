import type { Event } from './event';

/**
 * Somewhere a connection can leave from.
 * - `direct`: the local node, the OS picks the route;
 * - `interface`: the local node, bound to one local address (`localAddress`);
 * - `peer`: chained through a remote booster node's proxy (`proxy`).
 */
export type SourceKind = 'direct' | 'interface' | 'peer';

export interface SourceDescriptor {
  /** Stable id: "direct", "if:eth0:192.168.1.2", or the peer's node id. */
  readonly id: string;
  readonly kind: SourceKind;
  /** Human label for logs and monitors. */
  readonly label: string;
  /** Which registered dialer opens connections for this source. */
  readonly dialer: string;
  /** Local address to bind (interface sources). */
  readonly localAddress?: string;
  /**
   * Proxy endpoint to chain through (peer sources). `secure`: the peer proved
   * it holds the network key, and its proxy is reached through TLS (SOCKS5
   * method 0x86, README "Security"); otherwise it is a 0.3 peer and its proxy
   * is plain SOCKS5.
   */
  readonly proxy?: { readonly host: string; readonly port: number; readonly secure?: boolean };
  /** True for sources that live on this machine (direct and interface). */
  readonly local: boolean;
}

export type SourceHealth = 'healthy' | 'ejected' | 'down';

/** Live statistics the runtime keeps for every source; policies read, never write. */
export interface SourceStats {
  /** Tunnels this node currently has open through the source. */
  readonly openTunnels: number;
  /**
   * Workload as the 0.3 least-busy rule sees it: a peer's own reported count of
   * open tunnels (ProxyUpdate); for the local node, its total minus its peers'.
   */
  readonly workload: number;
  /** EWMA of bytes/s moved through this source, each direction. */
  readonly throughputDown: number;
  readonly throughputUp: number;
  /** Best observed sustained download rate (bytes/s); 0 while unknown. */
  readonly capacity: number;
  /** Dial failures within the recent window, and in a row. */
  readonly recentFailures: number;
  readonly consecutiveFailures: number;
  /** EWMA of connect latency in ms; 0 while unknown. */
  readonly connectLatencyMs: number;
  readonly health: SourceHealth;
  readonly totalTunnels: number;
  readonly bytesDown: number;
  readonly bytesUp: number;
}

/** A source as handed to policies: descriptor plus a snapshot of its statistics. */
export interface Candidate extends SourceDescriptor {
  readonly stats: SourceStats;
}

export interface SourceChange {
  readonly source: SourceDescriptor;
  readonly change: 'added' | 'removed';
}

export interface SourceHealthChange {
  readonly source: SourceDescriptor;
  readonly health: SourceHealth;
  readonly reason: string;
}

/** The plugin-facing view of the node's sources. */
export interface SourcesApi {
  /** Adds a source; disposing the result removes it. */
  add(source: SourceDescriptor): import('./disposable').Disposable;
  list(): readonly Candidate[];
  get(id: string): Candidate | undefined;
  /**
   * Result of an active health probe of a source this plugin added: a failed
   * probe takes the source out of rotation until a probe succeeds again.
   */
  reportProbe(id: string, ok: boolean, reason: string): void;
  readonly onDidChange: Event<SourceChange>;
  readonly onDidChangeHealth: Event<SourceHealthChange>;
}
