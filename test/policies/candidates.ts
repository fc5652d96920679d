import type { Candidate, SourceStats } from '../../src/api/sources';
import type { PolicyRequest } from '../../src/api/policy';

export const REQUEST: PolicyRequest = { target: { host: 'example.com', port: 443, kind: 'domain' }, now: 0, tried: [] };

const ZERO: SourceStats = {
  openTunnels: 0, workload: 0, throughputDown: 0, throughputUp: 0, capacity: 0, recentFailures: 0,
  consecutiveFailures: 0, connectLatencyMs: 0, health: 'healthy', totalTunnels: 0, bytesDown: 0, bytesUp: 0,
};

/** A candidate for policy tests: local ("direct") or a peer, with the given statistics. */
export function candidate(id: string, stats: Partial<SourceStats> = {}, local = id === 'direct' || id.startsWith('if:')): Candidate {
  return {
    id, kind: local ? (id === 'direct' ? 'direct' : 'interface') : 'peer', label: id, local,
    dialer: local ? 'direct' : 'socks5-chain', stats: { ...ZERO, ...stats },
  };
}
