import type { CapacitySettings } from '../api/settings';

/**
 * Link capacity estimation: the rate a source delivers while saturated, all
 * flows through it together. Pure: the caller feeds it the source's byte
 * counter on every tick, with the time (injected clock) and whether the
 * source was busy; it keeps no timers.
 *
 * - Each tick yields the download rate over the last `rateWindowMs` (two
 *   seconds): short enough to rise within seconds, long enough that a token
 *   bucket's burst or a bunched delivery is mostly averaged out.
 * - A rate is taken over busy time only (tunnels open at every tick of it:
 *   the whole window, or the busy stretch since the last idle tick once it
 *   lasts 3/4 of a second) and is evidence when it moved at least
 *   `minBusyRate`: idle time and keep-alive trickles say nothing about what
 *   the link can carry.
 * - The estimate is an upper percentile (`percentile`, the 75th) of the last
 *   `busyWindowMs / tickMs` evidence samples. Idle time adds no samples, so the
 *   estimate holds while the source is idle; a slow-start ramp's low samples
 *   sit below the percentile; burst-inflated samples (a reader downstream
 *   that stalled, then caught up: measured on the testbed, where the 90th
 *   percentile of 1 s windows read a 2.4 Mbit/s link as 3.7) sit above it; and
 *   when the link gets slower, the old samples leave the window: the estimate
 *   follows a rate that halves within (1 - percentile) ... 1 × busyWindowMs of
 *   busy time (7.5 busy seconds with the defaults), plus one or two rate windows.
 */
export interface CapacityEstimatorOptions {
  /** Period at which the caller samples (ms); the rate window and busy window are counted in ticks of it. */
  readonly tickMs: number;
  /** Each sample is the rate over this long (ms). */
  readonly rateWindowMs: number;
  /** The estimate is taken over the evidence of the last this-many busy ms. */
  readonly busyWindowMs: number;
  /** Which percentile of those samples is the capacity, in (0, 1]. */
  readonly percentile: number;
  /** Bytes/s below which a busy window is not evidence (keep-alives, a chat). */
  readonly minBusyRate: number;
}

/** The `capacity` settings' defaults (README "Balancing policies"). */
export const DEFAULT_CAPACITY: CapacitySettings = {
  tickMs: 250,
  rateWindowMs: 2000,
  busyWindowMs: 10_000,
  percentile: 0.75,
  minBusyRate: 16 * 1024,
  freshMs: 600_000,
  busyShare: 0.2,
  minAvailableShare: 0.1,
  persist: true,
  saveDelayMs: 10_000,
  maxAgeMs: 7 * 24 * 3600 * 1000,
  maxRecords: 256,
};

/**
 * A busy stretch shorter than the rate window still counts once it lasts 3/4
 * of this: a 2 MB download on a 10 Mbit/s link (1.7 s) is evidence, though
 * shorter than a full window.
 */
const MIN_EVIDENCE_SPAN_MS = 1000;

interface Point {
  readonly at: number;
  readonly bytes: number;
  readonly busy: boolean;
}

export class CapacityEstimator {
  private readonly points: Point[] = [];
  private readonly samples: number[] = [];
  private next = 0;
  private readonly maxSamples: number;
  private estimate = 0;
  private lastEvidenceAt: number | undefined;

  constructor(private readonly options: CapacityEstimatorOptions = DEFAULT_CAPACITY) {
    this.maxSamples = Math.max(1, Math.round(options.busyWindowMs / options.tickMs));
  }

  /** Capacity in bytes/s; 0 while nothing has been measured. */
  get capacity(): number {
    return this.estimate;
  }

  /** Clock time of the last sample that counted as evidence; undefined before the first. */
  get measuredAt(): number | undefined {
    return this.lastEvidenceAt;
  }

  /** Evidence samples held (at most busyWindowMs / tickMs). */
  get sampleCount(): number {
    return this.samples.length;
  }

