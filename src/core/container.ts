import 'reflect-metadata';
import { container as rootContainer, injectable, type DependencyContainer } from 'tsyringe';
import type { Logger } from '../api/logger';
import type { NodeSettings } from '../api/settings';
import { CapacityProbe } from '../dispatch/capacity-probe';
import { Dispatcher } from '../dispatch/dispatcher';
import { LinkPersistence } from '../dispatch/link-store';
import { PolicyManager } from '../dispatch/policies';
import { RuleSet } from '../dispatch/rules';
import { SourceRegistry } from '../dispatch/sources';
import { TunnelTable } from '../dispatch/tunnels';
import { Contributions, ExtensionHost } from '../extensions/host';
import type { PluginDescription } from '../extensions/manifest';
import { ActivatingRegistry } from '../extensions/registries';
import type { Dialer } from '../api/dialer';
import type { PolicyFactory } from '../api/policy';
import type { Transport } from '../api/transport';
import { PLUGIN_DESCRIPTIONS } from '../extensions/tokens';
import { NETWORK_KEY } from '../security/tokens';
import { Endpoint } from '../network/sessions/endpoint';
import { NetworkKey } from '../security/key';
import { NodeSecurity } from '../security/node-security';
import { Network } from '../network/peers/network';
import { EventHub } from '../kernel/events';
import { MonitorHost } from './monitors';
import { systemClock, TOKENS, type Clock } from '../kernel/tokens';
import { ControlHandler } from '../network/control/control';
import { SourceReporter } from '../network/control/source-report';
import { NodeDiscovery } from '../discovery/discovery';
import { ProxyServer } from '../proxy/server';
import { PeerWiring } from '../state/peer-wiring';
import { NodeRuntime } from './runtime';
import { NODE_RUN, NodeControlHandler, NodePeerWiring, NodeProxyServer, NodeReload, NodeSourceReporter, type NodeRun } from './wiring';

/** Registries over the plugins' contributions, one per kind: dispatch and the network see these, never ExtensionHost. */
@injectable()
class DialerRegistry extends ActivatingRegistry<Dialer> {
  constructor(all: Contributions, host: ExtensionHost) {
    super(all.dialers, host);
  }
}
@injectable()
class PolicyRegistry extends ActivatingRegistry<PolicyFactory> {
  constructor(all: Contributions, host: ExtensionHost) {
    super(all.policies, host);
  }
}
@injectable()
class TransportRegistry extends ActivatingRegistry<Transport> {
  constructor(all: Contributions, host: ExtensionHost) {
    super(all.transports, host);
  }
}

export interface NodeDependencies extends NodeRun {
  readonly settings: NodeSettings;
  /** The network key; a node without one gets a random key of its own (it can then pair with nobody). */
  readonly key?: NetworkKey;
  readonly logger: Logger;
  readonly plugins: readonly PluginDescription[];
  readonly clock?: Clock;
}

/**
 * The composition root: one child container per node run, so a restart (or a
 * test) gets fresh singletons. Every service is built by constructor
 * injection; the node resolves only the root, NodeRuntime (composeNode).
 * Nothing else in src calls `resolve` (test/architecture/resolve.test.ts).
 */
export function createNodeContainer(deps: NodeDependencies, parent: DependencyContainer = rootContainer): DependencyContainer {
  const c = parent.createChildContainer();
  c.register(TOKENS.Settings, { useValue: deps.settings });
  c.register(TOKENS.Logger, { useValue: deps.logger });
  c.register(PLUGIN_DESCRIPTIONS, { useValue: deps.plugins });
  c.register(TOKENS.Clock, { useValue: deps.clock ?? systemClock });
  c.register(NETWORK_KEY, { useValue: deps.key ?? NetworkKey.generate('ephemeral') });
  c.register(NODE_RUN, { useValue: { peers: deps.peers, state: deps.state, config: deps.config } satisfies NodeRun });
  c.register(TOKENS.Sources, { useToken: SourceRegistry });
  c.register(TOKENS.Dialers, { useToken: DialerRegistry });
  c.register(TOKENS.Policies, { useToken: PolicyRegistry });
  c.register(TOKENS.Transports, { useToken: TransportRegistry });
  // Built now, so rules over the limits stop the node before it listens.
  c.register(RuleSet, { useValue: new RuleSet(deps.settings.rules, deps.settings.limits) });
  for (const singleton of [
    EventHub,
    SourceRegistry,
    TunnelTable,
    Contributions,
    ExtensionHost,
    DialerRegistry,
    PolicyRegistry,
    TransportRegistry,
    PolicyManager,
    Dispatcher,
    LinkPersistence,
    CapacityProbe,
    MonitorHost,
    Network,
    Endpoint,
    NodeSecurity,
    NodeReload,
    NodeDiscovery,
    NodeRuntime,
  ]) {
    c.registerSingleton(singleton as new (...args: never[]) => unknown);
  }
  // The lower layers' classes, built from the node's settings (src/core/wiring.ts).
  c.registerSingleton(ProxyServer, NodeProxyServer);
  c.registerSingleton(SourceReporter, NodeSourceReporter);
  c.registerSingleton(PeerWiring, NodePeerWiring);
  c.registerSingleton(ControlHandler, NodeControlHandler);
  return c;
}

/** Builds a node's whole object graph in a fresh container: the one `resolve` in src. */
export function composeNode(deps: NodeDependencies, parent: DependencyContainer = rootContainer): { container: DependencyContainer; runtime: NodeRuntime } {
  const container = createNodeContainer(deps, parent);
  try {
    return { container, runtime: container.resolve(NodeRuntime) };
  } catch (err) {
    void container.dispose();
    throw err;
  }
}
