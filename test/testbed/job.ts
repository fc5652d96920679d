import type { Socket } from 'node:net';
import { SocksClient } from 'socks';
import type { TestbedNode } from '../helpers/netns';
import type { Origin } from './origin';

/** One download of a job: its size, and when it is requested (ms after the job starts). */
export interface FileSpec {
  readonly bytes: number;
  readonly atMs: number;
}

export interface FileResult extends FileSpec {
  readonly tag: string;
  /** Body bytes received. */
  readonly got: number;
  readonly ok: boolean;
  readonly error?: string;
  /** When the request was issued and when it ended, ms after the job started. */
  readonly startMs: number;
  readonly endMs: number;
  /** The node whose uplink carried it (seen by the origin), 1-based; 0 when the origin never saw it. */
  readonly link: number;
}

export interface JobResult {
  readonly files: readonly FileResult[];
  /** From the job's start to the end of its last download. */
  readonly seconds: number;
  /** Body bytes received × 8 / seconds, in Mbit/s. */
  readonly mbps: number;
  /** Files and bytes (of successful downloads) per link, node 1 first. */
  readonly filesPerLink: number[];
  readonly bytesPerLink: number[];
}

/** `n` files of `bytes` each, all requested at once. */
export const together = (n: number, bytes: number): FileSpec[] => Array.from({ length: n }, () => ({ bytes, atMs: 0 }));

/** `n` files of `bytes` each, requested evenly over `overMs` (the first at 0). */
export const arriving = (n: number, bytes: number, overMs: number): FileSpec[] => Array.from({ length: n }, (_, i) => ({ bytes, atMs: (i * overMs) / n }));

export const MB = 1_000_000;

let jobs = 0;

/**
 * Runs a job: each file is a GET /bytes/N through the SOCKS5 proxy at
 * proxyHost:proxyPort, issued at its time; resolves when every download
 * ended (completed, failed or timed out: no download waits forever).
 */
export async function runJob(
  proxy: { host: string; port: number },
  origin: Origin,
  nodes: readonly TestbedNode[],
  files: readonly FileSpec[],
  options: { stallMs?: number } = {},
): Promise<JobResult> {
  const id = `j${process.pid}-${++jobs}`;
  const t0 = performance.now();
  const results = await Promise.all(
    files.map(async (f, i): Promise<FileResult> => {
      await new Promise((r) => setTimeout(r, Math.max(0, f.atMs - (performance.now() - t0))));
      const tag = `${id}-${i}`;
      const startMs = performance.now() - t0;
      const out = await download(proxy, origin, `/bytes/${f.bytes}?f=${tag}`, f.bytes, options.stallMs ?? 30_000);
      const served = origin.find(tag);
      const link = served ? (nodes.find((n) => n.uplinkAddress === served.remoteAddress.replace(/^::ffff:/, ''))?.index ?? 0) : 0;
      return { ...f, tag, ...out, startMs, endMs: performance.now() - t0, link };
    }),
  );
  const seconds = Math.max(...results.map((r) => r.endMs), 1) / 1000;
  const received = results.reduce((s, r) => s + r.got, 0);
  const filesPerLink = nodes.map((n) => results.filter((r) => r.ok && r.link === n.index).length);
  const bytesPerLink = nodes.map((n) => results.filter((r) => r.ok && r.link === n.index).reduce((s, r) => s + r.bytes, 0));
  return { files: results, seconds, mbps: (received * 8) / seconds / 1e6, filesPerLink, bytesPerLink };
}

/** GET `path` through SOCKS5; counts body bytes against Content-Length. Fails on a stall of `stallMs`. */
async function download(
  proxy: { host: string; port: number },
  origin: Origin,
  path: string,
  expected: number,
  stallMs: number,
): Promise<{ got: number; ok: boolean; error?: string }> {
  let socket: Socket;
  try {
    ({ socket } = await SocksClient.createConnection({
      proxy: { host: proxy.host, port: proxy.port, type: 5 },
      command: 'connect',
      destination: { host: origin.host, port: origin.port },
      timeout: 15_000,
    }));
  } catch (err) {
    return { got: 0, ok: false, error: `SOCKS: ${(err as Error).message}` };
  }
  return new Promise((resolve) => {
    let head = Buffer.alloc(0);
    let length = -1;
    let got = 0;
    let done = false;
    const finish = (ok: boolean, error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(stall);
      socket.destroy();
      resolve(ok ? { got, ok } : { got, ok, error });
    };
    let stall = setTimeout(() => finish(false, `stalled ${stallMs} ms`), stallMs);
    socket.on('data', (d: Buffer) => {
      clearTimeout(stall);
      stall = setTimeout(() => finish(false, `stalled ${stallMs} ms after ${got} bytes`), stallMs);
      if (length < 0) {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const text = head.subarray(0, end).toString('latin1');
        length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? NaN);
        if (!/^HTTP\/1\.\d 200/.test(text) || length !== expected) return finish(false, `bad response head: ${text.split('\r\n')[0]}`);
        d = head.subarray(end + 4);
      }
      got += d.length;
      if (got >= length) finish(got === length);
    });
    socket.once('end', () => finish(got === length && length >= 0, got === length ? undefined : `clean end after ${got} of ${expected} bytes`));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
    socket.once('close', () => finish(got === length && length >= 0, 'closed'));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${origin.host}:${origin.port}\r\nConnection: close\r\n\r\n`);
    socket.resume();
  });
}