  /**
   * One tick: `totalBytes` is the source's cumulative download counter, `busy`
   * whether it had tunnels open. Returns true when the sample was evidence
   * (the estimate may have changed).
   */
  sample(now: number, totalBytes: number, busy: boolean): boolean {
    const points = this.points;
    points.push({ at: now, bytes: totalBytes, busy });
    // Keep the newest point at or before the window's start as the base.
    const start = now - this.options.rateWindowMs;
    while (points.length > 2 && points[1].at <= start) points.shift();
    if (!busy) return false;
    // The rate is taken over the busy stretch only: from the last idle point in the window (or the window's start) on.
    let from = 0;
    for (let i = points.length - 2; i >= 0; i--) {
      if (!points[i].busy) {
        from = i;
        break;
      }
    }
    const base = points[from];
    const span = now - base.at;
    // Too short to say anything (a start, or a late timer): at least 3/4 of a second, or of the window if shorter.
    if (span < Math.min(this.options.rateWindowMs, MIN_EVIDENCE_SPAN_MS) * 0.75) return false;
    const rate = ((totalBytes - base.bytes) * 1000) / span;
    if (!(rate >= this.options.minBusyRate)) return false;
    this.add(rate);
    this.lastEvidenceAt = now;
    return true;
  }

  private add(rate: number): void {
    if (this.samples.length < this.maxSamples) this.samples.push(rate);
    else this.samples[this.next] = rate;
    this.next = (this.next + 1) % this.maxSamples;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const rank = Math.max(1, Math.ceil(this.options.percentile * sorted.length));
    this.estimate = sorted[rank - 1];
  }
}

/** One estimate of a link's capacity and when it was made (clock ms). */
export interface LinkEstimate {
  /** Bytes/s. */
  readonly capacity: number;
  readonly at: number;
}

/** What is known of one source's link, for effectiveCapacity. */
export interface CapacityEvidence {
  /** Our own measurement of traffic through the source. */
  readonly measured?: LinkEstimate;
  /** An active probe's result (local sources). */
  readonly probe?: LinkEstimate;
  /** The peer's advertisement of its own link: capacity (0 = it does not know) and what it carries, all users together. */
  readonly advertised?: { readonly capacity: number; readonly throughput: number };
  /** Saved by an earlier run (already filtered by age). */
  readonly persisted?: LinkEstimate;
  /** What our own tunnels through the source move now (bytes/s), to tell the peer's other users apart. */
  readonly ourThroughput: number;
}

export interface EffectiveCapacityOptions {
  /** Our own estimate older than this gives way to an advertisement. */
  readonly freshMs: number;
  /** Others' throughput above this share of the advertised capacity makes the peer busy. */
  readonly busyShare: number;
  /** A busy peer still offers at least this share of its advertised capacity. */
  readonly minAvailableShare: number;
}

export type CapacityChoice = { readonly capacity: number; readonly source: 'measured' | 'probe' | 'advertised' | 'persisted' | 'unknown' };

/**
 * The capacity policies should use, and where it comes from: our own estimate
 * (the more recent of measurement and probe) while fresh; else the peer's
 * advertised capacity; else our own older estimate; else a saved one.
 *
 * Utilisation: a peer advertises what its link carries for every user. What
 * our tunnels do not account for, others' = throughput - ours, is traffic of
 * the peer's own users; when it exceeds busyShare of the advertised capacity,
 * only the rest is available to us: min(capacity, max(advertised - others',
 * minAvailableShare × advertised)). Their tunnels also count in the peer's
 * load, so a busy peer is avoided twice over: deliberate, since what we take
 * from a busy peer is taken from its owner.
 */
export function effectiveCapacity(e: CapacityEvidence, now: number, o: EffectiveCapacityOptions): CapacityChoice {
  const own = e.measured && e.probe ? (e.probe.at > e.measured.at ? 'probe' : 'measured') : e.measured ? 'measured' : e.probe ? 'probe' : undefined;
  const ownEstimate = own ? e[own]! : undefined;
  let choice: CapacityChoice;
  if (own && ownEstimate && now - ownEstimate.at <= o.freshMs) choice = { capacity: ownEstimate.capacity, source: own };
  else if (e.advertised && e.advertised.capacity > 0) choice = { capacity: e.advertised.capacity, source: 'advertised' };
  else if (own && ownEstimate) choice = { capacity: ownEstimate.capacity, source: own };
  else if (e.persisted) choice = { capacity: e.persisted.capacity, source: 'persisted' };
  else return { capacity: 0, source: 'unknown' };
  const adv = e.advertised;
  if (adv && adv.capacity > 0) {
    const others = Math.max(0, adv.throughput - e.ourThroughput);
    if (others > o.busyShare * adv.capacity) {
      const available = Math.max(adv.capacity - others, o.minAvailableShare * adv.capacity);
      choice = { capacity: Math.min(choice.capacity, available), source: choice.source };
    }
  }
  return choice;
}
