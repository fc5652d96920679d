import type { Disposable } from '../api/disposable';
import type { Logger } from '../api/logger';
import type { SourceDescriptor } from '../api/sources';
import type { Greeting } from './handshake';
import { HeartbeatKeeper } from './heartbeat';
import { formatHostPort } from './errors';
import type { NodeStatusView, ProtocolLink, WireMessage } from './protocol';
import { PeerWorkload } from './workload';

export type PeerState = 'up' | 'down' | 'disconnected';

export interface PeerCallbacks {
  /** The peer's reported workload changed. */
  workload(peer: RemotePeer): void;
  /** A ProxyUpdate arrived (for monitors): target and operation. */
  proxyUpdate(peer: RemotePeer, target: string, operation: 'added' | 'removed'): void;
  /** The link came up or went down. */
  state(peer: RemotePeer, reason: string): void;
  /** The peer broke a limit (README "Security"): it is dropped for good. */
  dropped(peer: RemotePeer, reason: string): void;
}

export interface PeerOptions {
  readonly host: string;
  readonly bport: number;
  readonly pport: number;
  readonly id: string;
  /** The peer proved it holds the network key (its proxy is chained through TLS); false for a 0.3 peer. */
  readonly secure: boolean;
  /** Dials and authenticates the peer's endpoint again (reconnection). */
  readonly dial: () => Promise<Greeting>;
  readonly heartbeatMs: number;
  readonly reconnectMs: number;
  readonly log: Logger;
  readonly callbacks: PeerCallbacks;
  /** Caps on what the peer's ProxyUpdates can make us track. */
  readonly workloadLimits: { readonly maxTargets: number; readonly maxTargetLength: number };
}

/**
 * A remote node this node wired (we sent it Notify): its link, heartbeat,
 * reported workload, and reconnection while it is away. The peer is a source
 * of kind "peer", dialed through its proxy.
 */
export class RemotePeer implements Disposable {
  private link?: ProtocolLink;
  private heartbeat?: HeartbeatKeeper;
  private reconnectTimer?: NodeJS.Timeout;
  private linkSubscriptions: Disposable[] = [];
  private _state: PeerState = 'down';
  readonly workload: PeerWorkload;
  readonly id: string;
  readonly host: string;
  readonly bport: number;
  readonly pport: number;

  constructor(private readonly options: PeerOptions) {
    this.id = options.id;
    this.host = options.host;
    this.bport = options.bport;
    this.pport = options.pport;
    this.workload = new PeerWorkload(options.workloadLimits);
  }

  get state(): PeerState {
    return this._state;
  }

  get baddr(): string {
    return formatHostPort(this.host, this.bport);
  }

  get paddr(): string {
    return formatHostPort(this.host, this.pport);
  }

  get source(): SourceDescriptor {
    return { id: this.id, kind: 'peer', label: `peer ${this.baddr}`, dialer: 'socks5-chain', proxy: { host: this.host, port: this.pport, secure: this.options.secure }, local: false };
  }

  status(): NodeStatusView {
    return { id: this.id, baddr: this.baddr, paddr: this.paddr, active: this._state === 'up', tunnels: this.workload.entries() };
  }

  /** Takes over a freshly greeted link: Notify, first heartbeat, then listen. */
  attach(greeting: Greeting): void {
    this.detach();
    clearTimeout(this.reconnectTimer);
    const link = greeting.link;
    this.link = link;
    this.workload.reset();
    this.heartbeat = new HeartbeatKeeper({
      periodMs: this.options.heartbeatMs,
      send: (beat) => link.sendHeartbeat(beat),
      onSilence: (reason) => this.lost(`heartbeat: ${reason}`),
      onRejected: (reason) => this.options.log.warn(`peer ${this.baddr}: ${reason}`),
    });
    this.linkSubscriptions = [
      link.onMessage((m) => this.onMessage(m)),
      link.onClose((reason) => this.lost(reason)),
    ];
    link.sendNotify();
    this.heartbeat.start();
    this._state = 'up';
    this.options.callbacks.workload(this);
    this.options.callbacks.state(this, 'wired');
  }

  /** Stops for good (Disconnect): no reconnection. */
  disconnect(): void {
    this._state = 'disconnected';
    clearTimeout(this.reconnectTimer);
    this.detach();
    this.workload.reset();
    this.options.callbacks.state(this, 'disconnected on request');
  }

  dispose(): void {
    this._state = 'disconnected';
    clearTimeout(this.reconnectTimer);
    this.detach();
  }

  private onMessage(m: WireMessage): void {
    switch (m.kind) {
      case 'heartbeat':
        this.heartbeat?.receive(m.beat);
        break;
      case 'proxy-update':
        try {
          this.workload.apply(m.target, m.operation);
        } catch (err) {
          this.drop(`it broke a limit: ${(err as Error).message}`);
          return;
        }
        this.options.callbacks.proxyUpdate(this, m.target, m.operation);
        this.options.callbacks.workload(this);
        break;
      default:
        this.options.log.debug(`peer ${this.baddr} sent ${m.kind} on the notify link; ignored`);
    }
  }

  /** Drops a misbehaving peer for good (no reconnection). */
  private drop(reason: string): void {
    this.options.log.warn(`dropping peer ${this.baddr}: ${reason}`);
    this._state = 'disconnected';
    clearTimeout(this.reconnectTimer);
    this.detach();
    this.workload.reset();
    this.options.callbacks.dropped(this, reason);
  }

  private lost(reason: string): void {
    if (this._state !== 'up') return;
    this.detach();
    this._state = 'down';
    this.options.log.warn(`peer ${this.baddr} is down (${reason}); probing every ${this.options.reconnectMs} ms`);
    this.options.callbacks.state(this, reason);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.tryReconnect(), this.options.reconnectMs);
    this.reconnectTimer.unref();
  }

  private async tryReconnect(): Promise<void> {
    if (this._state !== 'down') return;
    try {
      const greeting = await this.options.dial();
      if (this._state !== 'down') {
        greeting.link.close();
        return;
      }
      if (greeting.legacy === this.options.secure) {
        greeting.link.close();
        throw new Error(`it came back ${greeting.legacy ? 'as a 0.3 node that cannot authenticate' : 'authenticated'}, which it was not before; not wiring it again`);
      }
      if (greeting.pport !== this.pport) {
        this.options.log.warn(`peer ${this.baddr} came back with proxy port ${greeting.pport} (was ${this.pport}); treating as the same node`);
      }
      this.options.log.info(`peer ${this.baddr} is back; wired again`);
      this.attach(greeting);
    } catch (err) {
      this.options.log.debug(`peer ${this.baddr} still unreachable: ${(err as Error).message}`);
      this.scheduleReconnect();
    }
  }

  private detach(): void {
    this.heartbeat?.dispose();
    this.heartbeat = undefined;
    this.linkSubscriptions.forEach((d) => d.dispose());
    this.linkSubscriptions = [];
    this.link?.close();
    this.link = undefined;
  }
}
