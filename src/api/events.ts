import type { Event } from './event';
import type { SourceChange, SourceHealthChange } from './sources';
import type { Target } from './target';

export type InboundProtocol = 'socks5' | 'socks4' | 'http-connect' | 'http-forward';

/** One proxied connection, as monitors see it. Byte counters are live. */
export interface TunnelInfo {
  /** Unique per node run. */
  readonly id: number;
  readonly target: Target;
  /** "host:port", the string peers see; its SHA-1 is the 0.3 tunnel id. */
  readonly targetAddress: string;
  readonly sourceId: string;
  readonly protocol: InboundProtocol;
  readonly client: string;
  readonly openedAt: number;
  readonly bytesUp: number;
  readonly bytesDown: number;
}

export interface TunnelClosed {
  readonly tunnel: TunnelInfo;
  readonly closedAt: number;
  /** Set when the tunnel ended with an error rather than an orderly close. */
  readonly error?: string;
}

/** Workload in the 0.3 sense: open tunnels grouped by target with copy counts. */
export interface WorkloadEntry {
  /** Lowercase hex SHA-1 of `target`. */
  readonly id: string;
  readonly target: string;
  readonly copies: number;
}

export interface WorkloadChange {
  /** Total open tunnels on this node. */
  readonly total: number;
  readonly target: string;
  readonly operation: 'added' | 'removed';
}

export interface DialAttempt {
  readonly target: Target;
  readonly sourceId: string;
  readonly ok: boolean;
  readonly latencyMs: number;
  readonly error?: string;
}

/** Something went wrong inside a plugin; the node carried on. */
export interface PluginFault {
  readonly plugin: string;
  readonly contribution?: string;
  readonly message: string;
}

export interface ProxyRejection {
  readonly client: string;
  readonly reason: string;
}

export interface PeerEvent {
  readonly nodeId: string;
  readonly address: string;
  readonly change: 'added' | 'removed' | 'up' | 'down';
  readonly reason?: string;
}

/** A configured limit refused something (a connection, a login, a request); every hit, also those the log summarises. */
export interface LimitHit {
  /** Which limit, a stable key such as "proxy-connections". */
  readonly limit: string;
  readonly message: string;
}

export interface PolicyChange {
  readonly previous: string;
  readonly current: string;
}

/** Every event a monitor might show. */
export interface NodeEvents {
  readonly onTunnelOpened: Event<TunnelInfo>;
  readonly onTunnelClosed: Event<TunnelClosed>;
  readonly onWorkloadChanged: Event<WorkloadChange>;
  readonly onDial: Event<DialAttempt>;
  readonly onSourceChanged: Event<SourceChange>;
  readonly onSourceHealthChanged: Event<SourceHealthChange>;
  readonly onPeerChanged: Event<PeerEvent>;
  readonly onPluginFault: Event<PluginFault>;
  readonly onProxyRejected: Event<ProxyRejection>;
  readonly onPolicyChanged: Event<PolicyChange>;
  readonly onLimitHit: Event<LimitHit>;
}
