import 'reflect-metadata';
import { container as rootContainer, instanceCachingFactory, type DependencyContainer } from 'tsyringe';
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
import type { ContributionRegistry } from '../extensions/contributions';
import { ActivatingRegistry } from '../extensions/registries';
import type { Registry } from '../kernel/registry';
import { PLUGIN_DESCRIPTIONS } from '../extensions/tokens';
import { NETWORK_KEY } from '../security/tokens';
import { Endpoint } from '../network/sessions/endpoint';
import { NetworkKey } from '../security/key';
import { NodeSecurity } from '../security/node-security';
import { Network } from '../network/peers/network';
import { EventHub } from '../kernel/events';
import { MonitorHost } from './monitors';
import { systemClock, TOKENS, type Clock } from '../kernel/tokens';

export interface NodeDependencies {
  readonly settings: NodeSettings;
  /** The network key; a node without one gets a random key of its own (it can then pair with nobody). */
  readonly key?: NetworkKey;
  readonly logger: Logger;
  readonly plugins: readonly PluginDescription[];
  readonly clock?: Clock;
}

/**
 * The composition root: one child container per node run, so a restart (or a
 * test) gets fresh singletons. Nothing else calls `resolve`.
 */
export function createNodeContainer(deps: NodeDependencies, parent: DependencyContainer = rootContainer): DependencyContainer {
  const c = parent.createChildContainer();
  c.register(TOKENS.Settings, { useValue: deps.settings });
  c.register(TOKENS.Logger, { useValue: deps.logger });
  c.register(PLUGIN_DESCRIPTIONS, { useValue: deps.plugins });
  c.register(TOKENS.Clock, { useValue: deps.clock ?? systemClock });
  c.register(NETWORK_KEY, { useValue: deps.key ?? NetworkKey.generate('ephemeral') });
  c.register(TOKENS.Sources, { useToken: SourceRegistry });
  // Registries over the plugins' contributions: dispatch and the network see these, never ExtensionHost.
  const registry = <T>(kind: (all: Contributions) => ContributionRegistry<T>) =>
    instanceCachingFactory<Registry<T>>((r) => new ActivatingRegistry(kind(r.resolve(Contributions)), r.resolve(ExtensionHost)));
  c.register(TOKENS.Dialers, { useFactory: registry((all) => all.dialers) });
  c.register(TOKENS.Policies, { useFactory: registry((all) => all.policies) });
  c.register(TOKENS.Transports, { useFactory: registry((all) => all.transports) });
  // Built now, so rules over the limits stop the node before it listens.
  c.register(RuleSet, { useValue: new RuleSet(deps.settings.rules, deps.settings.limits) });
  for (const singleton of [EventHub, SourceRegistry, TunnelTable, Contributions, ExtensionHost, PolicyManager, Dispatcher, LinkPersistence, CapacityProbe, MonitorHost, Network, Endpoint, NodeSecurity]) {
    c.registerSingleton(singleton as new (...args: never[]) => unknown);
  }
  return c;
}
