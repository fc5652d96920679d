import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../api/logger';
import type { Limits } from '../api/settings';
import { formatTarget } from '../api/target';
import { LimitLog } from '../kernel/limit-log';
import { RefusalLog } from '../kernel/refusal-log';
import { describeError, replyFor, Socks5Reply } from '../kernel/connector-errors';
import type { Connector } from '../kernel/connector';
import { TlsError } from '../security/tls';
import { admittedWithoutCredentials, LOOPBACK_ONLY, type AddressClass, type ClientClass, type ProxyAccess } from './access';
import { AuthThrottle } from './auth-throttle';
import { ProxyCredentials } from './credentials';
import { proxyConnectionLimit } from './fd-limit';
import { httpHandshake } from './http';
import { printable } from './printable';
import { HandshakeError, HandshakeReader } from './reader';
import { relay, type Relay } from './relay';
import type { ClientAccess, HandshakeContext, InboundRequest } from './request';
import { socks4Handshake } from './socks4';
import { isTlsUpgrade, socks5Handshake, type UPGRADE_TO_TLS } from './socks5';
import { UpstreamReader } from './upstream-reader';

export type ProxyLimits = Pick<
  Limits,
  'maxProxyConnections' | 'fdReserve' | 'authFailuresBeforeLockout' | 'authFailureDelayMs' | 'authLockoutMs' | 'limitLogIntervalMs'
>;

export interface ProxyServerOptions {
  readonly host: string;
  /** 0 picks a free port; `listen()` reports the one bound. */
  readonly port: number;
  /** Time a client has from connecting to finishing its request (twice over for a booster peer: outside and inside TLS). */
  readonly handshakeTimeoutMs: number;
  /**
   * Credentials (SOCKS5 RFC 1929, HTTP Proxy-Authorization: Basic). When set,
   * applications on this machine and strangers must present them; SOCKS4,
   * which cannot, is refused to them.
   */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Who may use the proxy; applications on this machine only, unless given. */
  readonly access?: ProxyAccess;
  /** Connection limit and login throttling (settings.limits). */
  readonly limits: ProxyLimits;
  /** A client was turned away (refused, malformed, unsupported or unauthenticated request). */
  readonly onRejected?: (e: { client: string; reason: string }) => void;
  /** A limit refused something (every hit, also those the log summarises). */
  readonly onLimitHit?: (limit: string, message: string) => void;
}

export interface ProxyAddress {
  readonly host: string;
  readonly port: number;
}

/** How long the end of a tunnel through a peer waits for the peer link to say the peer died (see RelayOptions). */
const PEER_END_GRACE_MS = 250;

/** How long cut connections get to report their close on shutdown. */
const CUT_WAIT_MS = 1000;

/** How long a rejected client may take to read its reply before it is cut. */
const LINGER_MS = 1000;
/** Connections only applications on this machine may take (fewer under a small limit): a LAN flood cannot lock them out. */
const LOCAL_RESERVE = 16;

interface Connection {
  /** The accepted TCP socket. */
  readonly client: net.Socket;
  readonly addressClass: AddressClass;
  /**
   * Aborted when the client socket closes before its tunnel is relaying (in
   * the handshake, TLS or the dial: the only phases that take the signal).
   * Not once relaying: nothing listens any more, and an abort costs an
   * AbortError and an Event per connection.
   */
  readonly gone: AbortController;
  /** The handshake under way on the client socket itself (not inside TLS): its close fails the handshake. */
  handshaking?: HandshakeReader;
  relay?: Relay;
}

const CLIENT_CLOSED = 'client closed the connection in the middle of the handshake';

/** Keeps a reset from being an unhandled 'error'; errors are reported where they matter (handshake, relay). */
const ignoreError = (): void => undefined;

/** A client's request, and the stream it arrived on (the TLS stream for a booster peer). */
interface Negotiated {
  readonly request: InboundRequest;
  readonly stream: Duplex;
  readonly reader: HandshakeReader;
  /**
   * The client is not on this machine (whatever it proved): it may not reach
   * this machine's own addresses. A booster peer on this machine is not.
   */
  readonly restricted: boolean;
}

/**
 * The node's proxy port: SOCKS5, SOCKS4/4a and HTTP proxy requests on one
 * listener, told apart by their first byte and all dispatched the same way
 * (Connector.open, then a relay). Who may use it is decided per connection
 * (see ProxyAccess); a booster peer authenticates with SOCKS5 method 0x86 and
 * TLS. Bad input closes that client with a logged reason and nothing else.
 */
