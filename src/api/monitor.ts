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
}

/** Consumes the node's events and exposes them somewhere (a log, metrics, a web page). */
export interface Monitor {
  readonly id: string;
  start(api: MonitorApi): Disposable | Promise<Disposable>;
}
