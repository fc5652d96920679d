// Shared fixtures for the proxy tests: a direct Connector, origin servers, raw clients, curl.
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { TunnelInfo } from '../../src/api/events';
import type { Logger } from '../../src/api/logger';
import { DEFAULT_LIMITS } from '../../src/core/config';
import { ConsoleLogger, silentLogger } from '../../src/kernel/logger';
import { describeError, DialFailure, replyFor } from '../../src/kernel/connector-errors';
import { TunnelTable } from '../../src/dispatch/tunnels';
import type { Connector, DispatchRequest, OpenedUpstream } from '../../src/kernel/connector';
import { EventHub } from '../../src/kernel/events';
import { forbiddenForRemoteClients } from '../../src/security/addresses';
import { DirectDialer } from '../../plugins/local/src/dialer';
import { ProxyServer, type ProxyServerOptions } from '../../src/proxy/server';
import { startHttpServer, type TestHttpServer } from '../helpers/http';

/** What the connector saw of one tunnel. */
export interface TunnelRecord {
  readonly request: DispatchRequest;
  readonly upstream: net.Socket;
  up: number;
  down: number;
  closeCalls: number;
  error?: string;
  readonly closed: Promise<void>;
  /** What the proxy registered with TunnelHandle.onAbort (cuts the tunnel as a dead source would). */
  abort?: (reason: string) => void;
}

/**
 * How a connector's upstream sockets are read: 'data' events (a plain
 * net.connect, as a dialer that ignores `onread`), or 'onread', the built-in
 * direct dialer passing the proxy's reused read buffers (the node's real path).
 */
export type ReadPath = 'data' | 'onread';

/**
 * A Connector that dials directly (names resolved by the OS), mapping
 * failures like the real dispatcher. `hold` delays every dial until it
 * settles (or the signal aborts), to test what happens during a slow dial.
 * `readPath` picks how upstreams are read (see ReadPath); 'data' by default.
 */
export class DirectConnector implements Connector {
  readonly requests: DispatchRequest[] = [];
  readonly tunnels: TunnelRecord[] = [];
  readonly aborted: DispatchRequest[] = [];
  hold?: Promise<void>;
  private readonly dialer?: DirectDialer;

  constructor(readonly readPath: ReadPath = 'data') {
    if (readPath === 'onread') this.dialer = new DirectDialer();
  }

  async open(request: DispatchRequest, signal: AbortSignal): Promise<OpenedUpstream> {
    this.requests.push(request);
    const { host, port } = request.target;
    signal.addEventListener('abort', () => this.aborted.push(request), { once: true });
    if (this.hold) {
      await Promise.race([this.hold, new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);
      if (signal.aborted) throw new DialFailure(`client went away while dialing ${host}:${port}`, replyFor({ code: 'ABORT_ERR' }));
    }
    const socket = await this.dial(request, signal);
    let closeResolve!: () => void;
    const record: TunnelRecord = { request, upstream: socket, up: 0, down: 0, closeCalls: 0, closed: new Promise((r) => (closeResolve = r)) };
    this.tunnels.push(record);
    const info: TunnelInfo = {
      id: this.tunnels.length,
      target: request.target,
      targetAddress: `${host}:${port}`,
      sourceId: 'direct',
      protocol: request.protocol,
      client: request.client,
      openedAt: Date.now(),
      bytesUp: 0,
      bytesDown: 0,
    };
    return {
      upstream: socket,
      bound: { host: socket.localAddress ?? '0.0.0.0', port: socket.localPort ?? 0 },
      source: { id: 'direct', kind: 'direct', label: 'direct', dialer: 'direct', local: true },
      tunnel: {
        info,
        countUp: (n) => void (record.up += n),
        countDown: (n) => void (record.down += n),
        close: (error) => {
          record.closeCalls++;
          record.error = error;
          closeResolve();
        },
        onAbort: (cut) => void (record.abort = cut),
      },
    };
  }

  private async dial(request: DispatchRequest, signal: AbortSignal): Promise<net.Socket> {
    const { host, port } = request.target;
    const failed = (err: unknown) => new DialFailure(`cannot reach ${host}:${port}: ${describeError(err)}`, replyFor(err));
    if (this.dialer) {
      const source = { id: 'direct', kind: 'direct' as const, label: 'direct', dialer: 'direct', local: true };
      if (!request.socketOptions?.onread) throw new Error('the proxy passed no onread option: the onread read path would not be exercised');
      try {
        return (await this.dialer.dial({ target: request.target, source, signal, socketOptions: request.socketOptions })).socket as net.Socket;
      } catch (err) {
        throw failed(err);
      }
    }
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host, port, signal, noDelay: true });
      s.once('error', (err) => {
        s.destroy();
        reject(failed(err));
      });
      s.once('connect', () => resolve(s));
    });
    socket.removeAllListeners('error');
    return socket;
  }
}

