import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import type { Disposable } from '../api/disposable';
import type { Logger } from '../api/logger';
import type { NodeSettings } from '../api/settings';
import { CapacityProbe } from '../dispatch/capacity-probe';
import { LinkPersistence } from '../dispatch/link-store';
import { PolicyManager } from '../dispatch/policies';
import { RuleSet } from '../dispatch/rules';
import { SourceRegistry } from '../dispatch/sources';
import { TunnelTable } from '../dispatch/tunnels';
import { NodeDiscovery } from '../discovery/discovery';
import { ExtensionHost } from '../extensions/host';
import { EventHub } from '../kernel/events';
import { TOKENS } from '../kernel/tokens';
import { Network } from '../network/peers/network';
import { Endpoint } from '../network/sessions/endpoint';
import { ProxyServer } from '../proxy/server';
import { PeerWiring } from '../state/peer-wiring';
import { nodeId } from '../wire';
import { MonitorHost } from './monitors';
import { NODE_RUN, NodeReload, type NodeRun } from './wiring';

export interface Address {
  readonly host: string;
  readonly port: number;
}

/**
 * The root of a node's object graph (the one thing the composition root
 * resolves): it receives every long-lived service through its constructor
 * and owns their order of starting and stopping. It builds nothing itself.
 */
@injectable()
export class NodeRuntime {
  private proxyAddr?: Address;
  private endpointAddr?: Address;
  private healthLog?: Disposable;
  private readonly log: Logger;

  constructor(
    @inject(TOKENS.Settings) readonly settings: NodeSettings,
    @inject(TOKENS.Logger) logger: Logger,
    @inject(NODE_RUN) private readonly run: NodeRun,
    readonly events: EventHub,
    readonly plugins: ExtensionHost,
    readonly policies: PolicyManager,
    readonly sources: SourceRegistry,
    readonly tunnels: TunnelTable,
    readonly rules: RuleSet,
    readonly network: Network,
    readonly endpoint: Endpoint,
    readonly proxy: ProxyServer,
    private readonly links: LinkPersistence,
    private readonly capacity: CapacityProbe,
    private readonly monitors: MonitorHost,
    private readonly wiring: PeerWiring,
    private readonly reloader: NodeReload,
    private readonly discovery: NodeDiscovery,
  ) {
    this.log = logger;
  }

  /** This node's own id in the 0.3 sense: sha1("localhost" + bport + pport), with the bound ports. */
  get id(): string {
    return nodeId('localhost', this.endpointAddr?.port ?? this.settings.bport, this.proxyAddr?.port ?? this.settings.pport);
  }

  get proxyAddress(): Address | undefined {
    return this.proxyAddr;
  }

  get endpointAddress(): Address | undefined {
    return this.endpointAddr;
  }

  /** Activates the startup plugins, binds pport and bport, wires the peers, starts monitors and discovery. */
  async boot(): Promise<void> {
    await this.plugins.activateStartup();
    await this.usePolicy();
    this.sources.startSampling();
    this.links.start();
    this.capacity.start();

    // Ejections, recoveries, peers going down and coming back: one INFO line each, here only.
    const sourcesLog = this.log.child('sources');
    this.healthLog = this.events.onSourceHealthChanged(({ source, health, reason }) => {
      const what = health === 'healthy' ? 'is back' : health === 'down' ? 'is down' : 'was ejected';
      sourcesLog.info(`source ${source.label} ${what}: ${reason}`, { id: source.id, health });
    });
    this.proxyAddr = await this.proxy.listen();

    // Filled in once the endpoint is bound (the id hashes the bound ports); no session starts before.
    const identity = { id: '', bport: 0, pport: this.proxyAddr.port };
    this.endpointAddr = await this.endpoint.listen(identity);
    identity.bport = this.endpointAddr.port;
    identity.id = this.id;
    this.network.setSelf(this.endpointAddr.port, this.proxyAddr.port);
    this.wiring.wireAll(this.run.peers ?? []);
    this.monitors.start(this.id);
    this.log.info(
      `proxy listening on ${this.proxyAddr.host}:${this.proxyAddr.port} (SOCKS5, SOCKS4/4a, HTTP; at most ${this.proxy.connectionLimit} connections)`,
      {
        policy: this.settings.policy,
        sources: this.sources.list().map((s) => s.id),
      },
    );
    this.log.info(`booster endpoint listening on ${this.endpointAddr.host}:${this.endpointAddr.port}`, { id: this.id });
    await this.discovery.start({ id: this.id, bport: this.endpointAddr.port, pport: this.proxyAddr.port });
  }

  /** Re-reads the config file (see NodeReload); rejects if the node was not started from one. */
  reload(): Promise<string> {
    return this.reloader.reload();
  }

  /** The policy the settings name; one saved by `policy use` whose plugin is gone gives way to the config file's. */
  private async usePolicy(): Promise<void> {
    const fallback = this.run.config?.layer.settings.policy;
    try {
      await this.policies.use(this.settings.policy);
    } catch (err) {
      if (!fallback || fallback === this.settings.policy || this.run.state?.current.policy !== this.settings.policy) throw err;
      this.log.warn(`saved policy ${this.settings.policy} is not available (${(err as Error).message}); using ${fallback} from the config`);
      await this.policies.use(fallback);
    }
  }

  /** Stops accepting, lets open tunnels drain (bounded), deactivates plugins, releases everything; safe after a failed boot. */
  async stop(): Promise<void> {
    this.wiring.dispose();
    await this.discovery.stop(); // goodbye on the LAN before the endpoint closes
    this.endpoint.dispose();
    this.network.dispose();
    // Estimates are saved before the drain: a process killed while draining keeps them.
    await this.capacity.dispose();
    await this.links.stop();
    if (this.proxyAddr) await this.proxy.close(this.settings.drainTimeoutMs);
    this.monitors.dispose();
    await this.plugins.deactivateAll();
    this.healthLog?.dispose();
    this.sources.dispose();
    this.events.dispose();
    await this.run.state?.flush();
  }
}
