// A stranger's toolbox, run INSIDE a network namespace by test/security/*.test.ts:
//   ip netns exec NS node dist/test/helpers/stranger-agent.js COMMAND 'JSON options'
// It drives a node from outside its machine (endpoint packets, proxy handshakes,
// a 0.3-style peer) and prints what happened as JSON: one line for one-shot
// commands, one line per event for the long-running ones (serve, legacy-listen).
import 'reflect-metadata';
import * as http from 'node:http';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { ProtocolLink, type WireMessage } from '../../src/network/link/protocol';
import { Authenticator, nonce, type AuthRole } from '../../src/security/auth';
import { NetworkKey } from '../../src/security/key';
import { channelBinding, PskTls } from '../../src/security/tls';
import { BOOSTER_EXTENSION, decodeMessage, encodeMessage, encodePacket, Encoding, fromMillis, MessageId, PacketDecoder } from '../../src/wire';
import { internal } from '../../src/wire/generated/booster';
import { RawLink } from './raw-link';

/** A message as printed: its kind and the fields a test asserts on. */
export interface Seen {
  readonly kind: WireMessage['kind'];
  readonly code?: number;
  readonly message?: string;
  readonly hops?: number;
  readonly target?: string;
  readonly operation?: string;
  readonly bport?: number;
  readonly pport?: number;
}

export interface ProbeResult {
  /** This side's port: the node logs the connection as host:port. */
  readonly localPort: number;
  readonly hello: boolean;
  /** Everything the node sent after its Hello, in order. */
  readonly received: Seen[];
  readonly closed: boolean;
  readonly closeReason?: string;
  /** From the moment the connection was established. */
  readonly closedAfterMs?: number;
}

export interface AuthResult extends ProbeResult {
  /** Did the node prove it holds the key we used? */
  readonly serverProofOk: boolean;
  readonly result?: Seen;
  readonly clientNonce: string;
  readonly serverNonce: string;
  readonly proof: string;
}

export interface ProxyAttempt {
  readonly proto: 'socks5' | 'socks5-tls' | 'socks4a' | 'http-connect' | 'http-get';
  readonly target: string;
  /** SOCKS5: the method the proxy chose (0xff: none acceptable; 0x86: booster TLS). */
  readonly method?: number;
  /** socks5-tls: "ok", or why the TLS handshake failed; then the method chosen inside. */
  readonly tls?: string;
  readonly innerMethod?: number;
  /** SOCKS5 REP / SOCKS4 CD / HTTP status of the proxy's answer to the request. */
  readonly reply?: number;
  /** Status and body of the origin's answer, when the tunnel was opened. */
  readonly status?: number;
  readonly body?: string;
  readonly error?: string;
}

function summarize(m: WireMessage): Seen {
  switch (m.kind) {
    case 'result':
      return { kind: m.kind, code: m.code, message: m.message };
    case 'heartbeat':
      return { kind: m.kind, hops: m.beat.hops };
    case 'proxy-update':
      return { kind: m.kind, target: m.target, operation: m.operation };
    case 'hello':
      return { kind: m.kind, bport: m.bport, pport: m.pport };
    default:
      return { kind: m.kind };
  }
}

// ---- packets, with or without the booster.v1 extension ----

/** The bytes a ProtocolLink writes for `send` (our own encoder, so the packets are exactly what booster sends). */
function capture(send: (link: ProtocolLink) => void): Buffer {
  const chunks: Buffer[] = [];
  const sink = {
    on: () => sink,
    off: () => sink,
    pause: () => sink,
    end: () => undefined,
    destroy: () => undefined,
    destroyed: false,
    writableLength: 0,
    write: (b: Buffer) => chunks.push(b) > 0,
  };
  send(new ProtocolLink(sink as unknown as Duplex, 'capture'));
  return Buffer.concat(chunks);
}

