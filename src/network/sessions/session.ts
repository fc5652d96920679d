import type { Duplex } from 'node:stream';
import type { Disposable } from '../../api/disposable';
import { Emitter } from '../../api/event';
import type { Limits } from '../../api/settings';
import type { Logger } from '../../api/logger';
import type { RefusalLog } from '../../kernel/refusal-log';
import type { SourceRegistry } from '../../dispatch/sources';
import { AUTH_ROLES, nonce, NONCE_BYTES, type AuthRole, type Authenticator, type Transcript } from '../../security/auth';
import { channelBinding } from '../../security/tls';
import { allows, HANDSHAKE, refusal, type Principal } from './access';
import type { ControlHandler, ControlReply } from '../control/control';
import { PeerError } from '../link/errors';
import { DEFAULT_LEGACY_HEARTBEAT_MS, DEFAULT_LINK_REPORT_MS } from '../../kernel/defaults';
import { HeartbeatKeeper, heartbeatTiming } from '../link/heartbeat';
import { LinkReporter } from './link-reporter';
import { MonitorStream, type MonitorSources } from '../monitor/monitor-stream';
import type { Network } from '../peers/network';
import { ProtocolLink, type WireMessage } from '../link/protocol';

/** What a control session may ask the node to do with itself (Endpoint.onCtrl). */
export type CtrlOperation = 'stop' | 'restart';

/**
 * What an InboundSession uses, and no more: each collaborator is narrowed to
 * the members the session calls, so a session cannot reach into the network,
 * control plane or authenticator beyond its protocol.
 */
export interface SessionServices extends MonitorSources {
  readonly network: MonitorSources['network'] & Pick<Network, 'connect' | 'disconnect'>;
  readonly sources: MonitorSources['sources'] & Pick<SourceRegistry, 'localLinks'>;
  readonly heartbeatMs: number;
  /** The period asked of 0.3 nodes (settings.legacyHeartbeatMs); the default without. */
  readonly legacyHeartbeatMs?: number;
  /** Least time between two LinkReports to a booster.v1 peer (settings.linkReportMs); the default without. */
  readonly linkReportMs?: number;
  readonly identity: { readonly id: string; readonly bport: number; readonly pport: number };
  readonly control: Pick<ControlHandler, 'handle'>;
  readonly ctrl: (op: CtrlOperation) => void;
  readonly log: Logger;
  readonly limits: Pick<Limits, 'authTimeoutMs' | 'sessionIdleMs' | 'maxPacketBytes' | 'maxUnauthenticatedPacketBytes' | 'maxLinkBufferBytes'>;
  readonly authenticator: Pick<Authenticator, 'verify' | 'proof'>;
  /** Where refusals are logged (rate-limited, so a stranger cannot flood the log). */
  readonly refusals: Pick<RefusalLog, 'refused'>;
  /** Secures the raw stream after StartTls (the link transport's `secure`), if it can. */
  readonly secure?: (stream: Duplex) => Promise<Duplex>;
}

/**
 * One connection accepted on the booster port: a CLI asking for something,
 * or a node that wired us (Notify) and now gets our ProxyUpdates and heartbeats.
 *
 * Every message passes the gate first (README "Security"): before anything
 * else, only StartTls and the authentication exchange are open; then each
 * request is checked against what the connection's principals may do. A
 * refusal is answered with its reason (booster clients), logged once, and
 * closes the connection; it changes nothing.
 */
export class InboundSession implements Disposable {
  private readonly disposables: Disposable[] = [];
  private link: ProtocolLink;
  private linkSubs: Disposable[] = [];
  private heartbeat?: HeartbeatKeeper;
  private linkReporter?: LinkReporter;
  private notifying = false;
  private streaming = false;
  private readonly principals: Principal[];
  private challenge?: Transcript;
  private upgrading = false;
  private secured = false;
  private authTimer?: NodeJS.Timeout;
  private idleTimer?: NodeJS.Timeout;
  private readonly closed = new Emitter<string>();
  private ended = false;
  readonly onClose = this.closed.event;

  constructor(
    stream: Duplex,
    private readonly label: string,
    addressPrincipal: Principal,
    private readonly services: SessionServices,
  ) {
    this.principals = addressPrincipal === 'anonymous' ? [] : [addressPrincipal];
    this.link = this.attach(stream);
  }

  start(): void {
    this.link.sendHello(this.services.identity.bport, this.services.identity.pport);
    const ms = this.services.limits.authTimeoutMs;
    this.authTimer = setTimeout(() => {
      const what = this.principals.length ? 'sent no request' : 'did not authenticate';
      this.services.log.warn(`${this.label} ${what} within ${ms} ms (limits.authTimeoutMs); closing the connection`);
      this.close('authentication timeout');
    }, ms);
    this.authTimer.unref();
  }

  dispose(): void {
    this.close('node stopping');
  }

  private attach(stream: Duplex): ProtocolLink {
    const { limits } = this.services;
    const link = new ProtocolLink(stream, this.label, this.services.log, {
      maxPacketBytes: this.principals.length ? limits.maxPacketBytes : limits.maxUnauthenticatedPacketBytes,
      maxBufferBytes: limits.maxLinkBufferBytes,
    });
    this.linkSubs = [link.onMessage((m) => void this.handle(m)), link.onClose((reason) => this.close(reason))];
    return link;
  }

