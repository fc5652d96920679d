import 'reflect-metadata';
import type { DependencyContainer } from 'tsyringe';
import type { Event } from '../api/event';
import type { Logger } from '../api/logger';
import type { NodeSettings } from '../api/settings';
import { CapacityProbe } from '../dispatch/capacity-probe';
import { Dispatcher } from '../dispatch/dispatcher';
import { NodeDiscovery } from '../discovery/discovery';
import { LinkPersistence } from '../dispatch/link-store';
import { PolicyManager } from '../dispatch/policies';
import { RuleSet } from '../dispatch/rules';
import { SourceRegistry } from '../dispatch/sources';
import { TunnelTable } from '../dispatch/tunnels';
import { ExtensionHost } from '../extensions/host';
import type { PluginDescription } from '../extensions/manifest';
import { ControlHandler } from '../network/control/control';
import { SourceReporter } from '../network/control/source-report';
import type { Disposable } from '../api/disposable';
import { Endpoint, type CtrlOperation } from '../network/sessions/endpoint';
import { Network } from '../network/peers/network';
import { nodeProxyAccess } from '../proxy/access';
import { ProxyServer } from '../proxy/server';
import type { NetworkKey } from '../security/key';
import { NodeSecurity } from '../security/node-security';
import { NETWORK_KEY } from '../security/tokens';
import { nodeId } from '../wire';
import { PeerWiring } from '../state/peer-wiring';
import type { PeerEntry } from '../state/peer-entry';
import { ConfigReloader } from '../state/config-reloader';
import type { ConfigLayer, ReloadTarget } from '../state/reload';
import type { StateKeeper } from '../state/state-keeper';
import { createNodeContainer } from './container';
import { LimitLog } from '../kernel/limit-log';
import { EventHub } from '../kernel/events';
import { MonitorHost } from './monitors';
import type { Clock } from '../kernel/tokens';

export interface NodeOptions {
  readonly settings: NodeSettings;
  /** The network key (see NodeDependencies). */
  readonly key?: NetworkKey;
  readonly logger: Logger;
  readonly plugins: readonly PluginDescription[];
  readonly clock?: Clock;
  /** Peers to wire at start (the config file's, then the state file's); a peer away is tried again until it answers. */
  readonly peers?: readonly PeerEntry[];
  /** The state file, when the node keeps one (booster start does; a node embedded in a test need not). */
  readonly state?: StateKeeper;
  /** The config the node started from, and how to read it again (booster ctrl reload, SIGHUP). */
  readonly config?: { readonly layer: ConfigLayer; readonly read: () => ConfigLayer };
}

export interface Address {
  readonly host: string;
  readonly port: number;
}

/**
 * One running booster node: plugin host, proxy and (later) booster endpoint,
 * built from a fresh container. `stop()` releases everything it started.
 */
export class BoosterNode {
  private proxy?: ProxyServer;
  private stopped?: Promise<void>;
  private proxyAddr?: Address;
  private endpointAddr?: Address;
  private discovery?: NodeDiscovery;
  private healthLog?: Disposable;
  private wiring?: PeerWiring;
  private reloader?: ConfigReloader;

  private constructor(
    private readonly container: DependencyContainer,
    readonly settings: NodeSettings,
    private readonly log: Logger,
    private readonly options: NodeOptions,
  ) {}

  /** Builds and starts a node; rejects (having released what it started) if it cannot. */
  static async start(options: NodeOptions): Promise<BoosterNode> {
    const container = createNodeContainer(options);
    const node = new BoosterNode(container, options.settings, options.logger, options);
    try {
      await node.boot();
      return node;
    } catch (err) {
      await node.stop();
      throw err;
    }
  }

  /** This node's own id in the 0.3 sense: sha1("localhost" + bport + pport), with the bound ports. */
  get id(): string {
    return nodeId('localhost', this.endpointAddr?.port ?? this.settings.bport, this.proxyAddr?.port ?? this.settings.pport);
  }

  get proxyAddress(): Address {
    if (!this.proxyAddr) throw new Error('node is not listening');
    return this.proxyAddr;
  }

  get endpointAddress(): Address {
    if (!this.endpointAddr) throw new Error('node is not listening');
    return this.endpointAddr;
  }

  /** A client asked this node to stop or restart (booster ctrl). */
  get onCtrl(): Event<CtrlOperation> {
    return this.container.resolve(Endpoint).onCtrl;
  }

  get network(): Network {
    return this.container.resolve(Network);
  }

  get events(): EventHub {
    return this.container.resolve(EventHub);
  }
  get plugins(): ExtensionHost {
    return this.container.resolve(ExtensionHost);
  }
  get policies(): PolicyManager {
    return this.container.resolve(PolicyManager);
  }
  get sources(): SourceRegistry {
    return this.container.resolve(SourceRegistry);
  }
  get tunnels(): TunnelTable {
    return this.container.resolve(TunnelTable);
  }
  get rules(): RuleSet {
    return this.container.resolve(RuleSet);
  }

