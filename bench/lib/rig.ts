/**
 * Shared pieces of the resource benchmarks (bench/hostile.ts, idle-tunnels.ts,
 * load-10k.ts, soak.ts, tls-cost.ts): nodes as child processes (`bin/run
 * start` under a raised `ulimit -n`), their RSS and descriptors from /proc,
 * local origins, a raw SOCKS5 client and small table/percentile helpers.
 * Nothing here leaves 127.0.0.0/8 (or a namespace the caller made).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** The checkout this script runs from (dist/bench/lib → root). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'run');

// ---------------------------------------------------------------- environment

let benchHome: string | undefined;
let benchKey: string | undefined;

/** One BOOSTER_HOME and one 64-hex-digit BOOSTER_KEY per bench run, shared by every node it spawns; removed at exit. */
export function benchEnv(): { BOOSTER_HOME: string; BOOSTER_KEY: string } {
  if (!benchHome) {
    benchHome = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-bench-home-'));
    benchKey = process.env.BOOSTER_KEY && /^[0-9a-fA-F]{64}$/.test(process.env.BOOSTER_KEY) ? process.env.BOOSTER_KEY : crypto.randomBytes(32).toString('hex');
    const home = benchHome;
    process.once('exit', () => fs.rmSync(home, { recursive: true, force: true }));
  }
  return { BOOSTER_HOME: benchHome, BOOSTER_KEY: benchKey! };
}

export function tempFile(name: string, content: string): string {
  const file = path.join(benchEnv().BOOSTER_HOME, name);
  fs.writeFileSync(file, content);
  return file;
}

/** The machine and the checkout, for the report header. */
export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  let rev = process.env.BENCH_REV ?? 'unknown';
  try {
    rev = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    if (dirty) rev += '+dirty';
  } catch {
    // not a git checkout (a snapshot copy: BENCH_REV names it)
  }
  return `${new Date().toISOString()} · ${os.cpus().length} × ${cpu} · ${Math.round(os.totalmem() / 2 ** 30)} GiB · Node ${process.version} · ${os.type()} ${os.release()} · ${ROOT} @ ${rev}`;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The number after `--name` on the command line, or `def`. */
export function numberArg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The soft RLIMIT_NOFILE of a process (Node cannot raise its own: benches that need many fds run under a bash wrapper). */
export function openFilesLimit(pid: number | 'self' = 'self'): number {
  const m = /^Max open files\s+(\S+)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return m?.[1] === 'unlimited' ? Infinity : Number(m?.[1] ?? 1024);
}

// ---------------------------------------------------------------- /proc

/** VmRSS in KiB, or undefined when the process is gone. */
export function rssKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Open descriptors, or undefined when the process is gone. */
export function fdCount(pid: number): number | undefined {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** What kind of file each descriptor is (socket, pipe, anon_inode:[eventpoll], /dev/null...), counted. */
export function fdKinds(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      let t: string;
      try {
        t = fs.readlinkSync(`/proc/${pid}/fd/${fd}`).replace(/\[\d+\]$/, '');
      } catch {
        continue;
      }
      out[t] = (out[t] ?? 0) + 1;
    }
  } catch {
    // gone
  }
  return out;
}

/**
 * The TCP connections a process holds (from /proc/PID/fd and /proc/net/tcp{,6}),
 * for telling which side of a tunnel is left over: local port, remote port, state.
 */
export function tcpConnections(pid: number): { local: number; remote: number; state: string }[] {
  const inodes = new Set<string>();
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return [];
  }
  const STATES: Record<string, string> = {
    '01': 'ESTABLISHED',
    '02': 'SYN_SENT',
    '03': 'SYN_RECV',
    '04': 'FIN_WAIT1',
    '05': 'FIN_WAIT2',
    '06': 'TIME_WAIT',
    '07': 'CLOSE',
    '08': 'CLOSE_WAIT',
    '09': 'LAST_ACK',
    '0A': 'LISTEN',
    '0B': 'CLOSING',
  };
  const out: { local: number; remote: number; state: string }[] = [];
  for (const file of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9])) continue;
      out.push({ local: parseInt(f[1].split(':')[1], 16), remote: parseInt(f[2].split(':')[1], 16), state: STATES[f[3]] ?? f[3] });
    }
  }
  return out;
}

/** Samples a process's RSS every `everyMs` (100 ms by default), with named phases. */
export class RssSampler {
  private timer?: NodeJS.Timeout;
  readonly samples: { t: number; kib: number; phase: string }[] = [];
  phase = 'baseline';
  private readonly started = Date.now();