/**
 * A DirectConnector that hands every tunnel `upstream` (a stream standing in
 * for a dialed socket, on the source `sourceId`): on the next turn, once the
 * proxy has wired it up, `beforeBye` runs and `upstream` sends "bye" and ends.
 * `onClose` gets what the proxy closes the tunnel with.
 */
export function byeConnector(
  upstream: Duplex,
  onClose: (error?: string) => void,
  options: { sourceId?: string; beforeBye?: () => void } = {},
): DirectConnector {
  const { sourceId = 'direct', beforeBye } = options;
  const connector = new DirectConnector();
  connector.open = async () => {
    setImmediate(() => {
      beforeBye?.();
      upstream.push('bye');
      upstream.push(null);
    });
    return {
      upstream,
      source: { id: sourceId, kind: 'direct', label: sourceId, dialer: 'direct', local: true },
      tunnel: { info: {} as never, countUp: () => undefined, countDown: () => undefined, close: onClose, onAbort: () => undefined },
    };
  };
  return connector;
}

/**
 * A Connector closer to the node's: the built-in direct dialer (reads through
 * the proxy's `onread` buffers, applies the guard for restricted clients) and
 * a real TunnelTable. `sourceOf` names the source a target's tunnel is
 * counted on (all "direct" unless given), to test per-source actions.
 */
export class TableConnector implements Connector {
  readonly events = new EventHub();
  readonly table = new TunnelTable(this.events);
  readonly requests: DispatchRequest[] = [];
  private readonly dialer = new DirectDialer();

  constructor(private readonly sourceOf: (request: DispatchRequest) => string = () => 'direct') {}

  async open(request: DispatchRequest, signal: AbortSignal): Promise<OpenedUpstream> {
    this.requests.push(request);
    const sourceId = this.sourceOf(request);
    const source = { id: sourceId, kind: 'direct' as const, label: sourceId, dialer: 'direct', local: true };
    const guard = request.restricted ? forbiddenForRemoteClients : undefined;
    let result;
    try {
      result = await this.dialer.dial({ target: request.target, source, signal, socketOptions: request.socketOptions, guard });
    } catch (err) {
      throw new DialFailure(`cannot reach ${request.target.host}:${request.target.port}: ${describeError(err)}`, replyFor(err));
    }
    return { upstream: result.socket, bound: result.bound, source, tunnel: this.table.add(request.target, sourceId, request.protocol, request.client) };
  }
}

export interface Rejection {
  readonly client: string;
  readonly reason: string;
}

export interface TestProxy {
  readonly server: ProxyServer;
  readonly connector: DirectConnector;
  readonly port: number;
  readonly rejections: Rejection[];
  /** Resolves with the next rejection not yet taken. */
  nextRejection(): Promise<Rejection>;
}

/** Set BOOSTER_TEST_LOG=debug to see the proxy's log. */
export function testLogger(): Logger {
  const level = process.env.BOOSTER_TEST_LOG as 'debug' | 'info' | undefined;
  return level ? new ConsoleLogger(level, 'proxy') : silentLogger;
}

/** A logger that keeps every line (and passes them on to testLogger()). */
export class CapturingLogger implements Logger {
  readonly lines: { level: 'error' | 'warn' | 'info' | 'debug'; message: string }[] = [];
  private readonly out = testLogger();

  error(message: string): void {
    this.keep('error', message);
  }
  warn(message: string): void {
    this.keep('warn', message);
  }
  info(message: string): void {
    this.keep('info', message);
  }
  debug(message: string): void {
    this.keep('debug', message);
  }
  child(): Logger {
    return this;
  }

  /** Messages at `level` matching `pattern`. */
  matching(level: string, pattern: RegExp): string[] {
    return this.lines.filter((l) => l.level === level && pattern.test(l.message)).map((l) => l.message);
  }

  private keep(level: 'error' | 'warn' | 'info' | 'debug', message: string): void {
    this.lines.push({ level, message });
    this.out[level](message);
  }
}

