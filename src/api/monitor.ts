import type { Disposable } from './disposable';
import type { NodeEvents, TunnelInfo, WorkloadEntry } from './events';
import type { Rule } from './settings';
import type { Candidate } from './sources';

/** A remote node this node wired, as monitors see it. */
export interface PeerInfo {
  readonly id: string;
  /** Booster endpoint and proxy, "host:port". */
  readonly baddr: string;
  readonly paddr: string;
  /** "disconnected": removed by the user (booster disconnect); "down": lost, reconnecting. */
  readonly state: 'up' | 'down' | 'disconnected';
  /** Tunnels the peer reports open (its workload, summed over targets). */
  readonly tunnels: number;
  /** Heartbeat round trip (EWMA, ms) while the link is up and the peer speaks booster.v1; undefined otherwise. */
  readonly rttMs?: number;
}

/**
 * A source's state in words (as `booster sources` shows it): `up`, `probing`
 * (back from an ejection, the next dial decides), `ejected` until
 * `ejectedUntil` (epoch ms), or `down`; `reason` says why when not up.
 */
export interface SourceStateView {
  readonly state: 'up' | 'probing' | 'ejected' | 'down';
  readonly reason: string;
  readonly ejectedUntil?: number;
}

/** The balancing policy in use and what else could be chosen. */
export interface PolicyView {
  /** Undefined only while the node starts. */
  readonly current: string | undefined;
  readonly fallback: string;
  readonly available: readonly string[];
  /** Faults so far, by policy name. */
  readonly faults: Readonly<Record<string, number>>;
}

/** What a monitor may look at: the typed events and snapshots of the state behind them. */
export interface MonitorApi extends NodeEvents {
  readonly nodeId: string;
  tunnels(): readonly TunnelInfo[];
  workload(): readonly WorkloadEntry[];
  sources(): readonly Candidate[];
  peers(): readonly PeerInfo[];
  policy(): PolicyView;
  /** Routing rules in force, in order. */
  rules(): readonly Rule[];
  /** State of one source in words; undefined for an unknown id. */
  sourceState(id: string): SourceStateView | undefined;
  /**
   * Switches the balancing policy the way `booster policy use` does (logged,
   * shown by `policy list`); rejects with a clear error for a policy no plugin provides.
   */
  usePolicy(name: string): Promise<void>;
}

/** Consumes the node's events and exposes them somewhere (a log, metrics, a web page). */
export interface Monitor {
  readonly id: string;
  start(api: MonitorApi): Disposable | Promise<Disposable>;
}
