import type { SourcePreference } from '../../api/policy';
import type { Candidate } from '../../api/sources';
import type { PolicyManager } from '../../dispatch/policies';
import type { SourceRegistry } from '../../dispatch/sources';
import type { SourceReport, SourceState } from '../link/wire-message';
import { formatHostPort } from '../link/errors';

export type { SourceReport, SourceState } from '../link/wire-message';

/** Builds the per-source report from the registry and the active policy's preference, at most `max` sources. */
export class SourceReporter {
  constructor(
    private readonly sources: Pick<SourceRegistry, 'list' | 'healthDetail'>,
    private readonly policies: Pick<PolicyManager, 'preferences'>,
    /** Most sources one reply lists (limits.maxPeers plus the local ones). */
    private readonly max: () => number,
  ) {}

  /** The ids of every source the node has now (rules must name one of them). */
  ids(): string[] {
    return this.sources.list().map((c) => c.id);
  }

  report(): { sources: SourceReport[]; total: number } {
    const all = this.sources.list();
    const candidates = all.filter((c) => c.stats.health === 'healthy');
    const prefs = new Map<string, SourcePreference>();
    for (const p of this.policies.preferences(candidates) ?? []) {
      if (p && typeof p.id === 'string' && Number.isFinite(p.rank)) prefs.set(p.id, p);
    }
    const sources = all.slice(0, Math.max(0, this.max())).map((c) => this.describe(c, prefs.get(c.id)));
    return { sources, total: all.length };
  }

  private describe(c: Candidate, pref: SourcePreference | undefined): SourceReport {
    const s = c.stats;
    const detail = this.sources.healthDetail(c.id);
    const state: SourceState = s.health === 'healthy' ? (detail?.probing ? 'probing' : 'up') : s.health;
    return {
      id: c.id,
      kind: c.kind,
      label: c.label,
      address: c.proxy ? formatHostPort(c.proxy.host, c.proxy.port) : (c.localAddress ?? ''),
      state,
      reason: clip(detail?.reason ?? ''),
      ejectedForMs: detail?.ejectedForMs ?? 0,
      stateForMs: detail?.sinceMs ?? 0,
      openTunnels: s.openTunnels,
      pendingDials: s.pendingDials,
      load: s.load,
      // The direct source's 0.3 workload is the node's total minus its peers' own counts, which also hold
      // tunnels that are not ours: below zero then, and the wire (whole numbers) would refuse the report.
      workload: Math.max(0, s.workload),
      throughputUp: Math.round(s.throughputUp),
      throughputDown: Math.round(s.throughputDown),
      capacity: Math.round(s.capacity),
      capacitySource: s.capacitySource,
      connectLatencyMs: Math.round(s.connectLatencyMs),
      recentFailures: s.recentFailures,
      consecutiveFailures: s.consecutiveFailures,
      totalTunnels: s.totalTunnels,
      bytesUp: s.bytesUp,
      bytesDown: s.bytesDown,
      ...(pref ? { rank: Math.round(pref.rank), score: pref.score, note: pref.note === undefined ? undefined : clip(String(pref.note), 200) } : {}),
    };
  }
}

/** Reasons can echo what a remote side said; a report stays far inside one packet. */
function clip(text: string, max = 500): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Upper bound of one source's encoded size (for the packet budget). */
export function estimateSourceBytes(s: SourceReport): number {
  let bytes = 4 + 20 * 11;
  for (const t of [s.id, s.kind, s.label, s.address, s.state, s.reason, s.capacitySource, s.note ?? '']) bytes += 4 + Buffer.byteLength(t);
  return bytes;
}
