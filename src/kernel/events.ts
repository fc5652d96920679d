import 'reflect-metadata';
import { injectable } from 'tsyringe';
import type { Disposable } from '../api/disposable';
import { Emitter } from '../api/event';
import type {
  DialAttempt,
  LimitHit,
  NodeEvents,
  PeerEvent,
  PluginFault,
  PolicyChange,
  ProxyRejection,
  TunnelClosed,
  TunnelInfo,
  WorkloadChange,
} from '../api/events';
import type { SourceChange, SourceHealthChange } from '../api/sources';

/** Owns the emitters behind NodeEvents; components fire, plugins and monitors listen. */
@injectable()
export class EventHub implements NodeEvents, Disposable {
  readonly tunnelOpened = new Emitter<TunnelInfo>();
  readonly tunnelClosed = new Emitter<TunnelClosed>();
  readonly workloadChanged = new Emitter<WorkloadChange>();
  readonly dial = new Emitter<DialAttempt>();
  readonly sourceChanged = new Emitter<SourceChange>();
  readonly sourceHealthChanged = new Emitter<SourceHealthChange>();
  readonly peerChanged = new Emitter<PeerEvent>();
  readonly pluginFault = new Emitter<PluginFault>();
  readonly proxyRejected = new Emitter<ProxyRejection>();
  readonly policyChanged = new Emitter<PolicyChange>();
  readonly limitHit = new Emitter<LimitHit>();

  readonly onTunnelOpened = this.tunnelOpened.event;
  readonly onTunnelClosed = this.tunnelClosed.event;
  readonly onWorkloadChanged = this.workloadChanged.event;
  readonly onDial = this.dial.event;
  readonly onSourceChanged = this.sourceChanged.event;
  readonly onSourceHealthChanged = this.sourceHealthChanged.event;
  readonly onPeerChanged = this.peerChanged.event;
  readonly onPluginFault = this.pluginFault.event;
  readonly onProxyRejected = this.proxyRejected.event;
  readonly onPolicyChanged = this.policyChanged.event;
  readonly onLimitHit = this.limitHit.event;

  dispose(): void {
    for (const e of [
      this.tunnelOpened,
      this.tunnelClosed,
      this.workloadChanged,
      this.dial,
      this.sourceChanged,
      this.sourceHealthChanged,
      this.peerChanged,
      this.pluginFault,
      this.proxyRejected,
      this.policyChanged,
      this.limitHit,
    ])
      e.dispose();
  }
}
