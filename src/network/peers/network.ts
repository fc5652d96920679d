import 'reflect-metadata';
import * as os from 'node:os';
import { inject, injectable } from 'tsyringe';
import type { Disposable } from '../../api/disposable';
import type { Logger } from '../../api/logger';
import type { NodeSettings } from '../../api/settings';
import type { Transport } from '../../api/transport';
import { EventHub } from '../../kernel/events';
import { TOKENS } from '../../kernel/tokens';
import { SourceRegistry } from '../../dispatch/sources';
import { TunnelTable } from '../../dispatch/tunnels';
import type { Registry } from '../../kernel/registry';
import { NodeSecurity } from '../../security/node-security';
import { normalizeHost, parseHostPort, PeerError } from '../link/errors';
import { greet, type Greeting } from '../link/handshake';
import { RemotePeer } from './peer';
import { nodeIdOf, type NodeStatusView } from '../link/protocol';

export interface ConnectResult {
  readonly peer: NodeStatusView;
  /** True when the peer was already wired: the existing link was kept. */
  readonly already: boolean;
}

/** Emitted for monitors: a tunnel opened or closed on a peer, as its ProxyUpdate said. */
export interface RemoteTunnelEvent {
  readonly nodeId: string;
  readonly target: string;
  readonly operation: 'added' | 'removed';
}

/**
 * How long one reconnection attempt may wait for the peer's answer. Long on
 * purpose: a frozen peer (SIGSTOP, a suspended phone) has its kernel accept
 * the connection; it answers when it resumes, and closing the attempt earlier
 * would only leave it one more dead connection to trip over.
 */
export const RECONNECT_ATTEMPT_TIMEOUT_MS = 300_000;

/**
 * The peers this node wired (booster connect), kept as sources with their live
 * workload; dropped peers are probed and wired back unless disconnected on purpose.
 */
@injectable()
export class Network implements Disposable {
  private readonly peers = new Map<string, RemotePeer>();
  private readonly sourceHandles = new Map<string, Disposable>();
  private readonly log: Logger;
  private readonly remoteTunnelListeners = new Set<(e: RemoteTunnelEvent) => void>();
  private self?: { bport: number; pport: number };

  constructor(
    private readonly sources: SourceRegistry,
    private readonly events: EventHub,
    @inject(TOKENS.Transports) private readonly transports: Registry<Transport>,
    private readonly security: NodeSecurity,
    private readonly tunnels: TunnelTable,
    @inject(TOKENS.Settings) private readonly settings: NodeSettings,
    @inject(TOKENS.Logger) logger: Logger,
  ) {
    this.log = logger.child('network');
  }

  /** This node's bound ports, so it can refuse to wire itself. */
  setSelf(bport: number, pport: number): void {
    this.self = { bport, pport };
  }

  list(): RemotePeer[] {
    return [...this.peers.values()];
  }

  get(id: string): RemotePeer | undefined {
    return this.peers.get(id);
  }

  byName(name: string): RemotePeer | undefined {
    return this.list().find((p) => p.name === name);
  }

  onRemoteTunnel(listener: (e: RemoteTunnelEvent) => void): Disposable {
    this.remoteTunnelListeners.add(listener);
    return { dispose: () => this.remoteTunnelListeners.delete(listener) };
  }

  async transport(): Promise<Transport> {
    const id = this.settings.transport;
    const transport = await this.transports.load(id);
    if (!transport) throw new PeerError(`no plugin provides transport "${id}"`, 'unreachable');
    return transport;
  }

  /** Wires the node at `target` ("host:port" of its booster endpoint), under `name` if given (a peer already wired keeps its name). */
  async connect(target: string, name?: string): Promise<ConnectResult> {
    const address = parseHostPort(target, 4884);
    const transport = await this.transport();
    const greeting = await this.dial(transport, address);
    const host = normalizeHost(greeting.remoteHost ?? address.host);
    const id = nodeIdOf(host, greeting.bport, greeting.pport);
    if (this.isSelf(host, greeting.bport, greeting.pport)) {
      greeting.link.close();
      throw new PeerError(`${target} is this node itself`, 'self');
    }
    const existing = this.peers.get(id);
    if (existing && existing.state === 'up') {
      greeting.link.close();
      return { peer: existing.status(), already: true };
    }
    if (!existing && this.peers.size >= this.settings.limits.maxPeers) {
      greeting.link.close();
      throw new PeerError(`this node already has ${this.peers.size} peers (limits.maxPeers ${this.settings.limits.maxPeers}); disconnect one first`, 'limit');
    }
    const peer = existing ?? this.createPeer(id, host, greeting.bport, greeting.pport, transport, !greeting.legacy, name);
    peer.attach(greeting);
    return { peer: peer.status(), already: false };
  }