export async function startProxy(options: Partial<ProxyServerOptions> = {}, connector = new DirectConnector(), log: Logger = testLogger()): Promise<TestProxy> {
  const rejections: Rejection[] = [];
  const waiters: ((r: Rejection) => void)[] = [];
  let taken = 0;
  const server = new ProxyServer(connector, log, {
    host: '127.0.0.1',
    port: 0,
    handshakeTimeoutMs: 2000,
    limits: DEFAULT_LIMITS,
    ...options,
    onRejected: (e) => {
      rejections.push(e);
      waiters.shift()?.(rejections[taken++]);
    },
  });
  const { port } = await server.listen();
  return {
    server,
    connector,
    port,
    rejections,
    nextRejection: () => (taken < rejections.length ? Promise.resolve(rejections[taken++]) : new Promise((resolve) => waiters.push(resolve))),
  };
}

/** The HTTP origin the proxy tests fetch from (shared with the other suites). */
export type Origin = TestHttpServer;
export const startOrigin = startHttpServer;

/** A raw TCP origin; `onSocket` decides what each connection does. Closing destroys every socket. */
export async function startTcpOrigin(
  onSocket: (s: net.Socket) => void,
  host = '127.0.0.1',
): Promise<{ port: number; sockets: net.Socket[]; close(): Promise<void> }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A client socket that keeps everything it receives, for byte-level protocol tests. */
export class RawClient {
  readonly socket: net.Socket;
  private received = Buffer.alloc(0);
  private readonly waiters: (() => void)[] = [];
  readonly closed: Promise<void>;
  ended = false;
  private resetSeen = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
      this.waiters.slice().forEach((w) => w());
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET') this.resetSeen = true;
    });
    socket.on('end', () => {
      this.ended = true;
      this.waiters.slice().forEach((w) => w());
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        resolve();
        this.waiters.slice().forEach((w) => w());
      }),
    );
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, allowHalfOpen: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
    });
  }

  get data(): Buffer {
    return this.received;
  }

  send(bytes: Buffer | string | number[]): void {
    this.socket.write(Array.isArray(bytes) ? Buffer.from(bytes) : bytes);
  }

  /** Takes exactly n bytes (waits for them; fails after timeoutMs or if the socket closes first). */
  async read(n: number, timeoutMs = 5000): Promise<Buffer> {
    await this.until(() => this.received.length >= n, `${n} bytes (have ${this.received.length})`, timeoutMs);
    const out = this.received.subarray(0, n);
    this.received = this.received.subarray(n);
    return out;
  }

  /** Waits for the server to close the connection; resolves with everything not yet read. */
  async readToClose(timeoutMs = 5000): Promise<Buffer> {
    await this.until(() => this.ended || this.socket.destroyed, 'the connection to close', timeoutMs);
    const out = this.received;
    this.received = Buffer.alloc(0);
    return out;
  }

  /** Resolves once the server ended or cut the connection (this side may still be open). */
  async gone(timeoutMs = 5000): Promise<void> {
    await this.until(() => this.ended || this.socket.destroyed, 'the connection to end', timeoutMs);
  }

  /** True if the connection was reset (ECONNRESET) rather than ended. */
  get reset(): boolean {
    return this.resetSeen;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private until(ok: () => boolean, what: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (ok()) done(resolve);
        else if (this.socket.destroyed && !ok()) done(() => reject(new Error(`connection closed while waiting for ${what}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for ${what}`))), timeoutMs);
      const done = (fn: () => void) => {
        clearTimeout(timer);
        const i = this.waiters.indexOf(check);
        if (i >= 0) this.waiters.splice(i, 1);
        fn();
      };
      this.waiters.push(check);
      check();
    });
  }
}

/** SOCKS5 no-auth greeting + CONNECT request bytes for an IPv4 target. */
export function socks5Connect(host: string, port: number): Buffer {
  const ip = host.split('.').map(Number);
  return Buffer.from([0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x01, ...ip, port >> 8, port & 0xff]);
}

/** Runs a SOCKS5 CONNECT on a raw client and checks the replies; returns the reply's BND part. */
export async function socks5Open(client: RawClient, host: string, port: number): Promise<Buffer> {
  client.send(socks5Connect(host, port));
  const method = await client.read(2);
  if (method[0] !== 5 || method[1] !== 0) throw new Error(`unexpected method reply ${method.toString('hex')}`);
  const reply = await client.read(10);
  if (reply[1] !== 0) throw new Error(`SOCKS5 reply ${reply[1]}`);
  return reply;
}

