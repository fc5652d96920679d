import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SizedOrigin {
  readonly url: string;
  /** Most requests it served at the same time since the last reset. */
  maxConcurrent(): number;
  reset(): void;
  close(): Promise<void>;
}

/**
 * A local origin for speed tests: /file/N (N bytes, Content-Length N; `?ms=`
 * holds the body back that long), /short/N (says N bytes, sends half, then
 * closes), /missing (404).
 */
export async function startSizedOrigin(): Promise<SizedOrigin> {
  let current = 0;
  let max = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const [, kind, size] = url.pathname.split('/');
    const n = Number(size);
    current++;
    max = Math.max(max, current);
    res.on('close', () => current--);
    if (kind === 'file' && Number.isInteger(n)) {
      res.writeHead(200, { 'content-length': n, 'content-type': 'application/octet-stream' });
      setTimeout(() => res.end(Buffer.alloc(n, 0x61)), Number(url.searchParams.get('ms') ?? 0));
    } else if (kind === 'short' && Number.isInteger(n)) {
      res.writeHead(200, { 'content-length': n });
      res.write(Buffer.alloc(Math.floor(n / 2), 0x62), () => setTimeout(() => res.socket?.destroy(), 20));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    maxConcurrent: () => max,
    reset: () => (max = current),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
