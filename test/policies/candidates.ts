import type { Candidate, SourceStats } from '../../src/api/sources';
import type { PolicyRequest } from '../../src/api/policy';

export const REQUEST: PolicyRequest = { target: { host: 'example.com', port: 443, kind: 'domain' }, now: 0, tried: [] };

const ZERO: SourceStats = {
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

/**
 * A candidate for policy tests: local ("direct", "if:...") or a peer, with the
 * given statistics. Unless given, `load` is openTunnels + pendingDials, and
 * `capacitySource` is "measured" when a capacity is given.
 */
export function candidate(id: string, stats: Partial<SourceStats> = {}, local = id === 'direct' || id.startsWith('if:')): Candidate {
  const load = stats.load ?? (stats.openTunnels ?? 0) + (stats.pendingDials ?? 0);
  const capacitySource = stats.capacitySource ?? ((stats.capacity ?? 0) > 0 ? 'measured' : 'unknown');
  return {
    id,
    kind: local ? (id === 'direct' ? 'direct' : 'interface') : 'peer',
    label: id,
    local,
    dialer: local ? 'direct' : 'socks5-chain',
    stats: { ...ZERO, load, capacitySource, ...stats },
  };
}
