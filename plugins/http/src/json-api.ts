import type { Candidate, MonitorApi, TunnelInfo } from 'booster';
import type { Reply } from './guarded-server';

/** Tunnels listed by /tunnels unless ?limit= asks for fewer (or up to MAX_TUNNELS). */
const DEFAULT_TUNNELS = 100;
const MAX_TUNNELS = 1000;
/** Sources listed by /sources at most (the total is always given). */
const MAX_SOURCES = 256;

const ROUTES = ['/health', '/sources', '/peers', '/tunnels', '/policy'] as const;

/**
 * The read-only JSON API (README "Metrics and HTTP API"): each route is a
 * snapshot of the node's state, read through the monitor API; lists are
 * capped and carry their total.
 */
export function jsonApi(api: MonitorApi, startedAt: number): (url: URL) => Reply | undefined {
  const routes: Record<string, (url: URL) => unknown> = {
    '/': () => ({ routes: ROUTES }),
    '/health': () => {
      const sources = api.sources();
      const healthy = sources.filter((s) => s.stats.health === 'healthy').length;
      const peers = api.peers();
      return {
        status: healthy > 0 ? 'ok' : 'degraded',
        nodeId: api.nodeId,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        policy: api.policy().current ?? null,
        sources: { total: sources.length, healthy },
        peers: { total: peers.length, up: peers.filter((p) => p.state === 'up').length },
        tunnels: { open: api.tunnels().length },
      };
    },
    '/sources': () => {
      const sources = api.sources();
      return { total: sources.length, sources: sources.slice(0, MAX_SOURCES).map(sourceView) };
    },
    '/peers': () => {
      const peers = api.peers();
      return { total: peers.length, peers: peers.slice(0, MAX_SOURCES) };
    },
    '/tunnels': (url) => {
      const asked = Number(url.searchParams.get('limit') ?? DEFAULT_TUNNELS);
      const limit = Number.isInteger(asked) && asked >= 0 ? Math.min(asked, MAX_TUNNELS) : DEFAULT_TUNNELS;
      const tunnels = api.tunnels();
      return { total: tunnels.length, tunnels: tunnels.slice(0, limit).map(tunnelView) };
    },
    '/policy': () => ({ ...api.policy(), rules: api.rules() }),
  };
  return (url) => {
    const route = routes[url.pathname.replace(/\/+$/, '') || '/'];
    if (!route) return undefined;
    return { contentType: 'application/json; charset=utf-8', body: `${JSON.stringify(route(url), null, 2)}\n` };
  };
}

function sourceView(c: Candidate) {
  return { id: c.id, kind: c.kind, label: c.label, local: c.local, health: c.stats.health, stats: c.stats };
}

function tunnelView(t: TunnelInfo) {
  return {
    id: t.id,
    target: t.targetAddress,
    source: t.sourceId,
    protocol: t.protocol,
    client: t.client,
    openedAt: new Date(t.openedAt).toISOString(),
    bytesUp: t.bytesUp,
    bytesDown: t.bytesDown,
  };
}
