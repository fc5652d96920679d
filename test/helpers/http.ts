import * as crypto from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestHttpServer {
  readonly port: number;
  readonly host: string;
  readonly url: string;
  /** The bytes served at /blob, and their sha256. */
  readonly blob: Buffer;
  readonly blobSha256: string;
  /** Ends every /slow response still dripping, at once (each then completes with 200). */
  finishSlow(): void;
  /** /slow responses dripping now: a tunnel can be open before its request has reached the origin, so tests wait for this before finishSlow(). */
  slowInFlight(): number;
  close(): Promise<void>;
}

/**
 * A local origin server: /blob (a random file), /hello (small), /slow (drips
 * for `ms`), /echo (POST body back), /headers (the request line and headers it
 * received, as JSON). Listens on `host` (127.0.0.1 or ::1).
 */
export async function startHttpServer(host = '127.0.0.1', blobSize = 4 * 1024 * 1024): Promise<TestHttpServer> {
  const blob = crypto.randomBytes(blobSize);
  const slow = new Set<() => void>();
  const server = http.createServer({ maxHeaderSize: 128 * 1024 }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/blob') {
      res.writeHead(200, { 'content-length': blob.length, 'content-type': 'application/octet-stream' });
      res.end(blob);
    } else if (url.pathname === '/hello') {
      res.end('hello\n');
    } else if (url.pathname === '/slow') {
      const ms = Number(url.searchParams.get('ms') ?? 1000);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('start\n');
      const finish = () => {
        clearTimeout(t);
        slow.delete(finish);
        res.end('end\n');
      };
      const t = setTimeout(finish, ms);
      slow.add(finish);
      res.on('close', () => {
        clearTimeout(t);
        slow.delete(finish);
      });
    } else if (url.pathname === '/echo') {
      req.pipe(res);
    } else if (url.pathname.startsWith('/headers')) {
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    blob,
    blobSha256: crypto.createHash('sha256').update(blob).digest('hex'),
    finishSlow: () => [...slow].forEach((finish) => finish()),
    slowInFlight: () => slow.size,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
