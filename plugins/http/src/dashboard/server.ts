import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Disposable, Logger, MonitorApi } from 'booster';
import { WebSocketServer } from 'ws';
import { listen, REQUEST_TIMEOUT_MS } from '../guarded-server';
import { isLoopback, type ListenAddress } from '../listen-address';
import { loadAssets, type Asset } from './assets';
import { crossSiteRefusal, DashboardAuth } from './auth';
import { LiveUpdates } from './live';
import type { DashboardOptions } from './options';
import { snapshot } from './snapshot';

/** A posted body (login form, policy switch) is at most this long. */
const MAX_BODY_BYTES = 4096;
/** Failed logins are logged at most once per this interval, with a count. */
const LOGIN_LOG_MS = 10_000;
/** HTTP connections at once (WebSocket clients are bounded separately, by maxClients). */
const MAX_HTTP_CONNECTIONS = 32;
/** Page content may come from this node only; nothing may frame it (the policy control must not be clickjacked). */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // Not no-referrer: with it Chromium sends "Origin: null" on the page's own form posts, which the CSRF check must refuse.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

export interface DashboardServer extends Disposable {
  readonly address: ListenAddress;
  readonly requiresToken: boolean;
}

/**
 * The live dashboard: the page and its assets, /live (WebSocket updates),
 * /api/state (the same snapshot once), POST /api/policy (switch the policy),
 * and, off loopback, /login and /logout. See DashboardAuth for who may see it.
 */
export async function serveDashboard(
  api: MonitorApi,
  options: DashboardOptions,
  log: Logger,
  verifyToken: (token: string) => boolean,
): Promise<DashboardServer> {
  const assets = await loadAssets();
  const auth = new DashboardAuth(!isLoopback(options.address.host), verifyToken, options);
  const live = new LiveUpdates(api, log, options);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024, perMessageDeflate: false });
  const failedLogins = { count: 0, loggedAt: 0 };

  const server = http.createServer(
    { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS, keepAliveTimeout: 5_000, maxHeaderSize: 8192 },
    (req, res) => {
      void route(req, res).catch((err: Error) => {
        log.warn(`dashboard: ${req.method} ${req.url?.slice(0, 100)} failed: ${err.message}`);
        if (!res.headersSent) text(res, 500, 'internal error');
        else res.destroy();
      });
    },
  );
  server.maxConnections = MAX_HTTP_CONNECTIONS;
  server.on('upgrade', (req, socket, head) => upgrade(req, socket, head));

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
    if (req.method === 'POST' && path === '/login') return login(req, res);
    const refused = auth.refusal(req);
    if (refused) {
      // Off loopback the page itself answers with the login form (still 401: nothing of the node is in it).
      if (refused.status === 401 && req.method === 'GET' && path === '/') return asset(res, assets.get('/login')!, 401);
      return text(res, refused.status, refused.message);
    }
    if (req.method === 'POST' && path === '/logout') {
      const crossSite = crossSiteRefusal(req, false);
      if (crossSite) return text(res, 403, crossSite);
      res.writeHead(303, { location: '/', 'set-cookie': auth.logout(req), ...SECURITY_HEADERS });
      return void res.end();
    }
    if (req.method === 'POST' && path === '/api/policy') return switchPolicy(req, res);
    if (req.method !== 'GET') return text(res, 405, 'method not allowed');
    if (path === '/api/state') return json(res, 200, snapshot(api));
    const found = path !== '/login' ? assets.get(path) : undefined;
    if (!found) return text(res, 404, 'not found');
    asset(res, found, 200);
  }

  async function login(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const crossSite = crossSiteRefusal(req, false);
    if (crossSite) return text(res, 403, crossSite);
    const body = await readBody(req);
    if (body === undefined) return text(res, 413, `the form is limited to ${MAX_BODY_BYTES} bytes`);
    const session = auth.requiresToken ? auth.login(new URLSearchParams(body).get('token') ?? '') : undefined;
    if (auth.requiresToken && !session) {
      failedLogins.count++;
      if (Date.now() - failedLogins.loggedAt >= LOGIN_LOG_MS) {
        log.warn(`dashboard: refused ${failedLogins.count} login(s) with a wrong token (last from ${req.socket.remoteAddress ?? '?'})`);
        failedLogins.count = 0;
        failedLogins.loggedAt = Date.now();
      }
      return asset(res, assets.get('/login')!, 401);
    }
    res.writeHead(303, { location: '/', ...(session ? { 'set-cookie': session.cookie } : {}), ...SECURITY_HEADERS });
    res.end();
  }

  async function switchPolicy(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const crossSite = crossSiteRefusal(req, true);
    if (crossSite) return json(res, 403, { error: crossSite });
    const body = await readBody(req);
    if (body === undefined) return json(res, 413, { error: `the body is limited to ${MAX_BODY_BYTES} bytes` });
    let name: unknown;
    try {
      name = (JSON.parse(body) as { policy?: unknown }).policy;
    } catch {
      return json(res, 400, { error: 'the body must be JSON: {"policy": "NAME"}' });
    }
    if (typeof name !== 'string') return json(res, 400, { error: 'the body must be JSON: {"policy": "NAME"}' });
    try {
      await api.usePolicy(name);
    } catch (err) {
      return json(res, 400, { error: (err as Error).message });
    }
    json(res, 200, { policy: api.policy().current ?? null });
  }

  function upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
    const refused = path !== '/live' ? { status: 404, message: 'not found' } : (auth.refusal(req) ?? crossSiteStatus(crossSiteRefusal(req, false)));
    if (refused) return rejectUpgrade(socket, refused.status, refused.message);
    if (live.size >= options.maxClients) {
      log.warn(`dashboard: refused a WebSocket client, ${options.maxClients} already connected (dashboardMaxClients)`);
      return rejectUpgrade(socket, 503, `at most ${options.maxClients} live clients (dashboardMaxClients)`);
    }
    wss.handleUpgrade(req, socket, head, (ws) => live.add(ws));
  }

  let bound: Awaited<ReturnType<typeof listen>>;
  try {
    bound = await listen(server, options.address, log, 'dashboard');
  } catch (err) {
    // The port could not be had: release the live feed (its timer and event subscriptions).
    live.dispose();
    wss.close();
    throw err;
  }
  return {
    address: bound.address,
    requiresToken: auth.requiresToken,
    dispose() {
      live.dispose();
      wss.close();
      bound.close();
    },
  };
}

function crossSiteStatus(message: string | undefined) {
  return message === undefined ? undefined : { status: 403, message };
}

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(message) + 1}\r\n\r\n${message}\n`,
  );
}

/** The body as text, or undefined when longer than MAX_BODY_BYTES (the rest is not read). */
async function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function asset(res: http.ServerResponse, a: Asset, status: number): void {
  res.writeHead(status, { 'content-type': a.contentType, 'content-length': a.body.length, ...SECURITY_HEADERS });
  res.end(a.body);
}

function text(res: http.ServerResponse, status: number, message: string): void {
  const body = `${message}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close', ...SECURITY_HEADERS });
  res.end(body);
}

function json(res: http.ServerResponse, status: number, value: unknown): void {
  const body = `${JSON.stringify(value)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...SECURITY_HEADERS });
  res.end(body);
}