/** The same packet as a 0.3 node would send it: no `extensions` in the header. */
function withoutExtension(bytes: Buffer): Buffer {
  const [packet] = new PacketDecoder().push(bytes);
  const m = decodeMessage(packet);
  return encodeMessage(m.header.id, m.payload, { now: m.header.sentAt });
}

/** AuthInit padded with an unknown (skipped) protobuf field to about `bytes` bytes in all. */
function paddedAuthInit(bytes: number, extended: boolean): Buffer {
  const body = Buffer.from(internal.PayloadAuthInit.encode({ nonce: nonce(), role: 'cli' }).finish());
  const header = Buffer.from(
    internal.Header.encode({
      id: MessageId.AUTH_INIT,
      modules: ['PA'],
      sentAt: fromMillis(Date.now()),
      protocolVersion: '0.3',
      extensions: extended ? [BOOSTER_EXTENSION] : [],
    }).finish(),
  );
  const padding = Math.max(1, bytes - body.length - header.length - 40);
  const varint = (n: number) => {
    const out: number[] = [];
    for (; n > 0x7f; n >>>= 7) out.push((n & 0x7f) | 0x80);
    out.push(n);
    return Buffer.from(out);
  };
  // Field 2047, wire type 2 (length-delimited): tag (2047 << 3) | 2.
  const pa = Buffer.concat([body, varint((2047 << 3) | 2), varint(padding), Buffer.alloc(padding, 0x61)]);
  return encodePacket({
    encoding: Encoding.Protobuf,
    compression: 1,
    encryption: 1,
    modules: [
      { id: 'HE', payload: header },
      { id: 'PA', payload: pa },
    ],
  });
}

/**
 * A request by name, as bytes: connect:TARGET, disconnect:ID, ctrl-stop,
 * ctrl-restart, policy-use, rules-add, monitor-node, monitor-net, notify,
 * heartbeat, start-tls, padded-auth-init:BYTES.
 */
export function packet(spec: string, legacy: boolean): Buffer {
  const [name, ...rest] = spec.split(':');
  const arg = rest.join(':');
  if (name === 'padded-auth-init') return paddedAuthInit(Number(arg), !legacy);
  const bytes = capture((link) => {
    switch (name) {
      case 'connect':
        return link.sendConnect(arg);
      case 'disconnect':
        return link.sendDisconnect(arg);
      case 'ctrl-stop':
        return link.sendCtrl('stop');
      case 'ctrl-restart':
        return link.sendCtrl('restart');
      case 'policy-use':
        return link.sendControl({ op: 'use', policy: arg || 'round-robin' });
      case 'rules-add':
        return link.sendControl({ op: 'rules-add', rule: { type: 'block', source: arg || 'direct' } });
      case 'monitor-node':
        return link.sendMonitor('node');
      case 'monitor-net':
        return link.sendMonitor('net');
      case 'notify':
        return link.sendNotify();
      case 'heartbeat':
        return link.sendHeartbeat({ hops: Number(arg || 1), ttl: Date.now() + 100 });
      case 'start-tls':
        return link.sendStartTls();
      default:
        throw new Error(`unknown request ${name}`);
    }
  });
  return legacy ? withoutExtension(bytes) : bytes;
}

// ---- endpoint connections ----

interface Conn {
  readonly raw: RawLink;
  readonly localPort: number;
  readonly socket: net.Socket;
  readonly seen: Seen[];
  readonly openedAt: number;
  closedAt?: number;
  closeReason?: string;
}

function open(host: string, port: number, localAddress?: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, localAddress });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      const raw = RawLink.over(socket, `stranger → ${host}:${port}`);
      const conn: Conn = { raw, socket, localPort: socket.localPort ?? 0, seen: [], openedAt: Date.now() };
      raw.link.onMessage((m) => conn.seen.push(summarize(m)));
      void raw.closed.then((reason) => {
        conn.closedAt = Date.now();
        conn.closeReason = reason;
      });
      resolve(conn);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the node closes the connection, or `ms` passed. */
async function closedWithin(c: Conn, ms: number): Promise<void> {
  await Promise.race([c.raw.closed, sleep(ms)]);
}

