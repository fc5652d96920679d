import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { toDisposable, type Disposable } from '../api/disposable';
import { Emitter, type Event } from '../api/event';
import type { CapacitySettings, NodeSettings } from '../api/settings';
import type { Candidate, SourceDescriptor, SourceHealth, SourceStats } from '../api/sources';
import { EventHub } from '../kernel/events';
import { TOKENS, type Clock } from '../kernel/tokens';
import { CapacityEstimator, DEFAULT_CAPACITY, effectiveCapacity, type LinkEstimate } from './capacity';

/** Mutable statistics behind a Candidate's read-only `stats`. */
export type MutableStats = { -readonly [K in keyof SourceStats]: SourceStats[K] };

/** Byte counters a tunnel increments directly (hot path: no lookups per chunk). */
export interface SourceMeter {
  bytesUp: number;
  bytesDown: number;
}

interface Entry {
  readonly candidate: Candidate;
  /** The same object as candidate.stats, writable here only. */
  readonly stats: MutableStats;
  reportedWorkload?: number;
  failureTimes: number[];
  ejectedUntil: number;
  ejections: number;
  down: boolean;
  /** Why health last changed, and when (clock ms); "" / undefined while it never did. */
  healthReason: string;
  healthChangedAt?: number;
  /** Back from an ejection, not yet proven by a successful dial (half-open). */
  probing: boolean;
  lastBytesUp: number;
  lastBytesDown: number;
  /** What the peer says of its own link (peers only). */
  advertised?: AdvertisedLink;
  readonly estimator: CapacityEstimator;
  /** Latest result of an active probe (local sources). */
  probe?: LinkEstimate;
}

/** A source's own capacity estimate as saved across restarts (clock ms; the store converts to wall time). */
export interface SavedEstimate extends LinkEstimate {
  readonly via: 'measured' | 'probe';
}

/**
 * A peer's own links as it advertises them (booster.v1 LinkReport): the sum of
 * its direct and interface sources, in bytes/s.
 */
export interface AdvertisedLink {
  /** Estimated capacity of the peer's own Internet link(s); 0 while it does not know. */
  readonly capacity: number;
  /** What the link(s) currently carry, all users together. */
  readonly throughput: number;
}

/** One of this node's own sources (direct, interface) as it advertises it to peers. */
export interface LocalLinkReport {
  readonly id: string;
  readonly kind: 'direct' | 'interface';
  /** Estimated capacity in bytes/s; 0 while unknown. */
  readonly capacity: number;
  /** Current download rate in bytes/s. */
  readonly throughput: number;
}

export interface HealthOptions {
  /** Consecutive dial failures that eject a source. */
  readonly ejectAfter: number;
  /** First ejection back-off; doubles with every ejection in a row, up to maxBackoffMs. */
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Window for `recentFailures`. */
  readonly failureWindowMs: number;
}

const DEFAULT_HEALTH: HealthOptions = { ejectAfter: 3, baseBackoffMs: 5_000, maxBackoffMs: 300_000, failureWindowMs: 60_000 };
/** Weight of a new connect latency; throughput EWMAs keep 70 % per second, whatever the tick. */
const EWMA_ALPHA = 0.3;
const THROUGHPUT_KEEP_PER_SECOND = 0.7;

/**
 * Every source the node can dial through, with the live statistics policies
 * read: tunnel counts, dials under way, load, 0.3 workload, throughput, link
 * capacity (src/dispatch/capacity.ts), dial failures, latency, health.
 */
@injectable()
export class SourceRegistry implements Disposable {
  private readonly entries = new Map<string, Entry>();
  private totalOpen = 0;
  private totalPending = 0;
  private readonly health: HealthOptions = DEFAULT_HEALTH;
  private readonly subscriptions: Disposable[];
  private sampler?: NodeJS.Timeout;
  private lastSample: number;
  private readonly capacity: CapacitySettings;
  /** Estimates saved by an earlier run, by source id (present or not). */
  private readonly restored = new Map<string, SavedEstimate>();
  /** Our own latest estimate per source id, kept after a source goes (a peer comes back). */
  private readonly own = new Map<string, SavedEstimate>();
  private readonly estimatesChanged = new Emitter<void>();
  /** Fires when an own estimate changes (for saving, debounced by the listener). */
  readonly onEstimatesChanged: Event<void> = this.estimatesChanged.event;