  /** Drops a peer for good; throws if unknown. */
  disconnect(id: string): NodeStatusView {
    const peer = this.peers.get(id);
    if (!peer) throw new PeerError(`no peer with id ${id} (known: ${[...this.peers.keys()].join(', ') || 'none'})`, 'unknown-peer');
    peer.disconnect();
    this.remove(id, 'disconnected on request');
    return peer.status();
  }

  private remove(id: string, reason: string): void {
    const peer = this.peers.get(id);
    if (!peer) return;
    this.peers.delete(id);
    this.sourceHandles.get(id)?.dispose();
    this.sourceHandles.delete(id);
    this.events.peerChanged.fire({ nodeId: id, address: peer.baddr, change: 'removed', reason });
  }

  /** Tunnels through a peer that died are reset, so their clients see a truncation, never a clean end. */
  private resetTunnels(peer: RemotePeer, reason: string): void {
    const n = this.tunnels.resetSource(peer.id, `peer ${peer.baddr} is down: ${reason}`);
    if (n > 0) this.log.info(`reset ${n} tunnel(s) through peer ${peer.baddr} (${reason})`);
  }

  dispose(): void {
    for (const peer of this.peers.values()) peer.dispose();
    this.peers.clear();
    for (const h of this.sourceHandles.values()) h.dispose();
    this.sourceHandles.clear();
  }

  /**
   * Dials a node's endpoint and authenticates as a peer (or accepts a 0.3 node
   * where --allow-legacy-peers says so). A user's connect waits a few
   * heartbeats; a reconnection attempt waits RECONNECT_ATTEMPT_TIMEOUT_MS, or until `signal` cancels it.
   */
  private dial(transport: Transport, address: { host: string; port: number }, reconnect?: { signal: AbortSignal }): Promise<Greeting> {
    const { limits } = this.settings;
    return greet({
      transport,
      address,
      log: this.log,
      timeoutMs: reconnect ? RECONNECT_ATTEMPT_TIMEOUT_MS : Math.max(3000, this.settings.heartbeatMs * 3),
      signal: reconnect?.signal,
      auth: { role: 'peer', authenticator: this.security.authenticator },
      allowLegacy: (host) => this.security.legacyPeers.has(host),
      limits,
    });
  }

  private createPeer(id: string, host: string, bport: number, pport: number, transport: Transport, secure: boolean, name?: string): RemotePeer {
    const { limits } = this.settings;
    const peer = new RemotePeer({
      id,
      host,
      bport,
      pport,
      secure,
      name,
      dial: (signal) => this.dial(transport, { host, port: bport }, { signal }),
      heartbeatMs: this.settings.heartbeatMs,
      legacyHeartbeatMs: this.settings.legacyHeartbeatMs,
      reconnectMs: this.settings.reconnectMs,
      log: this.log,
      workloadLimits: { maxTargets: limits.maxPeerTargets, maxTargetLength: limits.maxTargetLength },
      callbacks: {
        workload: (p) => this.sources.setReportedWorkload(p.id, p.workload.total),
        proxyUpdate: (p, t, operation) => this.remoteTunnelListeners.forEach((l) => l({ nodeId: p.id, target: t, operation })),
        state: (p, reason) => {
          if (p.state === 'disconnected') return;
          this.sources.setDown(p.id, p.state !== 'up', reason);
          if (p.state !== 'up') this.resetTunnels(p, reason);
          this.events.peerChanged.fire({ nodeId: p.id, address: p.baddr, change: p.state === 'up' ? 'up' : 'down', reason });
        },
        advertised: (p, link) => this.sources.setAdvertisedLink(p.id, link),
        dropped: (p, reason) => {
          this.resetTunnels(p, reason);
          this.remove(p.id, `dropped: ${reason}`);
        },
      },
    });
    this.peers.set(id, peer);
    this.sourceHandles.set(id, this.sources.add(peer.source));
    this.events.peerChanged.fire({ nodeId: id, address: peer.baddr, change: 'added' });
    this.log.info(`wired peer ${name ? `${name} (${peer.baddr})` : peer.baddr} (proxy ${peer.paddr})`, { id });
    return peer;
  }

  private isSelf(host: string, bport: number, pport: number): boolean {
    if (!this.self || this.self.bport !== bport || this.self.pport !== pport) return false;
    const local = Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
    return host === 'localhost' || local.includes(host);
  }
}
