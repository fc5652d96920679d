import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import type { Disposable } from '../api/disposable';
import type { Logger } from '../api/logger';
import type { Monitor, MonitorApi, PeerInfo, PolicyView, SourceStateView } from '../api/monitor';
import type { NodeSettings } from '../api/settings';
import { PolicyManager } from '../dispatch/policies';
import { RuleSet } from '../dispatch/rules';
import { SourceRegistry } from '../dispatch/sources';
import { TunnelTable } from '../dispatch/tunnels';
import { Contributions } from '../extensions/host';
import { Network } from '../network/peers/network';
import { EventHub } from '../kernel/events';
import { TOKENS } from '../kernel/tokens';

/** Starts every registered monitor (now and as plugins register more) and stops it when unregistered. */
@injectable()
export class MonitorHost implements Disposable {
  private readonly running = new Map<string, Promise<Disposable | undefined>>();
  private subscription?: Disposable;
  private readonly log: Logger;

  constructor(
    private readonly contributions: Contributions,
    private readonly events: EventHub,
    private readonly tunnels: TunnelTable,
    private readonly sources: SourceRegistry,
    private readonly network: Network,
    private readonly policies: PolicyManager,
    private readonly ruleSet: RuleSet,
    @inject(TOKENS.Settings) private readonly settings: NodeSettings,
    @inject(TOKENS.Logger) logger: Logger,
  ) {
    this.log = logger.child('monitors');
  }

  start(nodeId: string): void {
    const api: MonitorApi = {
      ...pickEvents(this.events),
      nodeId,
      tunnels: () => this.tunnels.list(),
      workload: () => this.tunnels.workload(),
      sources: () => this.sources.list(),
      peers: () => this.peers(),
      policy: () => this.policy(),
      rules: () => [...this.ruleSet.list()],
      sourceState: (id) => this.sourceState(id),
      usePolicy: (name) => this.usePolicy(name),
    };
    const launch = (id: string) => {
      const monitor = this.contributions.monitors.get(id);
      if (monitor && !this.running.has(id)) this.running.set(id, this.launch(monitor, api));
    };
    this.contributions.monitors.ids().forEach(launch);
    this.subscription = this.contributions.monitors.onDidChange(({ id, change }) => {
      if (change === 'registered') launch(id);
      else void this.stop(id);
    });
  }

  dispose(): void {
    this.subscription?.dispose();
    for (const id of [...this.running.keys()]) void this.stop(id);
  }

  private peers(): PeerInfo[] {
    return this.network.list().map((p) => {
      const rttMs = p.state === 'up' ? p.rttMs : undefined;
      return {
        id: p.id,
        baddr: p.baddr,
        paddr: p.paddr,
        state: p.state,
        tunnels: p.workload.total,
        ...(rttMs === undefined ? {} : { rttMs }),
      };
    });
  }

  private sourceState(id: string): SourceStateView | undefined {
    const source = this.sources.get(id);
    const detail = this.sources.healthDetail(id);
    if (!source || !detail) return undefined;
    const health = source.stats.health;
    if (health === 'healthy') return { state: detail.probing ? 'probing' : 'up', reason: detail.probing ? detail.reason : '' };
    if (health === 'ejected') return { state: 'ejected', reason: detail.reason, ejectedUntil: Date.now() + detail.ejectedForMs };
    return { state: 'down', reason: detail.reason };
  }

  /** The path `booster policy use` takes (PolicyManager.use fires onPolicyChanged); unknown names are refused before it. */
  private async usePolicy(name: string): Promise<void> {
    if (typeof name !== 'string' || !this.policies.available().includes(name)) {
      throw new Error(`unknown policy ${JSON.stringify(String(name).slice(0, 64))} (available: ${this.policies.available().join(', ')})`);
    }
    const previous = this.policies.current;
    await this.policies.use(name);
    if (previous !== name) this.log.info(`policy is now ${name} (was ${previous ?? 'none'}), switched by a monitor`, { policy: name, previous });
  }

  private policy(): PolicyView {
    return {
      current: this.policies.current,
      fallback: this.settings.fallbackPolicy,
      available: this.policies.available(),
      faults: Object.fromEntries(this.policies.faults),
    };
  }

  private async launch(monitor: Monitor, api: MonitorApi): Promise<Disposable | undefined> {
    try {
      return await monitor.start(api);
    } catch (err) {
      const owner = this.contributions.monitors.ownerOf(monitor.id) ?? monitor.id;
      this.log.error(`monitor ${monitor.id} failed to start: ${(err as Error).message}`);
      this.events.pluginFault.fire({ plugin: owner, contribution: `monitors:${monitor.id}`, message: `start failed: ${(err as Error).message}` });
      return undefined;
    }
  }

  private async stop(id: string): Promise<void> {
    const running = this.running.get(id);
    this.running.delete(id);
    (await running)?.dispose();
  }
}

function pickEvents(e: EventHub) {
  return {
    onTunnelOpened: e.onTunnelOpened,
    onTunnelClosed: e.onTunnelClosed,
    onWorkloadChanged: e.onWorkloadChanged,
    onDial: e.onDial,
    onSourceChanged: e.onSourceChanged,
    onSourceHealthChanged: e.onSourceHealthChanged,
    onPeerChanged: e.onPeerChanged,
    onPluginFault: e.onPluginFault,
    onProxyRejected: e.onProxyRejected,
    onPolicyChanged: e.onPolicyChanged,
    onLimitHit: e.onLimitHit,
  };
}