  constructor(
    private readonly events: EventHub,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Settings) settings?: NodeSettings,
  ) {
    this.capacity = settings?.capacity ?? DEFAULT_CAPACITY;
    this.lastSample = clock.now();
    this.subscriptions = [events.onTunnelOpened((t) => this.onTunnel(t.sourceId, +1)), events.onTunnelClosed((c) => this.onTunnel(c.tunnel.sourceId, -1))];
  }

  /** Starts the throughput and capacity sampler (every capacity.tickMs). */
  startSampling(): void {
    this.sampler ??= setInterval(() => this.sample(), this.capacity.tickMs);
    this.sampler.unref();
  }

  add(source: SourceDescriptor): Disposable {
    if (this.entries.has(source.id)) throw new Error(`source "${source.id}" already exists`);
    const stats: MutableStats = {
      openTunnels: 0,
      pendingDials: 0,
      load: 0,
      workload: 0,
      throughputDown: 0,
      throughputUp: 0,
      capacity: 0,
      capacitySource: 'unknown',
      recentFailures: 0,
      consecutiveFailures: 0,
      connectLatencyMs: 0,
      health: 'healthy',
      totalTunnels: 0,
      bytesDown: 0,
      bytesUp: 0,
    };
    const entry: Entry = {
      // The descriptor never changes: its nested proxy endpoint is frozen once, so snapshots can share it.
      candidate: { ...source, ...(source.proxy ? { proxy: Object.freeze({ ...source.proxy }) } : {}), stats },
      stats,
      failureTimes: [],
      ejectedUntil: 0,
      ejections: 0,
      down: false,
      healthReason: '',
      probing: false,
      lastBytesDown: 0,
      lastBytesUp: 0,
      estimator: new CapacityEstimator(this.capacity),
    };
    this.entries.set(source.id, entry);
    this.recomputeWorkloads();
    this.refreshCapacity(entry, this.clock.now());
    this.events.sourceChanged.fire({ source, change: 'added' });
    return toDisposable(() => this.remove(source.id));
  }

  remove(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.recomputeWorkloads();
    this.events.sourceChanged.fire({ source: entry.candidate, change: 'removed' });
  }

  get(id: string): Candidate | undefined {
    const entry = this.entries.get(id);
    if (entry) this.refreshHealth(entry);
    return entry?.candidate;
  }

  list(): Candidate[] {
    const out: Candidate[] = [];
    for (const entry of this.entries.values()) {
      this.refreshHealth(entry);
      out.push(entry.candidate);
    }
    return out;
  }

  /** Sources a policy may choose from now: not ejected, not down (per dial: one array, no lookups). */
  available(): Candidate[] {
    // Every ejection that ran out ends first (its event may change another source), then the healthy are read.
    for (const entry of this.entries.values()) this.refreshHealth(entry);
    const out: Candidate[] = [];
    for (const entry of this.entries.values()) if (entry.stats.health === 'healthy') out.push(entry.candidate);
    return out;
  }

  meter(id: string): SourceMeter | undefined {
    return this.entries.get(id)?.stats;
  }

  /**
   * Why a source is in its state: the reason of its last health change, how
   * long ago that was, how long an ejection still lasts, and whether it is
   * back on probation after one (half-open: the next dial decides).
   */
  healthDetail(id: string): { reason: string; sinceMs?: number; ejectedForMs: number; probing: boolean } | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.refreshHealth(entry);
    const now = this.clock.now();
    return {
      reason: entry.healthReason,
      sinceMs: entry.healthChangedAt === undefined ? undefined : now - entry.healthChangedAt,
      ejectedForMs: entry.stats.health === 'ejected' ? Math.max(0, entry.ejectedUntil - now) : 0,
      probing: entry.probing && entry.stats.health === 'healthy',
    };
  }

  /** Total open tunnels on this node (every source). */
  get openTunnels(): number {
    return this.totalOpen;
  }

  /** A peer's own count of its open tunnels, as it reported it (ProxyUpdate). */
  setReportedWorkload(id: string, workload: number | undefined): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.reportedWorkload = workload;
    this.recomputeWorkloads();
  }

  /** A peer's advertisement of its own link(s) (LinkReport); undefined forgets it (link lost). */
  setAdvertisedLink(id: string, link: AdvertisedLink | undefined): void {
    const entry = this.entries.get(id);
    if (!entry || entry.candidate.local) return;
    entry.advertised = link;
    this.refreshCapacity(entry, this.clock.now());
  }

  /** The peer's last advertisement, if any. */
  advertisedLink(id: string): AdvertisedLink | undefined {
    return this.entries.get(id)?.advertised;
  }

  /** This node's own sources (direct and interface), as advertised to peers. */
  localLinks(): LocalLinkReport[] {
    const out: LocalLinkReport[] = [];
    for (const e of this.entries.values()) {
      const kind = e.candidate.kind;
      if (kind === 'peer') continue;
      out.push({ id: e.candidate.id, kind, capacity: e.stats.capacity, throughput: e.stats.throughputDown });
    }
    return out;
  }

  /** An active probe measured this source's link at `capacity` bytes/s. */
  recordProbe(id: string, capacity: number): void {
    const entry = this.entries.get(id);
    if (!entry || !(capacity > 0)) return;
    entry.probe = { capacity, at: this.clock.now() };
    this.own.set(id, { ...entry.probe, via: 'probe' });
    this.refreshCapacity(entry, entry.probe.at);
    this.estimatesChanged.fire();
  }

  /** When this source's latest own estimate (measured, probed, or saved by an earlier run) was made, if any. */
  ownEstimateAt(id: string): number | undefined {
    return this.own.get(id)?.at ?? this.restored.get(id)?.at;
  }

  /**
   * Estimates saved by an earlier run (clock ms, already converted): each is
   * the source's capacity until it is measured (or advertised, for a peer).
   * Estimates older than capacity.maxAgeMs are ignored.
   */
  restore(saved: ReadonlyMap<string, SavedEstimate>): void {
    const now = this.clock.now();
    for (const [id, estimate] of saved) {
      if (now - estimate.at > this.capacity.maxAgeMs || !(estimate.capacity > 0)) continue;
      this.restored.set(id, estimate);
      const entry = this.entries.get(id);
      if (entry) this.refreshCapacity(entry, now);
    }
  }

  /**
   * What to save: every source's own latest estimate, else what was restored,
   * at most capacity.maxRecords (the most recent), none older than maxAgeMs.
   */
  savedEstimates(): Map<string, SavedEstimate> {
    const now = this.clock.now();
    const all = new Map(this.restored);
    for (const [id, e] of this.own) all.set(id, e);
    const kept = [...all].filter(([, e]) => now - e.at <= this.capacity.maxAgeMs).sort((a, b) => b[1].at - a[1].at);
    return new Map(kept.slice(0, this.capacity.maxRecords));
  }

  /** Marks a source unreachable (a peer whose link dropped) or back. */
  setDown(id: string, down: boolean, reason: string): void {
    const entry = this.entries.get(id);
    if (!entry || entry.down === down) return;
    entry.down = down;
    this.setHealth(entry, down ? 'down' : entry.ejectedUntil > this.clock.now() ? 'ejected' : 'healthy', reason);
  }

  /**
   * Counts a dial that is under way as load on its source until it ends, so
   * that a burst of new connections does not all see the same stale counts.
   * Call the returned function exactly once, when the dial has succeeded
   * (after the tunnel is registered) or failed.
   */
  beginDial(id: string): () => void {
    const entry = this.entries.get(id);
    if (!entry) return () => undefined;
    entry.stats.pendingDials++;
    this.totalPending++;
    this.recomputeWorkloads();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      entry.stats.pendingDials--;
      this.totalPending--;
      this.recomputeWorkloads();
    };
  }

  recordDial(id: string, ok: boolean, latencyMs: number, error?: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    const s = entry.stats;
    const now = this.clock.now();
    if (ok) {
      s.connectLatencyMs = s.connectLatencyMs === 0 ? latencyMs : s.connectLatencyMs + EWMA_ALPHA * (latencyMs - s.connectLatencyMs);
      s.consecutiveFailures = 0;
      entry.ejections = 0;
      entry.probing = false;
    } else {
      s.consecutiveFailures++;
      entry.failureTimes.push(now);
      if (s.consecutiveFailures >= this.health.ejectAfter && s.health === 'healthy') {
        const backoff = Math.min(this.health.maxBackoffMs, this.health.baseBackoffMs * 2 ** entry.ejections);
        entry.ejections++;
        entry.ejectedUntil = now + backoff;
        entry.probing = false;
        this.setHealth(
          entry,
          'ejected',
          `${s.consecutiveFailures} dial failures in a row (last: ${error ?? 'unknown'}); retry in ${Math.round(backoff / 1000)} s`,
        );
      }
    }
    this.pruneFailures(entry, now);
  }

  dispose(): void {
    if (this.sampler) clearInterval(this.sampler);
    this.subscriptions.forEach((d) => d.dispose());
    this.estimatesChanged.dispose();
  }

  private onTunnel(sourceId: string, delta: number): void {
    this.totalOpen += delta;
    const entry = this.entries.get(sourceId);
    if (entry) {
      entry.stats.openTunnels += delta;
      if (delta > 0) entry.stats.totalTunnels++;
    }
    this.recomputeWorkloads();
  }

  /**
   * 0.3 semantics: a peer's workload is its own reported count (never less
   * than the tunnels we have open through it); the local
   * node's is its total minus its peers'. With several local sources, each
   * counts the tunnels that leave through it.
   * Load (capacity-aware policies): tunnels open and dials under way; for a
   * peer, at least its reported count (its own users share its link).
   */
  private recomputeWorkloads(): void {
    let peerSum = 0;
    let locals = 0;
    for (const e of this.entries.values()) {
      const ours = e.stats.openTunnels + e.stats.pendingDials;
      e.stats.load = e.candidate.local ? ours : Math.max(ours, e.reportedWorkload ?? 0);
      if (e.candidate.local) {
        locals++;
      } else {
        // Our own tunnels through a peer are a lower bound of its count until its report catches up.
        const w = Math.max(e.reportedWorkload ?? 0, ours);
        e.stats.workload = w;
        if (!e.down) peerSum += w;
      }
    }
    for (const e of this.entries.values()) {
      if (!e.candidate.local) continue;
      e.stats.workload = locals === 1 ? this.totalOpen + this.totalPending - peerSum : e.stats.openTunnels + e.stats.pendingDials;
    }
  }

  private refreshHealth(entry: Entry): void {
    if (entry.stats.health === 'ejected' && this.clock.now() >= entry.ejectedUntil) {
      // Half-open: one more failure ejects it again, for twice as long.
      entry.stats.consecutiveFailures = this.health.ejectAfter - 1;
      entry.probing = true;
      this.setHealth(entry, 'healthy', 'back-off elapsed; retrying');
    }
  }

  private setHealth(entry: Entry, health: SourceHealth, reason: string): void {
    if (entry.stats.health === health) return;
    entry.stats.health = health;
    entry.healthReason = reason;
    entry.healthChangedAt = this.clock.now();
    this.events.sourceHealthChanged.fire({ source: entry.candidate, health, reason });
  }

  private pruneFailures(entry: Entry, now: number): void {
    const cutoff = now - this.health.failureWindowMs;
    while (entry.failureTimes.length > 0 && entry.failureTimes[0] < cutoff) entry.failureTimes.shift();
    entry.stats.recentFailures = entry.failureTimes.length;
  }

  /** One tick: throughput EWMAs, capacity evidence (busy = tunnels open), the capacity policies see. */
  sample(): void {
    const now = this.clock.now();
    const seconds = Math.max(0.001, (now - this.lastSample) / 1000);
    this.lastSample = now;
    const alpha = 1 - THROUGHPUT_KEEP_PER_SECOND ** seconds;
    let changed = false;
    for (const e of this.entries.values()) {
      const s = e.stats;
      const down = (s.bytesDown - e.lastBytesDown) / seconds;
      const up = (s.bytesUp - e.lastBytesUp) / seconds;
      e.lastBytesDown = s.bytesDown;
      e.lastBytesUp = s.bytesUp;
      s.throughputDown += alpha * (down - s.throughputDown);
      s.throughputUp += alpha * (up - s.throughputUp);
      if (e.estimator.sample(now, s.bytesDown, s.openTunnels > 0)) {
        this.own.set(e.candidate.id, { capacity: e.estimator.capacity, at: now, via: 'measured' });
        changed = true;
      }
      this.refreshCapacity(e, now);
      this.pruneFailures(e, now);
      // An ejection that has run out ends now (and says so), not at the next connection.
      this.refreshHealth(e);
    }
    if (changed) this.estimatesChanged.fire();
  }

  private refreshCapacity(e: Entry, now: number): void {
    const est = e.estimator;
    const restored = this.restored.get(e.candidate.id);
    const choice = effectiveCapacity(
      {
        measured: est.capacity > 0 && est.measuredAt !== undefined ? { capacity: est.capacity, at: est.measuredAt } : undefined,
        probe: e.probe,
        advertised: e.advertised,
        persisted: restored && now - restored.at <= this.capacity.maxAgeMs ? restored : undefined,
        ourThroughput: e.stats.throughputDown,
      },
      now,
      this.capacity,
    );
    e.stats.capacity = choice.capacity;
    e.stats.capacitySource = choice.source;
  }
}
