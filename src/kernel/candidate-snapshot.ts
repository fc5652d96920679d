import type { Candidate, SourceHealth, SourceStats } from '../api/sources';

/**
 * A frozen copy of a candidate and its statistics, taken once per decision:
 * what policies and plugins are handed, so that none can alter the registry's
 * live figures (or see them change mid-decision). Classes with a fixed shape:
 * freezing a spread object literal costs about 2 µs a candidate in V8, these
 * about 0.3 µs.
 */
export function snapshotCandidate(c: Candidate): Candidate {
  return new CandidateSnapshot(c);
}

class CandidateSnapshot implements Candidate {
  readonly id: string;
  readonly kind: Candidate['kind'];
  readonly label: string;
  readonly dialer: string;
  readonly localAddress?: string;
  readonly proxy?: Candidate['proxy'];
  readonly local: boolean;
  readonly stats: SourceStats;
  constructor(c: Candidate) {
    this.id = c.id;
    this.kind = c.kind;
    this.label = c.label;
    this.dialer = c.dialer;
    this.localAddress = c.localAddress;
    this.proxy = c.proxy;
    this.local = c.local;
    this.stats = new StatsSnapshot(c.stats);
    Object.freeze(this);
  }
}

class StatsSnapshot implements SourceStats {
  readonly openTunnels: number;
  readonly workload: number;
  readonly pendingDials: number;
  readonly load: number;
  readonly throughputDown: number;
  readonly throughputUp: number;
  readonly capacity: number;
  readonly capacitySource: SourceStats['capacitySource'];
  readonly recentFailures: number;
  readonly consecutiveFailures: number;
  readonly connectLatencyMs: number;
  readonly health: SourceHealth;
  readonly totalTunnels: number;
  readonly bytesDown: number;
  readonly bytesUp: number;
  constructor(s: SourceStats) {
    this.openTunnels = s.openTunnels;
    this.workload = s.workload;
    this.pendingDials = s.pendingDials;
    this.load = s.load;
    this.throughputDown = s.throughputDown;
    this.throughputUp = s.throughputUp;
    this.capacity = s.capacity;
    this.capacitySource = s.capacitySource;
    this.recentFailures = s.recentFailures;
    this.consecutiveFailures = s.consecutiveFailures;
    this.connectLatencyMs = s.connectLatencyMs;
    this.health = s.health;
    this.totalTunnels = s.totalTunnels;
    this.bytesDown = s.bytesDown;
    this.bytesUp = s.bytesUp;
    Object.freeze(this);
  }
}
