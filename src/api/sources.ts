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

/**
 * - `measured`: this node's own measurement of traffic through the source;
 * - `probe`: an active download through the source (local sources, opt-in);
 * - `advertised`: the peer's own estimate of its link (LinkReport);
 * - `persisted`: saved by an earlier run of this node (data dir, links.json);
 * - `unknown`: nothing yet (capacity 0).
 */
export type CapacitySource = 'measured' | 'advertised' | 'persisted' | 'probe' | 'unknown';

/** Statistics the runtime keeps for every source; policies and plugins see frozen snapshots of them. */
export interface SourceStats {
  /** Tunnels this node currently has open through the source. */
  readonly openTunnels: number;
  /**
   * Workload as the 0.3 least-busy rule sees it: a peer's own reported count of
   * open tunnels (ProxyUpdate); for the local node, its total minus its peers'.
   */
  readonly workload: number;
  /** Dials under way through this source: decided, not yet a tunnel (a burst's earlier connections). */
  readonly pendingDials: number;
  /**
   * What a new connection here would share the link with: tunnels open plus
   * dials under way; for a peer, at least the open tunnels it reports itself
   * (its own users share its link too). The figure capacity-aware policies use.
   */
  readonly load: number;
  /** EWMA of bytes/s moved through this source, each direction. */
  readonly throughputDown: number;
  readonly throughputUp: number;
  /**
   * Download capacity (bytes/s) policies should use; 0 while unknown. Our own
   * measurement while fresh, else (peers) the capacity the peer advertises,
   * else our older measurement, else the value saved by an earlier run. For a
   * peer whose link is busy with its own users (it advertises more throughput
   * than our tunnels through it move), only what is left is counted.
   */
  readonly capacity: number;
  /** Where `capacity` comes from. */
  readonly capacitySource: CapacitySource;
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

/**
 * A source as handed to policies and plugins: descriptor plus its statistics,
 * a frozen copy taken once per decision (writing to it throws in strict mode,
 * and never reaches the live figures; they do not change under a policy while
 * it decides).
 */
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
  /** Snapshots of the sources now (frozen copies). */
  list(): readonly Candidate[];
  get(id: string): Candidate | undefined;
  /**
   * Result of an active health probe of a source this plugin added: a failed
   * probe takes the source out of rotation until a probe succeeds again. Any
   * other id throws (and counts as a fault of the plugin).
   */
  reportProbe(id: string, ok: boolean, reason: string): void;
  readonly onDidChange: Event<SourceChange>;
  readonly onDidChangeHealth: Event<SourceHealthChange>;
}