  private close(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.authTimer);
    clearTimeout(this.idleTimer);
    this.heartbeat?.dispose();
    this.linkReporter?.dispose();
    this.disposables.forEach((d) => d.dispose());
    this.disposables.length = 0;
    this.linkSubs.forEach((d) => d.dispose());
    this.link.close();
    this.closed.fire(reason);
    this.closed.dispose();
  }

  private async handle(m: WireMessage): Promise<void> {
    if (this.ended) return;
    if (this.upgrading) return this.refuse(m.kind, 'nothing may be sent between StartTls and the TLS handshake');
    if (HANDSHAKE.includes(m.kind)) return this.handshake(m);
    if (!allows(this.principals, m.kind)) return this.refuse(m.kind, refusal(this.principals, m.kind));
    clearTimeout(this.authTimer);
    this.touch();
    try {
      switch (m.kind) {
        case 'connect':
          return await this.connect(m.target);
        case 'disconnect':
          return this.disconnect(m.id);
        case 'notify':
          return this.startNotify();
        case 'heartbeat':
          return this.onHeartbeat(m);
        case 'ctrl':
          return this.onCtrl(m.operation);
        case 'monitor':
          return this.startMonitor(m.feature);
        case 'control':
          return this.link.sendControlReply(m.request ? await this.services.control.handle(m.request) : await this.refuseControl(m.refused));
        default:
          return this.refuse(m.kind, `${m.kind} is not a request a node accepts`);
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** A session that is neither a peer link nor a monitor stream and goes quiet is closed. */
  private touch(): void {
    clearTimeout(this.idleTimer);
    if (this.notifying || this.streaming) return;
    const ms = this.services.limits.sessionIdleMs;
    this.idleTimer = setTimeout(() => {
      this.services.log.info(`${this.label} was idle for ${ms} ms (limits.sessionIdleMs); closing the connection`);
      this.close('idle');
    }, ms);
    this.idleTimer.unref();
  }

  // ---- the authentication exchange (README "Security") ----

  private async handshake(m: WireMessage): Promise<void> {
    switch (m.kind) {
      case 'start-tls':
        return this.startTls();
      case 'auth-init':
        return this.onAuthInit(m.nonce, m.role);
      case 'auth-proof':
        return this.onAuthProof(m.proof);
    }
  }

  private async startTls(): Promise<void> {
    const { secure } = this.services;
    if (!secure || this.secured || this.challenge || this.isAuthenticated) {
      return this.refuse(
        'start-tls',
        secure ? 'StartTls is only accepted once, before authentication' : 'this node does not run TLS on its links (transport "tcp")',
      );
    }
    this.upgrading = true;
    this.link.sendStartTls();
    let raw: Duplex;
    try {
      raw = this.link.release();
    } catch (err) {
      return this.refuse('start-tls', (err as Error).message);
    }
    this.linkSubs.forEach((d) => d.dispose());
    let tls: Duplex;
    try {
      tls = await secure(raw);
    } catch (err) {
      raw.destroy();
      this.services.log.warn(`refused ${this.label}: ${(err as Error).message}`);
      this.close('TLS handshake failed');
      return;
    }
    if (this.ended) {
      tls.destroy();
      return;
    }
    this.upgrading = false;
    this.secured = true;
    this.link = this.attach(tls);
    this.link.sendHello(this.services.identity.bport, this.services.identity.pport);
  }

  private get isAuthenticated(): boolean {
    return this.principals.includes('peer') || this.principals.includes('cli');
  }

  private onAuthInit(clientNonce: Buffer, role: string): void {
    if (this.challenge || this.isAuthenticated) return this.refuse('auth-init', 'authentication already started on this connection');
    if (clientNonce.length !== NONCE_BYTES) return this.refuse('auth-init', `the client nonce must be ${NONCE_BYTES} bytes`);
    if (!(AUTH_ROLES as readonly string[]).includes(role)) return this.refuse('auth-init', `unknown role "${role.slice(0, 32)}" (peer or cli)`);
    const { identity, authenticator } = this.services;
    this.challenge = {
      role: role as AuthRole,
      clientNonce,
      serverNonce: nonce(),
      bport: identity.bport,
      pport: identity.pport,
      binding: channelBinding(this.link.transportStream),
    };
    this.link.sendAuthChallenge(this.challenge.serverNonce, authenticator.proof('server', this.challenge));
  }

  private onAuthProof(proof: Buffer): void {
    const challenge = this.challenge;
    if (!challenge || this.isAuthenticated) return this.refuse('auth-proof', 'no authentication challenge is pending');
    if (!this.services.authenticator.verify('client', challenge, proof)) {
      return this.refuse('auth-proof', "authentication failed: the proof does not match this network's key (wrong key, or a replayed exchange)");
    }
    this.principals.push(challenge.role);
    this.challenge = undefined;
    clearTimeout(this.authTimer);
    this.link.maxPacketBytes = this.services.limits.maxPacketBytes;
    this.services.log.debug(`${this.label} authenticated as ${challenge.role}${this.secured ? ' over TLS' : ''}`);
    this.link.sendResult(0, `authenticated as ${challenge.role}`);
    this.touch();
  }

  /** Answers a refused request with its reason, logs one line, and closes: nothing changed. */
  private refuse(request: string, reason: string): void {
    this.services.refusals.refused(`refused ${request} from ${this.label}: ${reason}`);
    this.link.sendResult(1, `refused: ${reason}`);
    this.close(`refused ${request}`);
  }

  // ---- requests ----

  private async connect(target: string): Promise<void> {
    const { peer, already } = await this.services.network.connect(target);
    this.link.sendNodeStatus(peer);
    this.link.sendResult(0, already ? `already connected to ${peer.baddr}; kept the existing link` : `connected to ${peer.baddr}`);
  }

  private disconnect(id: string): void {
    const peer = this.services.network.disconnect(id);
    this.link.sendNodeStatus(peer);
    this.link.sendResult(0, `disconnected ${peer.baddr}`);
  }

  /** The node that wired us wants our workload: resend what is open (resync), then every change. */
  private startNotify(): void {
    if (this.notifying) return;
    this.notifying = true;
    clearTimeout(this.idleTimer);
    const { tunnels, events, identity } = this.services;
    for (const entry of tunnels.workload()) {
      for (let i = 0; i < entry.copies; i++) this.link.sendProxyUpdate(entry.target, 'added', identity.id);
    }
    this.disposables.push(
      events.onTunnelOpened((t) => this.link.sendProxyUpdate(t.targetAddress, 'added', identity.id)),
      events.onTunnelClosed((c) => this.link.sendProxyUpdate(c.tunnel.targetAddress, 'removed', identity.id)),
    );
    this.ensureHeartbeat().expect();
    this.startLinkReports();
  }

  /** A booster.v1 peer that proved the key learns our own links (LinkReport); 0.3 nodes and unauthenticated clients never do. */
  private startLinkReports(): void {
    if (!this.link.peerExtended || !this.principals.includes('peer')) return;
    const { sources } = this.services;
    this.linkReporter = new LinkReporter({
      intervalMs: this.services.linkReportMs ?? DEFAULT_LINK_REPORT_MS,
      links: () => sources.localLinks(),
      send: (links) => this.link.sendLinkReport(links),
    });
    this.linkReporter.start();
  }

  private onHeartbeat(m: Extract<WireMessage, { kind: 'heartbeat' }>): void {
    this.ensureHeartbeat().receive(m.beat);
  }

  private ensureHeartbeat(): HeartbeatKeeper {
    if (this.heartbeat) return this.heartbeat;
    // Known by now: the Notify or heartbeat that got here said whether the other side speaks booster.v1.
    const timing = heartbeatTiming(!this.link.peerExtended, {
      heartbeatMs: this.services.heartbeatMs,
      legacyHeartbeatMs: this.services.legacyHeartbeatMs ?? DEFAULT_LEGACY_HEARTBEAT_MS,
    });
    this.heartbeat = new HeartbeatKeeper({
      ...timing,
      send: (beat) => this.link.sendHeartbeat(beat),
      onSilence: (reason) => {
        this.services.log.warn(`${this.label} stopped heartbeating (${reason}); closing the link`);
        this.close('heartbeat lost');
      },
      onRejected: (reason) => this.services.log.warn(`${this.label}: ${reason}`),
    });
    return this.heartbeat;
  }

  private onCtrl(operation: CtrlOperation | number): void {
    if (typeof operation === 'number') {
      this.fail(new PeerError(`unknown ctrl operation ${operation} (1 = stop, 2 = restart)`, 'protocol'));
      return;
    }
    this.services.log.info(`ctrl ${operation} from ${this.label} (${this.principals.join(', ')})`);
    this.link.sendResult(0, `${operation} accepted`);
    this.services.ctrl(operation);
  }

  private startMonitor(feature: 'node' | 'net' | number): void {
    if (typeof feature === 'number') {
      this.fail(new PeerError(`unknown monitor feature ${feature} (1 = node, 2 = net)`, 'protocol'));
      return;
    }
    this.streaming = true;
    clearTimeout(this.idleTimer);
    this.disposables.push(new MonitorStream(this.link, feature, this.services));
  }

  /** An op this node does not know is answered with the reason, never run as another op (the link stays up). */
  private async refuseControl(reason: string): Promise<ControlReply> {
    // Rate-limited like every refusal: a client looping on a bad op cannot flood the log.
    this.services.refusals.refused(`refused a control request from ${this.label}: ${reason}`);
    const status = await this.services.control.handle({ op: 'status' });
    return { ...status, ok: false, error: reason, message: undefined, rules: [], rulesOffset: 0 };
  }

  private fail(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.services.log.warn(`request from ${this.label} failed: ${message}`);
    // 0.3 clients learn of a failure by the link closing; ours also get the reason.
    this.link.sendResult(1, message);
    this.close('request failed');
  }
}