  private async boot(): Promise<void> {
    const host = this.container.resolve(ExtensionHost);
    await host.activateStartup();
    await this.usePolicy();
    this.container.resolve(SourceRegistry).startSampling();
    this.container.resolve(LinkPersistence).start();
    this.container.resolve(CapacityProbe).start();

    const events = this.container.resolve(EventHub);
    // Ejections, recoveries, peers going down and coming back: one INFO line each, here only.
    const sourcesLog = this.log.child('sources');
    this.healthLog = events.onSourceHealthChanged(({ source, health, reason }) => {
      const what = health === 'healthy' ? 'is back' : health === 'down' ? 'is down' : 'was ejected';
      sourcesLog.info(`source ${source.label} ${what}: ${reason}`, { id: source.id, health });
    });
    this.proxy = new ProxyServer(this.container.resolve(Dispatcher), this.log.child('proxy'), {
      host: this.settings.bind,
      port: this.settings.pport,
      handshakeTimeoutMs: this.settings.handshakeTimeoutMs,
      auth: this.settings.auth,
      access: nodeProxyAccess(this.container.resolve(NodeSecurity), this.settings.openProxy),
      limits: this.settings.limits,
      onLimitHit: (limit, message) => events.limitHit.fire({ limit, message }),
      onRejected: (e) => events.proxyRejected.fire(e),
    });
    this.proxyAddr = await this.proxy.listen();

    const network = this.container.resolve(Network);
    const endpoint = this.container.resolve(Endpoint);
    const wiring = new PeerWiring(network, this.log.child('peers'), this.settings.reconnectMs, this.options.state);
    this.wiring = wiring;
    if (this.options.config) this.reloader = new ConfigReloader(this.options.config.layer, this.options.config.read, this.reloadTarget(wiring), this.log.child('reload'));
    // Filled in once the endpoint is bound (the id hashes the bound ports); no session starts before.
    const identity = { id: '', bport: 0, pport: this.proxyAddr.port };
    this.endpointAddr = await endpoint.listen({
      network,
      tunnels: this.container.resolve(TunnelTable),
      sources: this.container.resolve(SourceRegistry),
      events,
      heartbeatMs: this.settings.heartbeatMs,
      identity,
      control: new ControlHandler(
        this.container.resolve(PolicyManager),
        this.container.resolve(RuleSet),
        new LimitLog(this.log.child('control'), this.settings.limits.limitLogIntervalMs, undefined, (limit, message) => events.limitHit.fire({ limit, message })),
        new SourceReporter(
          this.container.resolve(SourceRegistry),
          this.container.resolve(PolicyManager),
          // Every peer, plus the local sources (direct and each interface address).
          () => this.settings.limits.maxPeers + this.container.resolve(SourceRegistry).localLinks().length,
        ),
        { peers: this.wiring, state: this.options.state, reload: this.options.config ? () => this.reload() : undefined },
      ),
    });
    identity.bport = this.endpointAddr.port;
    identity.id = this.id;
    network.setSelf(this.endpointAddr.port, this.proxyAddr.port);
    this.wiring.wireAll(this.options.peers ?? []);
    this.container.resolve(MonitorHost).start(this.id);
    this.log.info(`proxy listening on ${this.proxyAddr.host}:${this.proxyAddr.port} (SOCKS5, SOCKS4/4a, HTTP; at most ${this.proxy.connectionLimit} connections)`, {
      policy: this.settings.policy,
      sources: this.container.resolve(SourceRegistry).list().map((s) => s.id),
    });
    this.log.info(`booster endpoint listening on ${this.endpointAddr.host}:${this.endpointAddr.port}`, { id: this.id });
    this.discovery = await NodeDiscovery.start(
      { settings: this.settings, key: this.container.resolve(NETWORK_KEY), network, onPeerChanged: events.onPeerChanged, log: this.log.child('discovery') },
      { id: this.id, bport: this.endpointAddr.port, pport: this.proxyAddr.port },
    );
  }

  /**
   * Re-reads the config file and applies what can change at run time (see
   * applyReload); resolves to what changed, in words. A config that cannot be
   * read or used is logged as an error and changes nothing.
   */
  reload(): Promise<string> {
    if (!this.reloader) return Promise.reject(new Error('this node was not started from a config it can read again'));
    return this.reloader.reload();
  }

  /** What a reload may change: policy, rules (replaced as a whole), peers, and the saved policy and rules. */
  private reloadTarget(wiring: PeerWiring): ReloadTarget {
    const rules = this.container.resolve(RuleSet);
    return {
      running: this.settings,
      maxRules: this.settings.limits.maxRules,
      usePolicy: (name) => this.container.resolve(PolicyManager).use(name),
      setRules: (list) => {
        while (rules.list().length > 0) rules.remove(rules.list().length - 1);
        for (const rule of list) rules.add(rule);
      },
      wire: (entry) => wiring.wireAll([entry]),
      unwire: (address) => wiring.unwire(address),
      forgetSaved: async (key) => this.options.state?.forget(key),
    };
  }

  /** The policy the settings name; one saved by `policy use` whose plugin is gone gives way to the config file's. */
  private async usePolicy(): Promise<void> {
    const policies = this.container.resolve(PolicyManager);
    const fallback = this.options.config?.layer.settings.policy;
    try {
      await policies.use(this.settings.policy);
    } catch (err) {
      if (!fallback || fallback === this.settings.policy || this.options.state?.current.policy !== this.settings.policy) throw err;
      this.log.warn(`saved policy ${this.settings.policy} is not available (${(err as Error).message}); using ${fallback} from the config`);
      await policies.use(fallback);
    }
  }

  /** Stops accepting, lets open tunnels drain (bounded), deactivates plugins, releases everything. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.wiring?.dispose();
      await this.discovery?.stop(); // goodbye on the LAN before the endpoint closes
      this.container.resolve(Endpoint).dispose();
      this.container.resolve(Network).dispose();
      // Estimates are saved before the drain: a process killed while draining keeps them.
      await this.container.resolve(CapacityProbe).dispose();
      await this.container.resolve(LinkPersistence).stop();
      if (this.proxy) await this.proxy.close(this.settings.drainTimeoutMs);
      this.container.resolve(MonitorHost).dispose();
      await this.container.resolve(ExtensionHost).deactivateAll();
      this.healthLog?.dispose();
      this.container.resolve(SourceRegistry).dispose();
      this.container.resolve(EventHub).dispose();
      await this.options.state?.flush();
      await this.container.dispose();
    })();
    return this.stopped;
  }
}
