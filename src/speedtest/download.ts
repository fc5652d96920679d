import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import * as tls from 'node:tls';
import { SocksClient } from 'socks';

/** Where downloads leave from: a SOCKS5 proxy (a booster node's) or this machine directly. */
export type Route = { readonly kind: 'proxy'; readonly host: string; readonly port: number } | { readonly kind: 'direct' };

export interface DownloadOutcome {
  readonly url: string;
  readonly ok: boolean;
  readonly bytes: number;
  /** Content-Length, when the origin sent one. */
  readonly expected?: number;
  readonly ms: number;
  /** Why it failed (HTTP status, short body, timeout, proxy refusal, ...). */
  readonly error?: string;
}

export interface DownloadOptions {
  readonly route: Route;
  /** The whole download, connect to last byte. */
  readonly timeoutMs: number;
  readonly onBytes?: (n: number, expected: number | undefined) => void;
}

/**
 * GETs one URL and counts its body. A body shorter than its Content-Length is a
 * failure, never a completed download.
 */
export async function download(url: string, options: DownloadOptions): Promise<DownloadOutcome> {
  const started = Date.now();
  let bytes = 0;
  let expected: number | undefined;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`timed out after ${options.timeoutMs} ms`)), options.timeoutMs);
  const outcome = (error?: string): DownloadOutcome => ({
    url,
    ok: error === undefined,
    bytes,
    expected,
    ms: Date.now() - started,
    ...(error ? { error } : {}),
  });
  try {
    const target = new URL(url);
    const socket = await openSocket(target, options.route, options.timeoutMs, abort.signal);
    await new Promise<void>((resolve, reject) => {
      const mod = target.protocol === 'https:' ? https : http;
      const via = socket ? { createConnection: () => socket } : { agent: false as const };
      const req = mod.request(target, { signal: abort.signal, ...via, headers: { connection: 'close' } }, (res) => {
        if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) {
          res.resume();
          reject(new Error(`HTTP ${res.statusCode}${res.statusMessage ? ` ${res.statusMessage}` : ''}`));
          return;
        }
        const length = res.headers['content-length'];
        expected = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          options.onBytes?.(chunk.length, expected);
        });
        // Node reports a body cut short of its Content-Length as "aborted" or an error; both are failures here.
        res.on('aborted', () => reject(new Error('connection closed before the body ended')));
        res.on('error', reject);
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end();
    });
    if (expected !== undefined && bytes !== expected) return outcome(`short body: ${bytes} of ${expected} bytes`);
    return outcome();
  } catch (err) {
    const reason = abort.signal.aborted ? (abort.signal.reason as Error).message : (err as Error).message;
    if (expected !== undefined && bytes < expected && !abort.signal.aborted) return outcome(`short body: ${bytes} of ${expected} bytes (${reason})`);
    return outcome(reason);
  } finally {
    clearTimeout(timer);
  }
}

/** A socket through the proxy to the URL's host, or undefined to let Node connect directly. */
async function openSocket(target: URL, route: Route, timeoutMs: number, signal: AbortSignal): Promise<Socket | undefined> {
  const secure = target.protocol === 'https:';
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const port = Number(target.port || (secure ? 443 : 80));
  if (route.kind === 'direct') return undefined;
  let socket: Socket;
  try {
    ({ socket } = await SocksClient.createConnection({
      proxy: { host: route.host, port: route.port, type: 5 },
      command: 'connect',
      destination: { host, port },
      timeout: timeoutMs,
    }));
  } catch (err) {
    throw new Error(`proxy ${route.host}:${route.port}: ${(err as Error).message}`);
  }
  if (signal.aborted) {
    socket.destroy();
    throw signal.reason as Error;
  }
  return secure ? tls.connect({ socket, servername: host }) : socket;
}
