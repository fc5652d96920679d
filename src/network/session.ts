import type { Disposable } from '../api/disposable';
import type { Logger } from '../api/logger';
import type { TransportAddress } from '../api/transport';
import { EventHub } from '../core/events';
import { TunnelTable } from '../dispatch/tunnels';
import type { CtrlOperation } from './endpoint';
import { PeerError } from './errors';
import { HeartbeatKeeper } from './heartbeat';
import { MonitorStream, type MonitorSources } from './monitor-stream';
import { Network } from './network';
import type { ControlHandler } from './control';
import type { ProtocolLink, WireMessage } from './protocol';

export interface SessionServices extends MonitorSources {
  readonly network: Network;
  readonly tunnels: TunnelTable;
  readonly events: EventHub;
  readonly heartbeatMs: number;
  readonly identity: { readonly id: string; readonly bport: number; readonly pport: number };
  readonly control: ControlHandler;
  readonly ctrl: (op: CtrlOperation) => void;
  readonly log: Logger;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * One connection accepted on the booster port: a CLI asking for something,
 * or a node that wired us (Notify) and now gets our ProxyUpdates and heartbeats.
 */
export class InboundSession implements Disposable {
  private readonly disposables: Disposable[] = [];
  private heartbeat?: HeartbeatKeeper;
  private notifying = false;

  constructor(
    private readonly link: ProtocolLink,
    private readonly remote: TransportAddress,
    private readonly services: SessionServices,
  ) {}

  start(): void {
    this.disposables.push(this.link.onMessage((m) => void this.handle(m)));
    this.link.sendHello(this.services.identity.bport, this.services.identity.pport);
  }

  dispose(): void {
    this.heartbeat?.dispose();
    this.disposables.forEach((d) => d.dispose());
    this.disposables.length = 0;
    this.link.close();
  }

  private async handle(m: WireMessage): Promise<void> {
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
          return this.link.sendControlReply(await this.services.control.handle(m.request));
        default:
          this.services.log.warn(`${this.link.label} sent ${m.kind}, which a node does not accept; closing the link`);
          this.link.close();
      }
    } catch (err) {
      this.fail(err);
    }
  }

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
    const { tunnels, events, identity } = this.services;
    for (const entry of tunnels.workload()) {
      for (let i = 0; i < entry.copies; i++) this.link.sendProxyUpdate(entry.target, 'added', identity.id);
    }
    this.disposables.push(
      events.onTunnelOpened((t) => this.link.sendProxyUpdate(t.targetAddress, 'added', identity.id)),
      events.onTunnelClosed((c) => this.link.sendProxyUpdate(c.tunnel.targetAddress, 'removed', identity.id)),
    );
    this.ensureHeartbeat().expect();
  }

  private onHeartbeat(m: Extract<WireMessage, { kind: 'heartbeat' }>): void {
    this.ensureHeartbeat().receive(m.beat);
  }

  private ensureHeartbeat(): HeartbeatKeeper {
    this.heartbeat ??= new HeartbeatKeeper({
      periodMs: this.services.heartbeatMs,
      send: (beat) => this.link.sendHeartbeat(beat),
      onSilence: (reason) => {
        this.services.log.warn(`${this.link.label} stopped heartbeating (${reason}); closing the link`);
        this.link.close();
      },
      onRejected: (reason) => this.services.log.warn(`${this.link.label}: ${reason}`),
    });
    return this.heartbeat;
  }

  private onCtrl(operation: CtrlOperation | number): void {
    if (typeof operation === 'number') {
      this.fail(new PeerError(`unknown ctrl operation ${operation} (1 = stop, 2 = restart)`, 'protocol'));
      return;
    }
    if (!LOOPBACK.test(this.remote.host)) {
      this.services.log.warn(`refused ctrl ${operation} from ${this.link.label}: ctrl is accepted from this machine only`);
      this.fail(new PeerError('ctrl is accepted from this machine only', 'protocol'));
      return;
    }
    this.services.log.info(`ctrl ${operation} from ${this.link.label}`);
    this.link.sendResult(0, `${operation} accepted`);
    this.services.ctrl(operation);
  }

  private startMonitor(feature: 'node' | 'net' | number): void {
    if (typeof feature === 'number') {
      this.fail(new PeerError(`unknown monitor feature ${feature} (1 = node, 2 = net)`, 'protocol'));
      return;
    }
    this.disposables.push(new MonitorStream(this.link, feature, this.services));
  }

  private fail(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.services.log.warn(`request from ${this.link.label} failed: ${message}`);
    // 0.3 clients learn of a failure by the link closing; ours also get the reason.
    this.link.sendResult(1, message);
    this.link.close();
  }
}
