import type { Disposable } from '../../api/disposable';
import type { Logger } from '../../api/logger';
import type { SourceDescriptor } from '../../api/sources';
import type { AdvertisedLink } from '../../dispatch/sources';
import type { ReportedLink } from '../../wire';
import type { Greeting } from '../link/handshake';
import { HeartbeatKeeper, heartbeatTiming } from '../link/heartbeat';
import { formatHostPort } from '../link/errors';
import type { NodeStatusView, ProtocolLink, WireMessage } from '../link/protocol';
import { PeerWorkload } from './workload';

/** The longest wait between two reconnection attempts, however long the peer stays away. */
export const MAX_RECONNECT_DELAY_MS = 30_000;
/** Each failed attempt makes the next wait this much longer (from reconnectMs up to MAX_RECONNECT_DELAY_MS). */
const RECONNECT_BACKOFF = 1.5;

/** The wait before the next reconnection attempt after `failures` failed ones in a row. */
export function reconnectDelay(reconnectMs: number, failures: number): number {
  return Math.max(reconnectMs, Math.min(MAX_RECONNECT_DELAY_MS, reconnectMs * RECONNECT_BACKOFF ** failures));
}

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
  /** The peer advertised its own link(s) (booster.v1 LinkReport); undefined when the link to it is lost. */
  advertised(peer: RemotePeer, link: AdvertisedLink | undefined): void;
}

export interface PeerOptions {
  readonly host: string;
  readonly bport: number;
  readonly pport: number;
  readonly id: string;
  /** The name the user gave it (booster connect --name, or the config file's peers), if any. */
  readonly name?: string;
  /** The peer proved it holds the network key (its proxy is chained through TLS); false for a 0.3 peer. */
  readonly secure: boolean;
  /**
   * Dials and authenticates the peer's endpoint again (reconnection). The
   * attempt must end on its own (refused, closed, or a long timeout) or when
   * `signal` aborts; it is never abandoned while it may still succeed.
   */
  readonly dial: (signal: AbortSignal) => Promise<Greeting>;
  readonly heartbeatMs: number;
  /** The period asked of a 0.3 peer (see heartbeatTiming). */
  readonly legacyHeartbeatMs: number;
  /** Wait before the first reconnection attempt; it grows after failed ones (reconnectDelay). */
  readonly reconnectMs: number;
  readonly log: Logger;
  readonly callbacks: PeerCallbacks;
  /** Caps on what the peer's ProxyUpdates can make us track. */
  readonly workloadLimits: { readonly maxTargets: number; readonly maxTargetLength: number };
}

/**
 * A remote node this node wired (we sent it Notify): its link, heartbeat,
 * reported workload and advertised link, and reconnection while it is away.
 * The peer is a source of kind "peer", dialed through its proxy.
 *
 * Reconnection keeps one attempt open at a time: a peer that is frozen (its
 * kernel accepts, the node does not answer) finds exactly one connection
 * waiting when it resumes, not a backlog of abandoned ones (a 0.3 node exits
 * on those). The next attempt starts reconnectMs after the last one failed,
 * ×1.5 after every failure, at most MAX_RECONNECT_DELAY_MS.
 */
export class RemotePeer implements Disposable {
  private link?: ProtocolLink;
  private heartbeat?: HeartbeatKeeper;
  private reconnectTimer?: NodeJS.Timeout;
  /** The reconnection attempt under way, if any. */
  private attempt?: AbortController;
  /** Failed reconnection attempts in a row. */
  private failures = 0;
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

  /** Heartbeat round trip (ms, EWMA) once measured; see HeartbeatKeeper.rttMs. */
  get rttMs(): number | undefined {
    return this.heartbeat?.rttMs;
  }

  get name(): string | undefined {
    return this.options.name;
  }

  get baddr(): string {
    return formatHostPort(this.host, this.bport);
  }

  get paddr(): string {
    return formatHostPort(this.host, this.pport);
  }

  get source(): SourceDescriptor {
    return {
      id: this.id,
      kind: 'peer',
      label: peerLabel(this.baddr, this.options.name),
      dialer: 'socks5-chain',
      proxy: { host: this.host, port: this.pport, secure: this.options.secure },
      local: false,
    };
  }

  status(): NodeStatusView {
    return { id: this.id, baddr: this.baddr, paddr: this.paddr, active: this._state === 'up', tunnels: this.workload.entries() };
  }