export interface CurlResult {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** curl with no proxy settings from the environment. */
export function curl(args: readonly string[], timeoutMs = 10_000): Promise<CurlResult> {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/_proxy$/i.test(k)) delete env[k];
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-sS', '--max-time', String(timeoutMs / 1000), ...args],
      { env, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr: stderr.toString() });
      },
    );
  });
}

export function sha256(b: Buffer): string {
  return crypto.createHash('sha256').update(b).digest('hex');
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `ok()` (or fails after timeoutMs with `what`). */
export async function eventually(ok: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

/**
 * Counts of live sockets, servers and timers, to check a test released
 * everything it (and the proxy) made. Await it in a beforeEach hook: mocha
 * arms a timer for a hook once it returns a promise, and the afterEach
 * check runs under one too.
 */
export async function handleBaseline(): Promise<Record<string, number>> {
  await Promise.resolve();
  return liveHandles();
}

function liveHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) if (/TCP|Timeout|Pipe|Process/.test(r)) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

/** Fails if handles are still open beyond `baseline` after a short grace period. */
export async function expectNoLeaks(baseline: Record<string, number>): Promise<void> {
  const extra = () => Object.entries(liveHandles()).filter(([k, n]) => n > (baseline[k] ?? 0));
  const deadline = Date.now() + 1500;
  while (extra().length > 0 && Date.now() < deadline) await delay(20);
  const left = extra();
  if (left.length > 0) throw new Error(`handles left open: ${left.map(([k, n]) => `${k} ${n - (baseline[k] ?? 0)}`).join(', ')}`);
}

/**
 * Registers the hooks every proxy suite needs: a handle baseline before each
 * test, then `teardown` (the suite's own cleanup) and the leak check after it.
 */
export function checkLeaksAround(teardown: () => unknown): void {
  let baseline: Record<string, number>;
  beforeEach(async () => {
    baseline = await handleBaseline();
  });
  afterEach(async () => {
    await teardown();
    await expectNoLeaks(baseline);
  });
}

/** Raw clients opened by a test, destroyed together at teardown. */
export class RawClients {
  private readonly open: RawClient[] = [];

  async connect(port: number): Promise<RawClient> {
    const c = await RawClient.connect(port);
    this.open.push(c);
    return c;
  }

  destroyAll(): void {
    this.open.splice(0).forEach((c) => c.destroy());
  }
}

/** What useProxyFixture() gives a suite. */
export interface ProxyFixture {
  /** The proxy under test: a test sets it; the fixture closes it after the test. */
  proxy: TestProxy | undefined;
  /** Raw clients, destroyed after each test. */
  readonly clients: RawClients;
  /** More cleanup for the current test, run (last first) after the clients are destroyed. */
  readonly cleanup: (() => unknown)[];
  /** A raw client connected to the proxy. */
  raw(): Promise<RawClient>;
}

export interface ProxyFixtureOptions<O> {
  /** Starts the suite's origin (the fixture's `origin`) before its first test; it is closed after the last. */
  readonly origin?: () => Promise<O>;
  /** The suite's own cleanup after each test, run after `cleanup`, before the proxy closes. */
  readonly teardown?: () => unknown;
}

/**
 * The setup every proxy suite shares: a proxy, raw clients and cleanup per
 * test, all released after it under checkLeaksAround; with `origin`, a
 * server kept for the whole suite. Call it in the suite's describe.
 */
export function useProxyFixture(options?: Omit<ProxyFixtureOptions<never>, 'origin'>): ProxyFixture;
export function useProxyFixture<O extends { close(): unknown }>(
  options: ProxyFixtureOptions<O> & { origin: () => Promise<O> },
): ProxyFixture & { readonly origin: O };
export function useProxyFixture<O extends { close(): unknown }>(options: ProxyFixtureOptions<O> = {}): ProxyFixture & { origin?: O } {
  const fixture: ProxyFixture & { origin?: O } = {
    proxy: undefined,
    clients: new RawClients(),
    cleanup: [],
    raw: () => fixture.clients.connect(fixture.proxy!.port),
  };
  const { origin: startSuiteOrigin, teardown } = options;
  if (startSuiteOrigin) {
    before(async () => {
      fixture.origin = await startSuiteOrigin();
    });
    after(() => fixture.origin!.close());
  }
  checkLeaksAround(async () => {
    fixture.clients.destroyAll();
    for (const fn of fixture.cleanup.splice(0).reverse()) await fn();
    await teardown?.();
    await fixture.proxy?.server.close(0);
    fixture.proxy = undefined;
  });
  return fixture;
}