function report(c: Conn): ProbeResult {
  const hello = c.seen.length > 0 && c.seen[0].kind === 'hello';
  return {
    localPort: c.localPort,
    hello,
    received: hello ? c.seen.slice(1) : c.seen,
    closed: c.closedAt !== undefined,
    closeReason: c.closeReason,
    closedAfterMs: c.closedAt === undefined ? undefined : c.closedAt - c.openedAt,
  };
}

async function waitHello(c: Conn, ms = 3000): Promise<boolean> {
  try {
    await c.raw.next('hello', ms);
    return true;
  } catch {
    return false;
  }
}

/** Opens a connection, reads the Hello, sends the requests, and reports what came back until the node closed it (or waitMs). */
async function probe(o: { host: string; port: number; send: string[]; legacy?: boolean; waitMs?: number; localAddress?: string }): Promise<ProbeResult> {
  const c = await open(o.host, o.port, o.localAddress);
  await waitHello(c);
  for (const spec of o.send) if (!c.socket.destroyed) c.socket.write(packet(spec, Boolean(o.legacy)));
  await closedWithin(c, o.waitMs ?? 3000);
  const r = report(c);
  c.raw.close();
  return r;
}

/** Several probes, one after the other (one process start for many cases). */
async function probes(o: { list: Parameters<typeof probe>[0][] }): Promise<ProbeResult[]> {
  const out: ProbeResult[] = [];
  for (const p of o.list) out.push(await probe(p));
  return out;
}

/** The booster.v1 challenge-response over a plain link, with `key` (hex); reports the recorded exchange. */
async function auth(o: { host: string; port: number; key: string; role?: AuthRole; waitMs?: number }): Promise<AuthResult> {
  const role = o.role ?? 'cli';
  const authenticator = new Authenticator(NetworkKey.parse(o.key, 'the agent'));
  const c = await open(o.host, o.port);
  const hello = await c.raw.next('hello');
  const clientNonce = nonce();
  c.raw.link.sendAuthInit(clientNonce, role);
  const ch = await c.raw.next('auth-challenge');
  const t = { role, clientNonce, serverNonce: ch.nonce, bport: hello.bport, pport: hello.pport, binding: channelBinding(c.raw.link.transportStream) };
  const serverProofOk = authenticator.verify('server', t, ch.proof);
  const proof = authenticator.proof('client', t);
  c.raw.link.sendAuthProof(proof);
  let result: Seen | undefined;
  try {
    result = summarize(await c.raw.next('result'));
  } catch {
    // closed without a Result
  }
  // An accepted exchange keeps the link open: watch it for a moment (a refused one closes at once).
  await closedWithin(c, o.waitMs ?? 500);
  const r = report(c);
  c.raw.close();
  return { ...r, serverProofOk, result, clientNonce: clientNonce.toString('hex'), serverNonce: ch.nonce.toString('hex'), proof: proof.toString('hex') };
}

/** Replays a recorded exchange (client nonce and proof) on a new connection, without the key. */
async function replay(o: {
  host: string;
  port: number;
  clientNonce: string;
  proof: string;
  role?: string;
}): Promise<ProbeResult & { serverNonce: string; result?: Seen }> {
  const c = await open(o.host, o.port);
  await c.raw.next('hello');
  c.raw.link.sendAuthInit(Buffer.from(o.clientNonce, 'hex'), o.role ?? 'cli');
  const ch = await c.raw.next('auth-challenge');
  c.raw.link.sendAuthProof(Buffer.from(o.proof, 'hex'));
  let result: Seen | undefined;
  try {
    result = summarize(await c.raw.next('result'));
  } catch {
    // closed without a Result
  }
  await closedWithin(c, 2000);
  const r = report(c);
  c.raw.close();
  return { ...r, serverNonce: ch.nonce.toString('hex'), result };
}

/**
 * Opens `count` idle connections one after the other (each waits for the
 * Hello or the close), prints {"ready":...} once all are open, keeps them
 * `holdMs`, and reports each one.
 */
