import type { MonitorApi } from 'booster';

/** Sources and peers sent per update at most (the totals are always given). */
const MAX_LISTED = 64;

/** One update pushed to the page: everything it draws, in one small JSON object. */
export function snapshot(api: MonitorApi) {
  const sources = api.sources();
  const peers = api.peers();
  const policy = api.policy();
  return {
    t: Date.now(),
    nodeId: api.nodeId,
    policy: { current: policy.current ?? null, available: policy.available },
    sourcesTotal: sources.length,
    sources: sources.slice(0, MAX_LISTED).map((c) => {
      const state = api.sourceState(c.id);
      return {
        id: c.id,
        kind: c.kind,
        label: c.label,
        state: state?.state ?? (c.stats.health === 'healthy' ? 'up' : c.stats.health),
        reason: state?.reason ?? '',
        ejectedUntil: state?.ejectedUntil ?? null,
        openTunnels: c.stats.openTunnels,
        pendingDials: c.stats.pendingDials,
        throughputDown: Math.round(c.stats.throughputDown),
        throughputUp: Math.round(c.stats.throughputUp),
        capacity: Math.round(c.stats.capacity),
        bytesDown: c.stats.bytesDown,
        bytesUp: c.stats.bytesUp,
      };
    }),
    peersTotal: peers.length,
    peers: peers.slice(0, MAX_LISTED).map((p) => ({ id: p.id, baddr: p.baddr, state: p.state, tunnels: p.tunnels, rttMs: p.rttMs ?? null })),
  };
}
