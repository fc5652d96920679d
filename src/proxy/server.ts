import * as net from 'node:net';
import type { Logger } from '../api/logger';
import { describeError, replyFor } from '../dispatch/errors';
import type { Connector } from '../dispatch/types';
import { httpHandshake } from './http';
import { HandshakeError, HandshakeReader } from './reader';
import { relay } from './relay';
import type { InboundRequest } from './request';
import { socks4Handshake } from './socks4';
import { socks5Handshake } from './socks5';

export interface ProxyServerOptions {
  readonly host: string;
  readonly port: number;
  readonly handshakeTimeoutMs: number;
  readonly auth?: { readonly username: string; readonly password: string };
  /** A client was turned away (malformed or refused handshake). */
  readonly onRejected?: (e: { client: string; reason: string }) => void;
}

/**
 * The node's proxy port: SOCKS5, SOCKS4/4a and HTTP proxy requests, told
 * apart by the first byte, all dispatched the same way. Bad input closes that
 * client with a logged reason and nothing else.
 */
export class ProxyServer {
  private readonly server: net.Server;
  private readonly clients = new Set<net.Socket>();

  constructor(
    private readonly connector: Connector,
    private readonly log: Logger,
    private readonly options: ProxyServerOptions,
  ) {
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => void this.serve(socket));
  }

  get openConnections(): number {
    return this.clients.size;
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        this.server.on('error', (err) => this.log.error(`proxy listener error: ${err.message}`));
        const a = this.server.address() as net.AddressInfo;
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  /** Stops accepting; open connections may finish within drainMs, then are cut. */
  async close(drainMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const deadline = Date.now() + drainMs;
    while (this.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const c of this.clients) c.destroy();
    await closed;
  }

  private async serve(client: net.Socket): Promise<void> {
    const peer = `${client.remoteAddress}:${client.remotePort}`;
    this.clients.add(client);
    client.once('close', () => this.clients.delete(client));
    client.on('error', () => undefined); // reported where it matters (handshake or relay)
    const reader = new HandshakeReader(client);
    const timer = setTimeout(() => reader.fail(new HandshakeError(`handshake not completed within ${this.options.handshakeTimeoutMs} ms`)), this.options.handshakeTimeoutMs);
    client.once('close', () => reader.fail(new HandshakeError('client closed the connection in the middle of the handshake')));

    let request: InboundRequest | undefined;
    try {
      request = await this.handshake(reader, client);
    } catch (err) {
      clearTimeout(timer);
      this.reject(client, peer, err instanceof HandshakeError ? err.message : `handshake failed: ${describeError(err)}`);
      return;
    }
    clearTimeout(timer);
    if (!request) return;

    const abort = new AbortController();
    const onGone = () => abort.abort();
    client.once('close', onGone);
    let opened;
    try {
      opened = await this.connector.open({ target: request.target, protocol: request.protocol, client: peer }, abort.signal);
    } catch (err) {
      client.off('close', onGone);
      const reply = replyFor(err);
      this.log.info(`${request.protocol} ${peer} → ${request.target.host}:${request.target.port} failed: ${describeError(err)}`);
      if (!client.destroyed) request.fail(client, reply, describeError(err));
      return;
    }
    client.off('close', onGone);
    if (client.destroyed) {
      opened.upstream.destroy();
      opened.tunnel.close('client went away while dialing');
      return;
    }
    if (opened.upstream instanceof net.Socket) opened.upstream.setNoDelay(true);
    const head = request.succeed(client, opened.bound);
    const pipelined = reader.detach();
    const first = head && pipelined.length ? Buffer.concat([head, pipelined]) : head ?? pipelined;
    this.log.debug(`${request.protocol} ${peer} → ${request.target.host}:${request.target.port} via ${opened.source.label}`);
    await relay(client, opened.upstream, opened.tunnel, first);
  }

  private async handshake(reader: HandshakeReader, client: net.Socket): Promise<InboundRequest | undefined> {
    const first = await reader.peek();
    if (first === 0x05) return socks5Handshake(reader, client, this.options);
    if (first === 0x04) {
      if (this.options.auth) {
        throw new HandshakeError('SOCKS4 has no authentication and this proxy requires it');
      }
      return socks4Handshake(reader, client);
    }
    if ((first >= 0x41 && first <= 0x5a) || (first >= 0x61 && first <= 0x7a)) return httpHandshake(reader, client, this.options);
    throw new HandshakeError(`unknown protocol (first byte 0x${first.toString(16).padStart(2, '0')}; expected SOCKS5, SOCKS4 or HTTP)`);
  }

  private reject(client: net.Socket, peer: string, reason: string): void {
    this.log.warn(`rejected ${peer}: ${reason}`);
    this.options.onRejected?.({ client: peer, reason });
    client.end();
    setTimeout(() => client.destroy(), 1000).unref();
  }
}
