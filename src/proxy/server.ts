import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../api/logger';
import { describeError, replyFor, Socks5Reply } from '../dispatch/errors';
import type { Connector } from '../dispatch/types';
import { httpHandshake } from './http';
import { HandshakeError, HandshakeReader } from './reader';
import { relay, type Relay } from './relay';
import { UpstreamReader } from './upstream-reader';
import type { HandshakeContext, InboundRequest } from './request';
import { socks4Handshake } from './socks4';
import { socks5Handshake } from './socks5';

export interface ProxyServerOptions {
  readonly host: string;
  /** 0 picks a free port; `listen()` reports the one bound. */
  readonly port: number;
  /** Time a client has from connecting to finishing its request. */
  readonly handshakeTimeoutMs: number;
  /** Required credentials (SOCKS5 RFC 1929, HTTP Proxy-Authorization: Basic); SOCKS4 is refused when set. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** A client was turned away (malformed, unsupported or unauthenticated request). */
  readonly onRejected?: (e: { client: string; reason: string }) => void;
}

export interface ProxyAddress {
  readonly host: string;
  readonly port: number;
}

/** How long a rejected client may take to read its reply before it is cut. */
const LINGER_MS = 1000;

interface Connection {
  readonly client: net.Socket;
  relay?: Relay;
}

/**
 * The node's proxy port: SOCKS5, SOCKS4/4a and HTTP proxy requests on one
 * listener, told apart by their first byte and all dispatched the same way
 * (Connector.open, then a relay). Bad input closes that client with a logged
 * reason and nothing else.
 */
export class ProxyServer {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  private bound?: ProxyAddress;
  private closing?: Promise<void>;
  private onIdle?: () => void;

  constructor(
    private readonly connector: Connector,
    private readonly log: Logger,
    private readonly options: ProxyServerOptions,
  ) {
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: false }, (socket) => this.accept(socket));
  }

  /** Client connections currently open (in handshake, dialing or relaying). */
  get openConnections(): number {
    return this.connections.size;
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
    if (this.connections.size > 0) {
      this.log.info(`cutting ${this.connections.size} connection(s) still open after ${drainMs} ms of draining`);
      for (const c of this.connections) {
        if (c.relay) c.relay.destroy(`proxy closed while the tunnel was open (drained ${drainMs} ms)`);
        else c.client.destroy();
      }
      await this.idle();
    }
    await stopped;
  }

  /** Resolves when no client connection is left (or after timeoutMs). */
  private idle(timeoutMs?: number): Promise<void> {
    if (this.connections.size === 0) return Promise.resolve();
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
    const conn: Connection = { client };
    this.connections.add(conn);
    client.once('close', () => {
      this.connections.delete(conn);
      if (this.connections.size === 0) this.onIdle?.();
    });
    // Errors are reported where they matter (handshake, relay); this keeps a reset from being unhandled.
    client.on('error', () => undefined);
    const peer = peerOf(client);
    this.serve(conn, peer).catch((err) => {
      this.log.error(`proxy failed serving ${peer}; closing it: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      client.destroy();
    });
  }

  private async serve(conn: Connection, peer: string): Promise<void> {
    const { client } = conn;
    const reader = new HandshakeReader(client);
    const request = await this.handshake(reader, client, peer);
    if (!request) return;
    const target = `${request.target.kind === 'ipv6' ? `[${request.target.host}]` : request.target.host}:${request.target.port}`;

    const abort = new AbortController();
    const onGone = () => abort.abort();
    client.once('close', onGone);
    const upstreamReader = new UpstreamReader();
    let upstream: Duplex | undefined;
    try {
      await this.dialAndRelay(conn, peer, request, reader, target, upstreamReader, abort.signal, (u) => (upstream = u));
    } finally {
      client.off('close', onGone);
      // The pooled read buffer may be reused only once nothing can read into it.
      upstream?.destroy();
      upstreamReader.release();
    }
  }

  private async dialAndRelay(
    conn: Connection, peer: string, request: InboundRequest, reader: HandshakeReader, target: string,
    upstreamReader: UpstreamReader, signal: AbortSignal, onUpstream: (upstream: Duplex) => void,
  ): Promise<void> {
    const { client } = conn;
    let opened;
    try {
      opened = await this.connector.open({ target: request.target, protocol: request.protocol, client: peer, onread: upstreamReader.option }, signal);
    } catch (err) {
      this.log.info(`${request.protocol} ${peer} → ${target} failed: ${describeError(err)}`);
      if (!client.destroyed) {
        reader.detach();
        request.fail(client, replyFor(err) || Socks5Reply.GeneralFailure, describeError(err));
        this.linger(client);
      }
      return;
    }
    const { upstream, tunnel } = opened;
    onUpstream(upstream);
    if (client.destroyed) {
      upstream.destroy();
      tunnel.close('client went away while the upstream was being dialed');
      return;
    }
    const head = request.succeed(client, opened.bound);
    const pipelined = reader.detach();
    const first = head && pipelined.length > 0 ? Buffer.concat([head, pipelined]) : head ?? pipelined;
    this.log.debug(`${request.protocol} ${peer} → ${target} via ${opened.source.label}`);
    conn.relay = relay(client, upstream, tunnel, first, upstreamReader);
    await conn.relay.done;
  }

  /** Runs the client's protocol handshake; undefined when the client was turned away. */
  private async handshake(reader: HandshakeReader, client: net.Socket, peer: string): Promise<InboundRequest | undefined> {
    const onClose = () => reader.fail(new HandshakeError('client closed the connection in the middle of the handshake'));
    client.once('close', onClose);
    const timer = setTimeout(() => reader.fail(new HandshakeError(`handshake not completed within ${this.options.handshakeTimeoutMs} ms`)), this.options.handshakeTimeoutMs);
    const ctx: HandshakeContext = { auth: this.options.auth, peer, log: this.log };
    try {
      const first = await reader.peek();
      if (first === 0x05) return await socks5Handshake(reader, client, ctx);
      if (first === 0x04) return await socks4Handshake(reader, client, ctx);
      if ((first >= 0x41 && first <= 0x5a) || (first >= 0x61 && first <= 0x7a)) return await httpHandshake(reader, client, ctx);
      throw new HandshakeError(`unknown protocol (first byte 0x${first.toString(16).padStart(2, '0')}; expected SOCKS5, SOCKS4 or HTTP)`);
    } catch (err) {
      const reason = err instanceof HandshakeError ? err.message : `handshake failed: ${describeError(err)}`;
      this.log.info(`rejected ${peer}: ${reason}`);
      try {
        this.options.onRejected?.({ client: peer, reason });
      } catch (listenerErr) {
        this.log.warn(`onRejected listener failed: ${describeError(listenerErr)}`);
      }
      reader.detach();
      this.linger(client);
      return undefined;
    } finally {
      clearTimeout(timer);
      client.off('close', onClose);
    }
  }

  /** Ends a turned-away client: its reply is flushed, further input discarded, the socket cut after LINGER_MS. */
  private linger(client: net.Socket): void {
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