async function hold(o: { host: string; port: number; count: number; holdMs: number; localAddress?: string }): Promise<ProbeResult[]> {
  const conns: Conn[] = [];
  for (let i = 0; i < o.count; i++) {
    const c = await open(o.host, o.port, o.localAddress);
    conns.push(c);
    await Promise.race([c.raw.next('hello', 1000).catch(() => undefined), c.raw.closed]);
  }
  print({ ready: conns.map((c) => c.seen.some((s) => s.kind === 'hello')) });
  await sleep(o.holdMs);
  const out = conns.map(report);
  conns.forEach((c) => c.raw.close());
  return out;
}

// ---- proxy clients, by hand (exact bytes, exact answers) ----

/** Reads a socket on demand: exactly n bytes, up to a delimiter, or to the end. */
class Reader {
  private buf = Buffer.alloc(0);
  private ended = false;
  private wake?: () => void;

  constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    const end = () => {
      this.ended = true;
      this.wake?.();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  private async until(enough: () => boolean): Promise<void> {
    while (!enough() && !this.ended) await new Promise<void>((r) => (this.wake = r));
  }

  async exactly(n: number): Promise<Buffer> {
    await this.until(() => this.buf.length >= n);
    if (this.buf.length < n) throw new Error(`closed after ${this.buf.length} of ${n} bytes (${this.buf.toString('hex')})`);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  async line(delim: string): Promise<string> {
    await this.until(() => this.buf.includes(delim));
    const at = this.buf.indexOf(delim);
    if (at < 0) throw new Error(`closed before "${JSON.stringify(delim)}" (got ${JSON.stringify(this.buf.toString('latin1').slice(0, 200))})`);
    const out = this.buf.subarray(0, at + delim.length).toString('latin1');
    this.buf = this.buf.subarray(at + delim.length);
    return out;
  }

  async rest(): Promise<Buffer> {
    await this.until(() => false);
    return this.buf;
  }
}

function parseHttp(text: string): { status: number; body: string } {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  const at = text.indexOf('\r\n\r\n');
  return { status: m ? Number(m[1]) : 0, body: at >= 0 ? text.slice(at + 4) : '' };
}

function hostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * One request through the proxy at proxyHost:proxyPort to host:port, by hand.
 * `socks5-tls` offers only booster's method 0x86 and, if chosen, runs TLS keyed
 * by `key` (hex) before a plain SOCKS5 request inside: how peers chain.
 */
async function viaProxy(o: {
  proto: ProxyAttempt['proto'];
  proxyHost: string;
  proxyPort: number;
  host: string;
  port: number;
  path?: string;
  key?: string;
  timeoutMs?: number;
}): Promise<ProxyAttempt> {
  const target = hostPort(o.host, o.port);
  const path = o.path ?? '/hello';
  const socket = net.connect({ host: o.proxyHost, port: o.proxyPort });
  let stream: net.Socket = socket;
  const timer = setTimeout(() => stream.destroy(new Error('timed out')), o.timeoutMs ?? 5000);
  const out: { -readonly [K in keyof ProxyAttempt]?: ProxyAttempt[K] } = { proto: o.proto, target };
  const get = `GET ${path} HTTP/1.0\r\nHost: ${target}\r\n\r\n`;
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    if (o.proto === 'socks5-tls') {
      socket.write(Buffer.from([5, 1, 0x86]));
      const method = await new Promise<Buffer>((resolve, reject) => {
        socket.once('data', (d: Buffer) => {
          socket.pause();
          resolve(d);
        });
        socket.once('close', () => reject(new Error('closed during method negotiation')));
      });
      out.method = method[1];
      if (method[1] !== 0x86) return out as ProxyAttempt;
      try {
        stream = await new PskTls(NetworkKey.parse(o.key ?? '', 'the agent')).client(socket, 3000);
        out.tls = 'ok';
      } catch (err) {
        out.tls = (err as Error).message;
        return out as ProxyAttempt;
      }
    }
    const reader = new Reader(stream);
    const finish = async () => {
      const res = parseHttp((await reader.rest()).toString('latin1'));
      out.status = res.status;
      out.body = res.body;
    };
    if (o.proto === 'socks5' || o.proto === 'socks5-tls') {
      stream.write(Buffer.from([5, 1, 0]));
      const method = await reader.exactly(2);
      if (o.proto === 'socks5') out.method = method[1];
      else out.innerMethod = method[1];
      if (method[1] === 0) {
        const family = net.isIP(o.host);
        const port = Buffer.alloc(2);
        port.writeUInt16BE(o.port);
        const addr =
          family === 4
            ? Buffer.from([1, ...o.host.split('.').map(Number)])
            : family === 6
              ? Buffer.concat([Buffer.from([4]), ipv6Bytes(o.host)])
              : Buffer.concat([Buffer.from([3, Buffer.byteLength(o.host)]), Buffer.from(o.host)]);
        stream.write(Buffer.concat([Buffer.from([5, 1, 0]), addr, port]));
        const head = await reader.exactly(4);
        out.reply = head[1];
        const rest = head[3] === 1 ? 4 : head[3] === 4 ? 16 : (await reader.exactly(1))[0];
        await reader.exactly(rest + 2);
        if (head[1] === 0) {
          stream.write(get);
          await finish();
        }
      }
    } else if (o.proto === 'socks4a') {
      const port = Buffer.alloc(2);
      port.writeUInt16BE(o.port);
      stream.write(Buffer.concat([Buffer.from([4, 1]), port, Buffer.from([0, 0, 0, 1]), Buffer.from('stranger\0'), Buffer.from(`${o.host}\0`)]));
      const reply = await reader.exactly(8);
      out.reply = reply[1];
      if (reply[1] === 0x5a) {
        stream.write(get);
        await finish();
      }
    } else if (o.proto === 'http-connect') {
      stream.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
      const head = await reader.line('\r\n\r\n');
      out.reply = parseHttp(head).status;
      if (out.reply === 200) {
        stream.write(get);
        await finish();
      }
    } else {
      stream.write(`GET http://${target}${path} HTTP/1.1\r\nHost: ${target}\r\nConnection: close\r\n\r\n`);
      const res = parseHttp((await reader.rest()).toString('latin1'));
      out.reply = res.status;
      if (res.status === 200) {
        out.status = res.status;
        out.body = res.body;
      }
    }
  } catch (err) {
    out.error = (err as Error).message;
  } finally {
    clearTimeout(timer);
    stream.destroy();
    socket.destroy();
  }
  return out as ProxyAttempt;
}

function ipv6Bytes(host: string): Buffer {
  const [head, tail = ''] = host.split('::');
  const parts = (s: string) => (s ? s.split(':') : []);
  let h = parts(head);
  let t = parts(tail);
  const v4 = (list: string[]) => {
    const last = list[list.length - 1];
    if (!last || !net.isIPv4(last)) return list;
    const b = last.split('.').map(Number);
    return [...list.slice(0, -1), ((b[0] << 8) | b[1]).toString(16), ((b[2] << 8) | b[3]).toString(16)];
  };
  if (host.includes('::')) t = v4(t);
  else h = v4(h);
  const groups = host.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

async function proxy(o: { list: Parameters<typeof viaProxy>[0][] }): Promise<ProxyAttempt[]> {
  return Promise.all(o.list.map(viaProxy));
}

// ---- an origin inside the namespace ----

/** An HTTP origin answering "hello from HOST"; prints {"listening":port} and one {"request":...} line per request. */
function serve(o: { host?: string; port?: number }): Promise<never> {
  const server = http.createServer((req, res) => {
    print({ request: req.url, from: req.socket.remoteAddress });
    res.end(`hello from ${req.socket.localAddress}\n`);
  });
  server.listen(o.port ?? 0, o.host ?? '0.0.0.0', () => print({ listening: (server.address() as AddressInfo).port }));
  return new Promise(() => undefined);
}

// ---- a 0.3-style peer (no booster.v1, no key) ----

/**
 * Plays a 0.3 node that wired the node at host:bport: reads its Hello, sends
 * Notify and heartbeats WITHOUT the booster.v1 extension, then chains a request
 * through the node's proxy (host:pport) with plain SOCKS5 to an origin of its
 * own (this namespace), and reports ProxyUpdates and heartbeat replies.
 */
async function legacyPeer(o: { host: string; bport: number; pport: number; beats?: number; watchMs?: number }) {
  let originRequests = 0;
  const origin = http.createServer((_req, res) => {
    originRequests++;
    res.end('hello from the 0.3 peer\n');
  });
  await new Promise<void>((r) => origin.listen(0, '0.0.0.0', r));
  const originPort = (origin.address() as AddressInfo).port;

  const c = await open(o.host, o.bport);
  const hello = await waitHello(c);
  const replies: number[] = [];
  c.raw.link.onMessage((m) => {
    if (m.kind !== 'heartbeat') return;
    replies.push(m.beat.hops);
    setTimeout(() => {
      if (!c.socket.destroyed) c.socket.write(packet(`heartbeat:${m.beat.hops + 1}`, true));
    }, 50);
  });
  c.socket.write(packet('notify', true));
  c.socket.write(packet('heartbeat:1', true));
  await closedWithin(c, 400);
  const self = c.socket.localAddress ?? '';
  const socks = await viaProxy({ proto: 'socks5', proxyHost: o.host, proxyPort: o.pport, host: self, port: originPort });
  const started = Date.now();
  while (Date.now() - started < (o.watchMs ?? 2000) && c.closedAt === undefined && replies.length < (o.beats ?? 2)) await sleep(50);
  // The tunnel's 'removed' ProxyUpdate follows the end of the request above.
  await closedWithin(c, 500);
  const r = report(c);
  c.raw.close();
  origin.close();
  return {
    ...r,
    hello,
    heartbeatReplies: replies,
    proxyUpdates: r.received.filter((m) => m.kind === 'proxy-update'),
    results: r.received.filter((m) => m.kind === 'result'),
    socks,
    origin: `${self}:${originPort}`,
    originRequests,
  };
}

/**
 * A 0.3-style node's booster port on 0.0.0.0:port: greets with a Hello
 * without booster.v1, answers heartbeats, and prints one line per event.
 */
function legacyListen(o: { port: number; pport?: number }): Promise<never> {
  const server = net.createServer((socket) => {
    const link = new ProtocolLink(socket, 'legacy listener');
    print({ connection: socket.remoteAddress });
    link.onMessage((m) => {
      print({ message: m.kind, hops: m.kind === 'heartbeat' ? m.beat.hops : undefined });
      if (m.kind === 'heartbeat') setTimeout(() => socket.destroyed || socket.write(packet(`heartbeat:${m.beat.hops + 1}`, true)), 50);
    });
    link.onClose((reason) => print({ closed: reason }));
    socket.write(withoutExtension(capture((l) => l.sendHello(o.port, o.pport ?? 1))));
  });
  server.listen(o.port, '0.0.0.0', () => print({ listening: o.port }));
  return new Promise(() => undefined);
}

// ---- main ----

function print(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

const COMMANDS: Record<string, (o: never) => Promise<unknown>> = {
  probe,
  probes,
  auth,
  replay,
  hold,
  proxy,
  serve,
  'legacy-peer': legacyPeer,
  'legacy-listen': legacyListen,
};

async function main(): Promise<void> {
  const [command, json = '{}'] = process.argv.slice(2);
  const fn = COMMANDS[command];
  if (!fn) throw new Error(`unknown command ${command} (${Object.keys(COMMANDS).join(', ')})`);
  print({ result: await fn(JSON.parse(json) as never) });
  process.exit(0);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`stranger-agent: ${err.stack ?? err.message}\n`);
    process.exit(2);
  });
}
