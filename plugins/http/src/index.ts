import type { Disposable, Monitor, MonitorApi, PluginContext } from 'booster';
import { serveGuarded, type GuardedServer, type GuardedServerOptions } from './guarded-server';
import { jsonApi } from './json-api';
import { formatUrl, parseListenAddress, type ListenAddress } from './listen-address';
import { parseDashboardOptions, type DashboardOptions } from './dashboard/options';

export { parseListenAddress } from './listen-address';
export { rejectionReason } from './rejection-reason';
export { parseDashboardOptions } from './dashboard/options';

const NOTHING: Disposable = { dispose() {} };

/** What one monitor serves: its handler, the path its log line shows, and what to release when it stops. */
interface Route extends Disposable {
  readonly path: string;
  readonly handle: GuardedServerOptions['handle'];
}

/**
 * Two monitors, each off until given an address (options `metrics` and `api`,
 * or --metrics / --http-api): Prometheus text at /metrics, and a read-only
 * JSON API; and a live dashboard (option `dashboard`, --dashboard). Each has its own listener, so each can be scraped, firewalled and
 * turned on alone; both share the same guard (loopback or the bearer token).
 */
export function activate(context: PluginContext): void {
  const { options, log } = context;
  const metricsAt = options.metrics === undefined ? undefined : parseListenAddress('metrics', options.metrics);
  const apiAt = options.api === undefined ? undefined : parseListenAddress('api', options.api);
  const dashboard = parseDashboardOptions(options);
  const verifyToken = (token: string) => context.security.verifyHttpToken(token);

  const monitor = (id: string, at: ListenAddress | undefined, serve: (api: MonitorApi) => Route | Promise<Route>): Monitor => ({
    id,
    async start(api) {
      if (!at) return NOTHING;
      const route = await serve(api);
      let server: GuardedServer;
      try {
        server = await serveGuarded({ name: id, address: at, log, verifyToken, handle: route.handle });
      } catch (err) {
        route.dispose();
        throw err;
      }
      const url = formatUrl(server.address, route.path);
      log.info(`${id} at ${url}${server.requiresToken ? ' (bearer token required: booster key show --http-token)' : ' (loopback only)'}`, {
        monitor: id,
        url,
        host: server.address.host,
        port: server.address.port,
      });
      return {
        dispose() {
          server.dispose();
          route.dispose();
        },
      };
    },
  });

  context.subscriptions.push(
    context.monitors.register(
      monitor('metrics', metricsAt, async (api) => {
        // prom-client is loaded only when metrics are on (the plugin itself activates on every start).
        const { NodeMetrics } = await import('./metrics');
        const metrics = new NodeMetrics(api);
        return {
          path: '/metrics',
          handle: async (url) => (url.pathname === '/metrics' ? { contentType: metrics.contentType, body: await metrics.metrics() } : undefined),
          dispose: () => metrics.dispose(),
        };
      }),
    ),
    context.monitors.register(monitor('http-api', apiAt, (api) => ({ path: '/health', handle: jsonApi(api, Date.now()), dispose() {} }))),
    context.monitors.register(dashboardMonitor(context, dashboard)),
  );
}

/** The live dashboard (its own server: a page, WebSocket updates and one control, see dashboard/server.ts). */
function dashboardMonitor(context: PluginContext, options: DashboardOptions | undefined): Monitor {
  return {
    id: 'dashboard',
    async start(api) {
      if (!options) return NOTHING;
      // ws and the page are loaded only when the dashboard is on.
      const { serveDashboard } = await import('./dashboard/server');
      const server = await serveDashboard(api, options, context.log, (token) => context.security.verifyHttpToken(token));
      const url = formatUrl(server.address, '/');
      context.log.info(`dashboard at ${url}${server.requiresToken ? ' (log in with: booster key show --http-token)' : ' (loopback only)'}`, {
        monitor: 'dashboard',
        url,
        host: server.address.host,
        port: server.address.port,
      });
      return server;
    },
  };
}
