import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Disposable, Logger } from 'booster';
import { isLoopback, loopbackHostHeader, type ListenAddress } from './listen-address';

/** What a route answers; `undefined` from the handler means 404. */
export interface Reply {
  readonly status?: number;
  readonly contentType: string;
  readonly body: string;
}

export interface GuardedServerOptions {
  /** For log lines: "metrics", "http-api". */
  readonly name: string;
  readonly address: ListenAddress;
  readonly log: Logger;
  /** Constant-time check of a bearer token (context.security.verifyHttpToken). */
  readonly verifyToken: (token: string) => boolean;
  readonly handle: (url: URL) => Reply | undefined | Promise<Reply | undefined>;
}

export interface GuardedServer extends Disposable {
  readonly address: ListenAddress;
  /** False when bound to loopback (only this machine can connect). */
  readonly requiresToken: boolean;
}

/** Connections served at once; more are refused by the kernel-side accept (net.Server.maxConnections). */
const MAX_CONNECTIONS = 16;
/** A request must arrive (headers and all) within this; an idle keep-alive connection is closed after KEEP_ALIVE_MS. */
export const REQUEST_TIMEOUT_MS = 5_000;
const KEEP_ALIVE_MS = 5_000;
const MAX_HEADER_BYTES = 8 * 1024;
/** Refused requests are logged at most once per this interval, with a count. */
const REFUSAL_LOG_MS = 10_000;

/**
 * A small read-only HTTP server, private by construction: GET only, bounded
 * connections, time and header size; bound off loopback, every request must
 * carry `Authorization: Bearer <token>` (the network's HTTP token).
 */
export async function serveGuarded(options: GuardedServerOptions): Promise<GuardedServer> {
  const { log, name } = options;
  const requiresToken = !isLoopback(options.address.host);
  const refusals = refusalLog(log, name);
  const server = http.createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_MS },
    (req, res) => {
      void respond(req, res).catch((err: Error) => {
        log.warn(`${name}: request ${req.url?.slice(0, 100)} failed: ${err.message}`);
        if (!res.headersSent) send(res, 500, { contentType: 'text/plain; charset=utf-8', body: 'internal error\n' });
        else res.destroy();
      });
    },
  );
  server.maxConnections = MAX_CONNECTIONS;
  server.maxRequestsPerSocket = 100;

  async function respond(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (requiresToken && !authorized(req.headers.authorization, options.verifyToken)) {
      refusals.note(req.socket.remoteAddress ?? '?');
      res.setHeader('www-authenticate', 'Bearer realm="booster"');
      res.setHeader('connection', 'close');
      return send(res, 401, { contentType: 'text/plain; charset=utf-8', body: 'a bearer token is required (booster key show --http-token)\n' });
    }
    if (!requiresToken && !loopbackHostHeader(req.headers.host)) {
      // A web page the user opens could point its own name at 127.0.0.1 (DNS rebinding) and read the answer as same-origin.
      res.setHeader('connection', 'close');
      return send(res, 403, { contentType: 'text/plain; charset=utf-8', body: 'the Host header must name this machine (127.0.0.1, [::1] or localhost)\n' });
    }
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      res.setHeader('connection', 'close');
      return send(res, 405, { contentType: 'text/plain; charset=utf-8', body: 'only GET is served\n' });
    }
    const reply = await options.handle(new URL(req.url ?? '/', 'http://booster'));
    send(res, reply?.status ?? (reply ? 200 : 404), reply ?? { contentType: 'text/plain; charset=utf-8', body: 'not found\n' });
  }

  const bound = await listen(server, options.address, log, name);
  return {
    address: bound.address,
    requiresToken,
    dispose() {
      refusals.dispose();
      bound.close();
    },
  };
}

/**
 * Listens at `address` (rejects when it cannot bind), then logs later server
 * errors; a client sending a malformed request is cut off. `close` stops
 * listening and ends every connection still open.
 */
export async function listen(server: http.Server, address: ListenAddress, log: Logger, name: string): Promise<{ address: ListenAddress; close(): void }> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.warn(`${name}: ${err.message}`));
  const bound = server.address() as AddressInfo;
  return {
    address: { host: bound.address, port: bound.port },
    close() {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

function send(res: http.ServerResponse, status: number, reply: Reply): void {
  res.writeHead(status, { 'content-type': reply.contentType, 'content-length': Buffer.byteLength(reply.body), 'cache-control': 'no-store' });
  res.end(reply.body);
}

/** True when the Authorization header carries `Bearer <token>` and the token verifies. */
export function authorized(header: string | undefined, verify: (token: string) => boolean): boolean {
  const m = /^Bearer +([^\s]{1,256})\s*$/i.exec(header ?? '');
  return m !== null && verify(m[1]);
}

/** Logs refused requests at most once per REFUSAL_LOG_MS, with how many and the last address. */
function refusalLog(log: Logger, name: string): { note(address: string): void } & Disposable {
  let count = 0;
  let last = '';
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    if (count === 0) return;
    log.warn(`${name}: refused ${count} request(s) without a valid bearer token (last from ${last})`);
    count = 0;
  };
  return {
    note(address) {
      count++;
      last = address;
      if (!timer) {
        flush();
        timer = setTimeout(flush, REFUSAL_LOG_MS);
        timer.unref();
      }
    },
    dispose() {
      if (timer) clearTimeout(timer);
    },
  };
}
