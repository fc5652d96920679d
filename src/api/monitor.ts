import type { Disposable } from './disposable';
import type { NodeEvents, TunnelInfo, WorkloadEntry } from './events';
import type { Candidate } from './sources';

/** What a monitor may look at: the typed events and snapshots of the state behind them. */
export interface MonitorApi extends NodeEvents {
  readonly nodeId: string;
  tunnels(): readonly TunnelInfo[];
  workload(): readonly WorkloadEntry[];
  sources(): readonly Candidate[];
}

/** Consumes the node's events and exposes them somewhere (a log, metrics, a web page). */
export interface Monitor {
  readonly id: string;
  start(api: MonitorApi): Disposable | Promise<Disposable>;
}