  constructor(
    readonly pid: number,
    readonly everyMs = 100,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  sample(): number | undefined {
    const kib = rssKiB(this.pid);
    if (kib !== undefined) this.samples.push({ t: Date.now() - this.started, kib, phase: this.phase });
    return kib;
  }

  /** Max (and last) RSS in MiB over a phase (or all samples). */
  stats(phase?: string): { maxMiB: number; lastMiB: number; firstMiB: number; n: number } {
    const s = phase ? this.samples.filter((x) => x.phase === phase) : this.samples;
    if (s.length === 0) return { maxMiB: NaN, lastMiB: NaN, firstMiB: NaN, n: 0 };
    return { maxMiB: Math.max(...s.map((x) => x.kib)) / 1024, lastMiB: s[s.length - 1].kib / 1024, firstMiB: s[0].kib / 1024, n: s.length };
  }
}

// ---------------------------------------------------------------- nodes as children

export interface NodeOptions {
  readonly name: string;
  readonly bind?: string;
  /** Fixed ports (a node restarted on the same address); 0 lets the node pick. */
  readonly pport?: number;
  readonly bport?: number;
  /** Written to a temp file and passed with --config. */
  readonly config?: Record<string, unknown>;
  /** `ulimit -n` for the node (a bash wrapper that execs node, so the pid is the node's). */
  readonly ulimit?: number;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Run inside this network namespace (`ip netns exec`); the pid is then the wrapper's child, found via /proc. */
  readonly netns?: string;
  /** Keep at most this many bytes of the log (a long soak must not grow the bench). */
  readonly logLimit?: number;
  /** Also append the whole log to this file. */
  readonly logFile?: string;
}

export interface NodeProc {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly pport: number;
  readonly bport: number;
  /** The log (stderr) so far (the tail, past logLimit). */
  log(): string;
  /** Count of log lines matching a pattern since start (kept even when the log is trimmed). */
  count(pattern: RegExp): number;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly alive: boolean;
  kill(signal?: NodeJS.Signals): void;
}

const counted: RegExp[] = [];
/** Patterns counted on every node's log (register before spawning). */
export function countLogLines(...patterns: RegExp[]): void {
  counted.push(...patterns);
}

export async function spawnNode(o: NodeOptions): Promise<NodeProc> {
  const args = ['start', '--bind', o.bind ?? '127.0.0.1', '--pport', String(o.pport ?? 0), '--bport', String(o.bport ?? 0), ...(o.args ?? [])];
  if (o.config) args.push('--config', tempFile(`${o.name}-${process.pid}-${Date.now()}.json`, JSON.stringify(o.config)));
  const ulimit = o.ulimit ?? 0;
  const script = `${ulimit ? `ulimit -n ${ulimit} || exit 97; ` : ''}exec "$0" "$@"`;
  const argv = ['-c', script, process.execPath, BIN, ...args];
  const cmd = o.netns ? 'ip' : 'bash';
  const full = o.netns ? ['netns', 'exec', o.netns, 'bash', ...argv] : argv;
  const child = spawn(cmd, full, { env: { ...process.env, ...benchEnv(), ...o.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const limit = o.logLimit ?? 1_000_000;
  if (o.logFile) child.stderr.pipe(fs.createWriteStream(o.logFile, { flags: 'a' }));
  let log = '';
  let partial = '';
  const counts = new Map<RegExp, number>();
  const waiters = new Set<() => void>();
  child.stderr.on('data', (d: Buffer) => {
    const text = d.toString();
    log += text;
    if (log.length > limit) log = log.slice(-Math.floor(limit / 2));
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) for (const p of counted) if (p.test(line)) counts.set(p, (counts.get(p) ?? 0) + 1);
    for (const w of waiters) w();
  });
  let alive = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      alive = false;
      for (const w of waiters) w();
      resolve({ code, signal });
    }),
  );
  const waitFor = (pattern: RegExp, timeoutMs = 20_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = log.match(pattern);
        if (m) {
          done();
          resolve(m);
        } else if (!alive) {
          done();
          reject(new Error(`${o.name} exited before ${pattern}; log:\n${log.slice(-3000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${o.name}: timed out waiting for ${pattern}; log:\n${log.slice(-3000)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  const proxy = await waitFor(/proxy listening on \S+?:(\d+) /);
  const endpoint = await waitFor(/booster endpoint listening on \S+?:(\d+)/);
  let pid = child.pid!;
  if (o.netns) pid = findDescendant(pid) ?? pid;
  const node: NodeProc = {
    name: o.name,
    pid,
    child,
    pport: Number(proxy[1]),
    bport: Number(endpoint[1]),
    log: () => log,
    count: (p) => counts.get(p) ?? 0,
    waitFor,
    exited,
    get alive() {
      return alive;
    },
    kill(signal = 'SIGTERM') {
      if (!alive) return;
      try {
        process.kill(pid, signal);
      } catch {
        // gone
      }
    },
  };
  return node;
}

/** The node process under an `ip netns exec` wrapper (the first descendant running node). */
function findDescendant(pid: number): number | undefined {
  for (let depth = 0; depth < 3; depth++) {
    let children: string[] = [];
    try {
      children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      return undefined;
    }
    if (children.length === 0) return pid;
    pid = Number(children[0]);
  }
  return pid;
}

/** Stops a node (SIGTERM, then SIGKILL after `graceMs`). */
export async function stopNode(node: NodeProc | undefined, graceMs = 3000): Promise<void> {
  if (!node || !node.alive) return;
  node.kill('SIGTERM');
  const t = setTimeout(() => node.kill('SIGKILL'), graceMs);
  await node.exited;
  clearTimeout(t);
}

/** Runs a CLI command (`bin/run ...`) with the bench's key; resolves with stdout (rejects on a non-zero exit). */
export function cli(args: readonly string[], timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...benchEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`booster ${args.join(' ')} exited ${code}: ${err.trim() || out.trim()}`));
    });
  });
}

export interface StatusEntry {
  readonly id: string;
  readonly baddr: string;
  readonly paddr: string;
  readonly active: boolean;
  readonly tunnels: readonly { readonly target: string; readonly copies: number }[];
}

/** `booster status HOST:BPORT --json`: the node first, then its peers with their reported workload. */
export async function status(bport: number, host = '127.0.0.1'): Promise<StatusEntry[]> {
  return JSON.parse(await cli(['status', `${host}:${bport}`, '--json'])) as StatusEntry[];
}

export const openTunnelsOf = (e: StatusEntry) => e.tunnels.reduce((n, t) => n + t.copies, 0);

// ---------------------------------------------------------------- origins

/** Deterministic bytes: a 8 MiB block of SHA-256 counter output; /blob?off=O&len=N serves a slice. */
export const PATTERN = (() => {
  const b = Buffer.allocUnsafe(8 * 1024 * 1024);
  for (let i = 0; i < b.length / 32; i++)
    crypto
      .createHash('sha256')
      .update(`booster bench ${i}`)
      .digest()
      .copy(b, i * 32);
  return b;
})();

export function sliceSha256(off: number, len: number): string {
  return crypto
    .createHash('sha256')
    .update(PATTERN.subarray(off, off + len))
    .digest('hex');
}

export interface Origin {
  readonly port: number;
  readonly server: net.Server;
  connections(): number;
  close(): Promise<void>;
}

/**
 * A local HTTP origin: /small (1 KiB), /blob?off=O&len=N (a slice of PATTERN,
 * Content-Length set, connection closed after it), /hold?len=N (N bytes, then
 * the connection stays open and idle until the client closes it).
 */
export function startOrigin(host = '127.0.0.1'): Promise<Origin> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/small') {
      res.writeHead(200, { 'content-length': 1024, connection: 'close' });
      res.end(PATTERN.subarray(0, 1024));
    } else if (url.pathname === '/blob') {
      const off = Math.min(Number(url.searchParams.get('off') ?? 0), PATTERN.length);
      const len = Math.min(Number(url.searchParams.get('len') ?? 1024), PATTERN.length - off);
      res.writeHead(200, { 'content-length': len, connection: 'close' });
      res.end(PATTERN.subarray(off, off + len));
    } else {
      res.writeHead(404, { connection: 'close' }).end();
    }
  });
  server.keepAliveTimeout = 1000;
  return listenOrigin(server, { port: 0, host });
}

/**
 * A raw TCP origin for tunnels that must stay open: on connect it writes
 * `bytes` and then keeps the connection open and idle; or, when the client
 * sends "STREAM <n>\n", streams n bytes as fast as the client takes them and
 * closes. Counts open connections.
 */
export function startRawOrigin(host = '127.0.0.1', options: { holdBytes?: number; backlog?: number } = {}): Promise<Origin> {
  const chunk = PATTERN.subarray(0, 256 * 1024);
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    if (options.holdBytes) {
      s.write(PATTERN.subarray(0, options.holdBytes));
      s.resume();
      return;
    }
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      const m = /^STREAM (\d+)\n/.exec(head);
      if (!m) {
        if (head.length > 64) s.destroy();
        return;
      }
      s.off('data', onData);
      s.resume();
      let left = Number(m[1]);
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
            s.once('drain', pump);
            return;
          }
        }
        s.end();
      };
      pump();
    };
    s.on('data', onData);
  });
  return listenOrigin(server, { port: 0, host, backlog: options.backlog ?? 4096 });
}

/** Starts `server` listening and returns it as an Origin: it counts the open connections, and closing it destroys them. */
async function listenOrigin(server: net.Server, listen: net.ListenOptions): Promise<Origin> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(listen, r));
  return {
    port: (server.address() as net.AddressInfo).port,
    server,
    connections: () => sockets.size,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

// ---------------------------------------------------------------- SOCKS5 client

/**
 * SOCKS5 CONNECT (no authentication) through `proxyPort` to host:port, on a new
 * socket or `over` an existing stream (a nested chain). Resolves with the socket
 * once the reply arrived; bytes after the reply are unshifted back.
 */
export function socks5(
  proxyPort: number,
  host: string,
  port: number,
  options: { proxyHost?: string; timeoutMs?: number; over?: net.Socket } = {},
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = options.over ?? net.connect({ port: proxyPort, host: options.proxyHost ?? '127.0.0.1', noDelay: true });
    const timer = setTimeout(() => fail(new Error(`SOCKS5 handshake via :${proxyPort} timed out`)), options.timeoutMs ?? 10_000);
    let got = Buffer.alloc(0);
    const ip = net.isIPv4(host);
    const addr = ip ? Buffer.from([1, ...host.split('.').map(Number)]) : Buffer.concat([Buffer.from([3, host.length]), Buffer.from(host)]);
    const request = Buffer.concat([Buffer.from([5, 1, 0]), addr, Buffer.from([port >> 8, port & 255])]);
    let requested = false;
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length < 2) return;
      if (got[0] !== 5 || got[1] !== 0) return fail(new Error(`SOCKS5 method reply ${got.subarray(0, 2).toString('hex')}`));
      if (!requested) {
        // Not pipelined: some proxies (microsocks) drop a request that arrives with the greeting.
        requested = true;
        s.write(request);
      }
      if (got.length < 2 + 5) return;
      const rep = got[3];
      if (rep !== 0) return fail(Object.assign(new Error(`SOCKS5 reply 0x${rep.toString(16)}`), { socksReply: rep }));
      const atyp = got[5];
      const len = 2 + 4 + (atyp === 1 ? 4 : atyp === 4 ? 16 : 1 + got[6]) + 2;
      if (got.length < len) return;
      clearTimeout(timer);
      s.off('data', onData);
      s.off('error', fail);
      s.off('close', onClose);
      s.pause();
      if (got.length > len) s.unshift(got.subarray(len));
      resolve(s);
    };
    const onClose = () => fail(new Error('proxy closed the connection during the SOCKS5 handshake'));
    function fail(err: Error) {
      clearTimeout(timer);
      s.off('data', onData);
      s.off('close', onClose);
      s.destroy();
      reject(err);
    }
    s.on('data', onData);
    s.once('error', fail);
    s.once('close', onClose);
    s.resume();
    const send = () => s.write(Buffer.from([5, 1, 0]));
    if (options.over || !s.connecting) send();
    else s.once('connect', send);
  });
}

/** Resolves once `n` bytes arrived on `s` (they are dropped); fails on an error or after `timeoutMs`. */
export function readBytes(s: net.Socket, n: number, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const timer = setTimeout(() => reject(new Error(`read ${got}/${n} bytes in ${timeoutMs / 1000} s`)), timeoutMs);
    const onData = (d: Buffer) => {
      got += d.length;
      if (got >= n) {
        clearTimeout(timer);
        s.off('data', onData);
        resolve();
      }
    };
    s.on('data', onData);
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.resume();
  });
}

export type FetchOutcome =
  | { kind: 'ok'; bytes: number; sha256: string; ms: number }
  | { kind: 'short'; bytes: number; expected: number; ms: number } // clean end (FIN) before Content-Length: a truncation reported as complete
  | { kind: 'reset'; bytes: number; error: string; ms: number }
  | { kind: 'refused'; error: string; ms: number }
  | { kind: 'timeout'; bytes: number; ms: number }
  | { kind: 'bad'; error: string; ms: number };

/** GET `path` over an HTTP origin at host:port through SOCKS5 at proxyPort; reads to the end and classifies what happened. */
export async function fetchVia(proxyPort: number, host: string, port: number, urlPath: string, timeoutMs = 60_000): Promise<FetchOutcome> {
  const t0 = performance.now();
  let s: net.Socket;
  try {
    s = await socks5(proxyPort, host, port, { timeoutMs: Math.min(timeoutMs, 15_000) });
  } catch (err) {
    return { kind: 'refused', error: (err as Error).message, ms: performance.now() - t0 };
  }
  return new Promise<FetchOutcome>((resolve) => {
    const hash = crypto.createHash('sha256');
    let head = Buffer.alloc(0);
    let expected = -1;
    let status = 0;
    let body = 0;
    let settled = false;
    const finish = (o: FetchOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout', bytes: body, ms: performance.now() - t0 }), timeoutMs);
    s.on('data', (d: Buffer) => {
      if (expected < 0) {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > 16384) finish({ kind: 'bad', error: 'response head too long', ms: performance.now() - t0 });
          return;
        }
        const text = head.subarray(0, end).toString('latin1');
        status = Number(/^HTTP\/1\.\d (\d{3})/.exec(text)?.[1] ?? 0);
        expected = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? -1);
        if (status !== 200 || expected < 0) return finish({ kind: 'bad', error: `status ${status}, content-length ${expected}`, ms: performance.now() - t0 });
        d = head.subarray(end + 4);
      }
      body += d.length;
      hash.update(d);
    });
    s.once('end', () => {
      const ms = performance.now() - t0;
      if (expected >= 0 && body === expected) finish({ kind: 'ok', bytes: body, sha256: hash.digest('hex'), ms });
      else if (expected >= 0 && body < expected) finish({ kind: 'short', bytes: body, expected, ms });
      else finish({ kind: 'bad', error: `clean end after ${body} body bytes (content-length ${expected}, head ${expected < 0 ? 'incomplete' : 'ok'})`, ms });
    });
    s.once('error', (err: NodeJS.ErrnoException) => finish({ kind: 'reset', bytes: body, error: err.code ?? err.message, ms: performance.now() - t0 }));
    s.once('close', () => finish({ kind: 'reset', bytes: body, error: 'closed without end', ms: performance.now() - t0 }));
    s.write(`GET ${urlPath} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`);
    s.resume();
  });
}

// ---------------------------------------------------------------- numbers and tables

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const mib = (kib: number) => kib / 1024;
export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

/** Prints a markdown table. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers.map(String), ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(cells[0]), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.slice(1).map(line)].join('\n');
}

/** Collects target checks; `exit()` sets the exit code (1 when any missed). */
export class Targets {
  readonly checks: { name: string; ok: boolean; detail: string }[] = [];

  check(name: string, ok: boolean, detail: string): boolean {
    this.checks.push({ name, ok, detail });
    return ok;
  }

  report(): string {
    return table(
      ['target', 'result', 'measured'],
      this.checks.map((c) => [c.name, c.ok ? 'ok' : 'MISSED', c.detail]),
    );
  }

  get ok(): boolean {
    return this.checks.every((c) => c.ok);
  }
}

/** Runs `main` with a hard time bound; cleanups run on exit, SIGINT and SIGTERM. */
export function runBench(name: string, main: () => Promise<boolean>, hardLimitMs: number): void {
  const cleanups: (() => void)[] = [];
  const hard = setTimeout(() => {
    console.error(`${name}: hard time limit ${Math.round(hardLimitMs / 1000)} s reached; giving up`);
    for (const c of cleanups.splice(0).reverse()) safe(c);
    process.exit(3);
  }, hardLimitMs);
  hard.unref();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const c of cleanups.splice(0).reverse()) safe(c);
      process.exit(130);
    });
  }
  process.once('exit', () => {
    for (const c of cleanups.splice(0).reverse()) safe(c);
  });
  onCleanup = (c) => cleanups.push(c);
  main().then(
    (ok) => {
      for (const c of cleanups.splice(0).reverse()) safe(c);
      process.exitCode = ok ? 0 : 1;
      // Sockets the bench held (thousands of tunnels) may keep the loop busy briefly; the verdict is in.
      setTimeout(() => process.exit(process.exitCode), 2000).unref();
    },
    (err) => {
      console.error(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      for (const c of cleanups.splice(0).reverse()) safe(c);
      process.exit(2);
    },
  );
}

let onCleanup: (c: () => void) => void = () => undefined;
/** Registers something to undo at exit (kill a child, delete a namespace); synchronous. */
export function atExit(c: () => void): void {
  onCleanup(c);
}

function safe(c: () => void): void {
  try {
    c();
  } catch {
    // best effort
  }
}

/** Kills a node synchronously at exit (SIGKILL; for cleanup paths only). */
export function killAtExit(node: NodeProc): void {
  atExit(() => node.kill('SIGKILL'));
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}