  /** Takes over a freshly greeted link: Notify, first heartbeat, then listen. */
  attach(greeting: Greeting): void {
    this.detach();
    this.stopReconnecting();
    this.failures = 0;
    const link = greeting.link;
    this.link = link;
    this.workload.reset();
    this.heartbeat = new HeartbeatKeeper({
      ...heartbeatTiming(greeting.legacy, this.options),
      send: (beat) => link.sendHeartbeat(beat),
      onSilence: (reason) => this.lost(`heartbeat: ${reason}`),
      onRejected: (reason) => this.options.log.warn(`peer ${this.baddr}: ${reason}`),
    });
    this.linkSubscriptions = [link.onMessage((m) => this.onMessage(m)), link.onClose((reason) => this.lost(reason))];
    link.sendNotify();
    this.heartbeat.start();
    this._state = 'up';
    this.options.callbacks.workload(this);
    this.options.callbacks.state(this, 'wired');
  }

  /** Stops for good (Disconnect): no reconnection. */
  disconnect(): void {
    this._state = 'disconnected';
    this.stopReconnecting();
    this.detach();
    this.workload.reset();
    this.options.callbacks.state(this, 'disconnected on request');
  }

  dispose(): void {
    this._state = 'disconnected';
    this.stopReconnecting();
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
      case 'link-report':
        if (!this.options.secure) {
          this.options.log.debug(`peer ${this.baddr} sent a LinkReport but never authenticated; ignored`);
          break;
        }
        this.options.callbacks.advertised(this, sumLinks(m.links));
        break;
      default:
        this.options.log.debug(`peer ${this.baddr} sent ${m.kind} on the notify link; ignored`);
    }
  }

  /** Drops a misbehaving peer for good (no reconnection). */
  private drop(reason: string): void {
    this.options.log.warn(`dropping peer ${this.baddr}: ${reason}`);
    this._state = 'disconnected';
    this.stopReconnecting();
    this.detach();
    this.workload.reset();
    this.options.callbacks.dropped(this, reason);
  }

  private lost(reason: string): void {
    if (this._state !== 'up') return;
    this.detach();
    this._state = 'down';
    this.options.log.warn(`peer ${this.baddr} is down (${reason}); reconnecting (one attempt at a time, first in ${this.options.reconnectMs} ms)`);
    this.options.callbacks.state(this, reason);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.tryReconnect(), reconnectDelay(this.options.reconnectMs, this.failures));
    this.reconnectTimer.unref();
  }

  /** Cancels the pending attempt (its socket is closed) and the timer of the next one. */
  private stopReconnecting(): void {
    clearTimeout(this.reconnectTimer);
    this.attempt?.abort();
    this.attempt = undefined;
  }

  private async tryReconnect(): Promise<void> {
    if (this._state !== 'down' || this.attempt) return;
    const attempt = new AbortController();
    this.attempt = attempt;
    try {
      const greeting = await this.options.dial(attempt.signal);
      if (this.attempt === attempt) this.attempt = undefined;
      if (this._state !== 'down') {
        greeting.link.close();
        return;
      }
      if (greeting.legacy === this.options.secure) {
        greeting.link.close();
        throw new Error(
          `it came back ${greeting.legacy ? 'as a 0.3 node that cannot authenticate' : 'authenticated'}, which it was not before; not wiring it again`,
        );
      }
      if (greeting.pport !== this.pport) {
        this.options.log.warn(`peer ${this.baddr} came back with proxy port ${greeting.pport} (was ${this.pport}); treating as the same node`);
      }
      this.options.log.info(`peer ${this.baddr} is back; wired again`);
      this.attach(greeting);
    } catch (err) {
      if (this.attempt === attempt) this.attempt = undefined;
      // Cancelled: the peer was disconnected, dropped, disposed, or wired by a new connect.
      if (attempt.signal.aborted || this._state !== 'down') return;
      this.failures++;
      const delay = reconnectDelay(this.options.reconnectMs, this.failures);
      this.options.log.debug(`peer ${this.baddr} still unreachable: ${(err as Error).message}; next attempt in ${Math.round(delay)} ms`);
      this.scheduleReconnect();
    }
  }

  private detach(): void {
    if (this.link) this.options.callbacks.advertised(this, undefined);
    this.heartbeat?.dispose();
    this.heartbeat = undefined;
    this.linkSubscriptions.forEach((d) => d.dispose());
    this.linkSubscriptions = [];
    this.link?.close();
    this.link = undefined;
  }
}

/** A peer's link as a whole: its direct and interface sources summed. */
function sumLinks(links: readonly ReportedLink[]): AdvertisedLink {
  let capacity = 0;
  let throughput = 0;
  for (const l of links) {
    capacity += l.capacity;
    throughput += l.throughput;
  }
  return { capacity, throughput };
}

/** A peer source's label: "peer 10.0.0.2:4884", or "peer phone (10.0.0.2:4884)" when named (see peerNameOf). */
export function peerLabel(baddr: string, name?: string): string {
  return name ? `peer ${name} (${baddr})` : `peer ${baddr}`;
}
