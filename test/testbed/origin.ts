import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One response the origin served: which address asked (a node's uplink), for what, and how it ended. */
export interface Served {
  /** The request's `f` query parameter: the client's name for this download. */
  readonly tag: string;
  readonly remoteAddress: string;
  readonly bytes: number;
  readonly startedMs: number;
  endedMs: number;
  /** Every byte handed to the kernel; false when the client went away first. */
  complete: boolean;
}

const CHUNK = Buffer.alloc(1024 * 1024, 0x5a);

/**
 * The testbed's HTTP origin: GET /bytes/N?f=TAG answers N bytes (Content-Length
 * set, connection closed after). It records the remote address of every
 * request, which on a testbed is the uplink the download went through, so
 * the split of a job over the links is measured here, whatever balanced it.
 */
export class Origin {
  private readonly served: Served[] = [];
  private readonly byTag = new Map<string, Served>();
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly server: http.Server,
    readonly host: string,
    readonly port: number,
  ) {}

  static async start(host: string): Promise<Origin> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const origin = new Origin(server, host, (server.address() as AddressInfo).port);
    server.on('connection', (s: Socket) => {
      origin.sockets.add(s);
      s.once('close', () => origin.sockets.delete(s));
    });
    server.on('request', (req, res) => origin.serve(req, res));
    return origin;
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const m = /^\/bytes\/(\d+)/.exec(req.url ?? '');
    if (!m) {
      res.writeHead(404, { connection: 'close' }).end();
      return;
    }
    const total = Number(m[1]);
    const tag = new URL(req.url!, 'http://origin').searchParams.get('f') ?? '';
    const record: Served = { tag, remoteAddress: req.socket.remoteAddress ?? '', bytes: total, startedMs: performance.now(), endedMs: NaN, complete: false };
    this.served.push(record);
    this.byTag.set(tag, record);
    res.writeHead(200, { 'content-length': total, 'content-type': 'application/octet-stream', connection: 'close' });
    let left = total;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, CHUNK.length);
        left -= n;
        if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    res.once('finish', () => {
      record.endedMs = performance.now();
      record.complete = true;
    });
    res.once('close', () => {
      if (!record.complete) record.endedMs = performance.now();
    });
    pump();
  }

  /** Everything served so far. */
  log(): readonly Served[] {
    return this.served;
  }

  /** The (last) request that carried `?f=tag`. */
  find(tag: string): Served | undefined {
    return this.byTag.get(tag);
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
