import { Counter, Gauge, Registry } from 'prom-client';
import type { Candidate, Disposable, MonitorApi } from 'booster';
import { REJECTION_REASONS, rejectionReason } from './rejection-reason';

/** Sources labelled one by one; the rest are summed under source="other", so a node with many peers keeps a bounded series count. */
const MAX_SOURCE_LABELS = 64;
/** Plugin names labelled one by one (faults); the rest are "other". */
const MAX_PLUGIN_LABELS = 32;
/** Limits labelled one by one (limit hits); the rest are "other". */
const MAX_LIMIT_LABELS = 32;

/** The numeric statistics of a source. */
type Stat = { [K in keyof Candidate['stats']]: Candidate['stats'][K] extends number ? K : never }[keyof Candidate['stats']];

/**
 * Prometheus metrics of one node, in their own registry (never the global
 * one: several nodes may share a process). Counters that follow events are
 * incremented as they happen; everything else is read from the snapshots
 * when scraped, so nothing runs per connection beyond a counter increment.
 */
export class NodeMetrics implements Disposable {
  readonly registry = new Registry();
  private readonly subscriptions: Disposable[] = [];
  private readonly labelled = new Set<string>();
  private policy: string;

  constructor(private readonly api: MonitorApi) {
    this.policy = api.policy().current ?? '';
    const registers = [this.registry];
    const sources = () => this.capped(api.sources());

    /** A sum of one statistic over each source label, read when scraped; given a statistic per direction, a series per direction too. */
    const perSource = (kind: 'gauge' | 'counter', name: string, help: string, stat: Stat | { readonly down: Stat; readonly up: Stat }) => {
      const series = typeof stat === 'string' ? [[undefined, stat] as const] : Object.entries(stat);
      const labelNames = typeof stat === 'string' ? ['source'] : ['source', 'direction'];
      function collect(this: Gauge | Counter): void {
        this.reset();
        for (const [source, list] of sources())
          for (const [direction, key] of series) {
            const labels = direction ? { source, direction } : { source };
            const value = sum(list, (c) => c.stats[key]);
            if (this instanceof Gauge) this.set(labels, value);
            else this.inc(labels, value);
          }
      }
      if (kind === 'gauge') new Gauge({ name, help, labelNames, registers, collect });
      else new Counter({ name, help, labelNames, registers, collect });
    };
    perSource('gauge', 'booster_tunnels_open', 'Tunnels open now, by source', 'openTunnels');
    perSource('counter', 'booster_tunnels_total', 'Tunnels opened since the source was added, by source', 'totalTunnels');
    perSource('counter', 'booster_bytes_total', 'Bytes moved through tunnels, by source and direction (down: from the target to the client)', {
      down: 'bytesDown',
      up: 'bytesUp',
    });
    perSource('gauge', 'booster_source_capacity_bytes_per_second', 'Download capacity the policies use, by source (0 while unknown)', 'capacity');
    perSource('gauge', 'booster_source_throughput_bytes_per_second', 'Recent throughput (EWMA), by source and direction', {
      down: 'throughputDown',
      up: 'throughputUp',
    });
    new Gauge({
      name: 'booster_source_up',
      help: '1 when the source is healthy (in rotation), else 0; for "other", how many are',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const [source, list] of sources()) this.set({ source }, list.filter((c) => c.stats.health === 'healthy').length);
      },
    });
    new Gauge({
      name: 'booster_source_connect_latency_seconds',
      help: 'Recent connect latency (EWMA), by source (0 while unknown)',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const [source, list] of sources()) if (list.length === 1) this.set({ source }, list[0].stats.connectLatencyMs / 1000);
      },
    });
    new Gauge({
      name: 'booster_peers_up',
      help: 'Peers whose link is up',
      registers,
      collect() {
        this.set(api.peers().filter((p) => p.state === 'up').length);
      },
    });
    new Gauge({
      name: 'booster_peer_heartbeat_rtt_seconds',
      help: 'Heartbeat round trip (EWMA) of each peer whose link is up and measured',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const p of api.peers().slice(0, MAX_SOURCE_LABELS)) if (p.rttMs !== undefined) this.set({ peer: p.id }, p.rttMs / 1000);
      },
    });
    new Gauge({
      name: 'booster_peers',
      help: 'Peers this node wired, whatever their state',
      registers,
      collect() {
        this.set(api.peers().length);
      },
    });
    new Gauge({
      name: 'booster_policy_info',
      help: 'The balancing policy in use (value 1)',
      labelNames: ['policy'],
      registers,
      collect() {
        this.reset();
        const current = api.policy().current;
        if (current) this.set({ policy: current }, 1);
      },
    });
    new Counter({
      name: 'booster_policy_faults_total',
      help: 'Times a policy threw, overran its deadline or chose a non-candidate (the fallback chose instead)',
      labelNames: ['policy'],
      registers,
      collect() {
        this.reset();
        for (const [policy, n] of Object.entries(api.policy().faults)) this.inc({ policy }, n);
      },
    });
    const decisions = new Counter({
      name: 'booster_policy_decisions_total',
      help: 'Sources chosen for a dial, by the policy in use',
      labelNames: ['policy'],
      registers,
    });
    const dials = new Counter({
      name: 'booster_dials_total',
      help: 'Dials to targets, by source and result (ok, error)',
      labelNames: ['source', 'result'],
      registers,
    });
    const rejections = new Counter({
      name: 'booster_proxy_rejections_total',
      help: 'Proxy connections refused before a tunnel, by reason',
      labelNames: ['reason'],
      registers,
    });
    const limitHits = new Counter({
      name: 'booster_limit_hits_total',
      help: 'Times a configured limit refused something, by limit',
      labelNames: ['limit'],
      registers,
    });
    const limits = new Set<string>();
    const faults = new Counter({
      name: 'booster_plugin_faults_total',
      help: 'Faults reported by or about plugins (the node carried on)',
      labelNames: ['plugin'],
      registers,
    });
    for (const reason of REJECTION_REASONS) rejections.inc({ reason }, 0);
    const plugins = new Set<string>();

    this.subscriptions.push(
      api.onDial((d) => {
        dials.inc({ source: this.sourceLabel(d.sourceId), result: d.ok ? 'ok' : 'error' });
        decisions.inc({ policy: this.policy });
      }),
      api.onPolicyChanged((c) => {
        this.policy = c.current;
      }),
      api.onProxyRejected((r) => rejections.inc({ reason: rejectionReason(r.reason) })),
      api.onLimitHit((h) => {
        if (limits.size < MAX_LIMIT_LABELS) limits.add(h.limit);
        limitHits.inc({ limit: limits.has(h.limit) ? h.limit : 'other' });
      }),
      api.onPluginFault((f) => {
        if (plugins.size < MAX_PLUGIN_LABELS) plugins.add(f.plugin);
        faults.inc({ plugin: plugins.has(f.plugin) ? f.plugin : 'other' });
      }),
    );
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  dispose(): void {
    for (const d of this.subscriptions.splice(0)) d.dispose();
    this.registry.clear();
  }

  /** A source id as a label: its own while fewer than MAX_SOURCE_LABELS have been seen, else "other". */
  private sourceLabel(id: string): string {
    if (this.labelled.has(id)) return id;
    if (this.labelled.size >= MAX_SOURCE_LABELS) return 'other';
    this.labelled.add(id);
    return id;
  }

  /** Sources grouped by label (each alone, the overflow under "other"). */
  private capped(list: readonly Candidate[]): Map<string, Candidate[]> {
    const groups = new Map<string, Candidate[]>();
    for (const c of list) {
      const label = this.sourceLabel(c.id);
      const group = groups.get(label);
      if (group) group.push(c);
      else groups.set(label, [c]);
    }
    return groups;
  }
}

function sum(list: readonly Candidate[], f: (c: Candidate) => number): number {
  return list.reduce((n, c) => n + f(c), 0);
}