export class ProxyServer {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  /** Tunnels still relaying; one outlives its client connection while the upstream has not closed yet. */
  private readonly relays = new Set<Relay>();
  private readonly access: ProxyAccess;
  private readonly limitLog: LimitLog;
  private readonly rejections: RefusalLog;
  private readonly credentials?: ProxyCredentials;
  private readonly maxConnections: number;
  private readonly localReserve: number;
  private refusedAtLimit = 0;
  private bound?: ProxyAddress;
  private closing?: Promise<void>;
  private onIdle?: () => void;

  constructor(
    private readonly connector: Connector,
    private readonly log: Logger,
    private readonly options: ProxyServerOptions,
  ) {
    const { limits } = options;
    this.access = options.access ?? LOOPBACK_ONLY;
    this.maxConnections = proxyConnectionLimit(limits);
    this.localReserve = Math.min(LOCAL_RESERVE, Math.floor(this.maxConnections / 4));
    this.limitLog = new LimitLog(log, limits.limitLogIntervalMs, undefined, options.onLimitHit);
    this.rejections = RefusalLog.info((n, s) => `proxy turned away more than ${n} clients within ${s} s`, log, this.limitLog, limits.limitLogIntervalMs);
    if (options.auth) this.credentials = new ProxyCredentials(options.auth, new AuthThrottle(limits), this.limitLog);
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: false }, (socket) => this.accept(socket));
  }

  /** Client connections currently open (in handshake, dialing or relaying). */
  get openConnections(): number {
    return this.connections.size;
  }

  /** Client connections allowed open at once (limits.maxProxyConnections, or derived from ulimit -n). */
  get connectionLimit(): number {
    return this.maxConnections;
  }

  /** The bound address, once listening. */
  get address(): ProxyAddress | undefined {
    return this.bound;
  }

  listen(): Promise<ProxyAddress> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        this.server.on('error', (err) => this.log.error(`proxy listener on ${this.options.host}:${this.options.port} failed: ${describeError(err)}`));
        const a = this.server.address() as net.AddressInfo;
        this.bound = { host: a.address, port: a.port };
        resolve(this.bound);
      });
    });
  }

  /** Stops accepting; open connections may finish within drainMs, then are cut. Idempotent. */
  close(drainMs: number): Promise<void> {
    this.closing ??= this.shutdown(drainMs);
    return this.closing;
  }

  private async shutdown(drainMs: number): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (drainMs > 0) await this.idle(drainMs);
    if (!this.isIdle) {
      this.log.info(`cutting ${this.connections.size} connection(s) and ${this.relays.size} tunnel(s) still open after ${drainMs} ms of draining`);
      const reason = `proxy closed while the tunnel was open (drained ${drainMs} ms)`;
      for (const c of this.connections) {
        if (c.relay) c.relay.destroy(reason);
        else c.client.destroy();
      }
      for (const r of this.relays) r.destroy(reason);
      await this.idle(CUT_WAIT_MS);
    }
    await stopped;
  }

  private get isIdle(): boolean {
    return this.connections.size === 0 && this.relays.size === 0;
  }

  /** Resolves when no client connection and no tunnel is left (or after timeoutMs). */
  private idle(timeoutMs?: number): Promise<void> {
    if (this.isIdle) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => this.onIdle?.(), timeoutMs);
      this.onIdle = () => {
        clearTimeout(timer);
        this.onIdle = undefined;
        resolve();
      };
    });
  }

  private accept(client: net.Socket): void {
    client.on('error', ignoreError);
    const addressClass = this.access.classify(client.remoteAddress ?? '');
    if (this.atLimit(addressClass)) {
      client.destroy();
      return;
    }
    const conn: Connection = { client, addressClass, gone: new AbortController(), handshaking: undefined, relay: undefined };
    this.connections.add(conn);
    // The one 'close' listener a connection gets from the server ('close' is emitted once).
    client.on('close', () => {
      conn.handshaking?.fail(new HandshakeError(CLIENT_CLOSED));
      if (!conn.relay) conn.gone.abort();
      this.connections.delete(conn);
      if (this.isIdle) this.onIdle?.();
    });
    const peer = peerOf(client);
    this.serve(conn, peer).catch((err) => {
      this.log.error(`proxy failed serving ${peer}; closing it: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      client.destroy();
    });
  }

  /** Whether a new connection must be refused: the limit is reached (short of a few kept for applications on this machine). */
  private atLimit(addressClass: AddressClass): boolean {
    const reserved = addressClass === 'local' ? 0 : this.localReserve;
    if (this.connections.size < this.maxConnections - reserved) return false;
    this.refusedAtLimit++;
    const kept = reserved > 0 ? `; the last ${reserved} are kept for applications on this machine` : '';
    this.limitLog.hit(
      'proxy-connections',
      `proxy at its connection limit ${this.maxConnections} (limits.maxProxyConnections / ulimit -n${kept}); refused ${this.refusedAtLimit}`,
    );
    return true;
  }

  private async serve(conn: Connection, peer: string): Promise<void> {
    const negotiated = await this.negotiate(conn, peer);
    if (!negotiated) return;
    const upstreamReader = new UpstreamReader();
    let upstream: Duplex | undefined;
    try {
      await this.dialAndRelay(conn, peer, negotiated, upstreamReader, (u) => (upstream = u));
    } finally {
      upstream?.destroy();
      upstreamReader.release();
    }
  }

  /** Who the client is and what it asks for; undefined when it was turned away. */
  private async negotiate(conn: Connection, peer: string): Promise<Negotiated | undefined> {
    const { client, addressClass } = conn;
    const reader = new HandshakeReader(client);
    conn.handshaking = reader;
    let outcome;
    try {
      outcome = await this.handshake(reader, client, peer, this.clientAccess(addressClass, conn, !!this.access.secureServer));
    } finally {
      conn.handshaking = undefined;
    }
    if (!outcome) return undefined;
    const restricted = addressClass !== 'local';
    if (!isTlsUpgrade(outcome)) return { request: outcome, stream: client, reader, restricted };

    const secured = await this.secure(reader, conn, peer);
    if (!secured) return undefined;
    const inner = new HandshakeReader(secured);
    const onClose = () => inner.fail(new HandshakeError(CLIENT_CLOSED));
    secured.once('close', onClose);
    let request;
    try {
      request = await this.handshake(inner, secured, peer, this.clientAccess('peer', conn, false));
    } finally {
      secured.off('close', onClose);
    }
    if (!request || isTlsUpgrade(request)) return undefined;
    return { request, stream: secured, reader: inner, restricted };
  }

  private clientAccess(clientClass: ClientClass, conn: Connection, tlsUpgrade: boolean): ClientAccess {
    const credentials = this.credentials?.forClient(conn.client.remoteAddress ?? '', conn.gone.signal);
    return { admitted: admittedWithoutCredentials(clientClass, this.access.openProxy, !!credentials), credentials, tlsUpgrade };
  }

  /**
   * TLS with the network key over a client that chose method 0x86. The client
   * waits for the [05 86] reply before its ClientHello, so nothing may have
   * been read past the greeting: bytes read into JS would be lost to TLS.
   */
  private async secure(reader: HandshakeReader, conn: Connection, peer: string): Promise<Duplex | undefined> {
    const { client } = conn;
    const early = reader.detach().length + client.readableLength;
    if (early > 0) {
      this.rejected(peer, `SOCKS5 client sent ${early} byte(s) before the reply to method 0x86 (booster TLS); a booster peer waits for it`);
      client.destroy();
      return undefined;
    }
    // The TLS socket takes this over: a client's EOF in the middle of the TLS handshake then closes it at once
    // instead of leaving it half open until the TLS timeout. Half-close works again inside TLS.
    client.allowHalfOpen = false;
    try {
      const secured = await this.access.secureServer!(client, conn.gone.signal);
      secured.on('error', () => undefined);
      secured.allowHalfOpen = true;
      return secured;
    } catch (err) {
      const why = err instanceof TlsError ? err.message : describeError(err);
      this.rejected(peer, `booster TLS (SOCKS5 method 0x86) failed: ${printable(why, 300)}`);
      client.destroy();
      return undefined;
    }
  }

  private async dialAndRelay(
    conn: Connection,
    peer: string,
    negotiated: Negotiated,
    upstreamReader: UpstreamReader,
    onUpstream: (upstream: Duplex) => void,
  ): Promise<void> {
    const { request, stream, reader, restricted } = negotiated;
    let opened;
    try {
      opened = await this.connector.open(
        { target: request.target, protocol: request.protocol, client: peer, restricted, socketOptions: upstreamReader.socketOptions },
        conn.gone.signal,
      );
    } catch (err) {
      this.log.info(`${request.protocol} ${peer} → ${printable(formatTarget(request.target), 300)} failed: ${printable(describeError(err), 500)}`);
      if (!stream.destroyed) {
        reader.detach();
        request.fail(stream, replyFor(err) || Socks5Reply.GeneralFailure, describeError(err));
        this.linger(stream);
      }
      return;
    }
    const { upstream, tunnel } = opened;
    onUpstream(upstream);
    if (stream.destroyed) {
      upstream.destroy();
      tunnel.close('client went away while the upstream was being dialed');
      return;
    }
    const head = request.succeed(stream, opened.bound);
    const pipelined = reader.detach();
    const first = head && pipelined.length > 0 ? Buffer.concat([head, pipelined]) : (head ?? pipelined);
    // The logger escapes control characters itself; printable() here would only cut a long HTTP authority.
    const target = formatTarget(request.target);
    this.log.debug(`${request.protocol} ${peer} → ${target.length > 300 ? printable(target, 300) : target} via ${opened.source.label}`);
    const clientTransport = stream === conn.client ? undefined : conn.client;
    const upstreamEndGraceMs = opened.source.kind === 'peer' ? PEER_END_GRACE_MS : 0;
    const tunnelRelay = relay(stream, upstream, tunnel, { first, reader: upstreamReader, clientTransport, upstreamEndGraceMs });
    conn.relay = tunnelRelay;
    this.relays.add(tunnelRelay);
    tunnel.onAbort((reason) => tunnelRelay.destroy(reason));
    try {
      await tunnelRelay.done;
    } finally {
      this.relays.delete(tunnelRelay);
      if (this.isIdle) this.onIdle?.();
    }
  }

  /** Runs the client's protocol handshake (the caller fails `reader` if the stream closes); undefined when the client was turned away. */
  private async handshake(
    reader: HandshakeReader,
    client: Duplex,
    peer: string,
    access: ClientAccess,
  ): Promise<InboundRequest | typeof UPGRADE_TO_TLS | undefined> {
    const timer = setTimeout(
      () => reader.fail(new HandshakeError(`handshake not completed within ${this.options.handshakeTimeoutMs} ms`)),
      this.options.handshakeTimeoutMs,
    );
    const ctx: HandshakeContext = { access, peer, log: this.log };
    try {
      const first = await reader.peek();
      if (first === 0x05) return await socks5Handshake(reader, client, ctx);
      if (first === 0x04) return await socks4Handshake(reader, client, ctx);
      if ((first >= 0x41 && first <= 0x5a) || (first >= 0x61 && first <= 0x7a)) return await httpHandshake(reader, client, ctx);
      throw new HandshakeError(`unknown protocol (first byte 0x${first.toString(16).padStart(2, '0')}; expected SOCKS5, SOCKS4 or HTTP)`);
    } catch (err) {
      this.rejected(peer, err instanceof HandshakeError ? err.message : `handshake failed: ${printable(describeError(err), 300)}`);
      reader.detach();
      this.linger(client);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Logs (rate-limited) and reports a client that was turned away; `reason` is already printable. */
  private rejected(peer: string, reason: string): void {
    this.rejections.refused(`rejected ${peer}: ${reason}`);
    try {
      this.options.onRejected?.({ client: peer, reason });
    } catch (listenerErr) {
      this.log.warn(`onRejected listener failed: ${describeError(listenerErr)}`);
    }
  }

  /** Ends a turned-away client: its reply is flushed, further input discarded, the socket cut after LINGER_MS. */
  private linger(client: Duplex): void {
    client.end();
    client.resume();
    if (client.destroyed) return;
    const timer = setTimeout(() => client.destroy(), LINGER_MS);
    client.once('close', () => clearTimeout(timer));
  }
}

/** "ip:port" of a client ("[v6]:port" for IPv6), as tunnels and log lines show it. */
function peerOf(socket: net.Socket): string {
  if (socket.remoteAddress === undefined) return 'unknown client';
  return socket.remoteFamily === 'IPv6' ? `[${socket.remoteAddress}]:${socket.remotePort}` : `${socket.remoteAddress}:${socket.remotePort}`;
}
