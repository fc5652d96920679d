import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
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
import { Endpoint } from '../network/endpoint';
import { NetworkKey } from '../security/key';
import { NodeSecurity } from '../security/node-security';
import { Network } from '../network/network';
import { EventHub } from './events';
import { MonitorHost } from './monitors';
import { systemClock, TOKENS, type Clock } from './tokens';

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
  c.register(TOKENS.PluginDescriptions, { useValue: deps.plugins });
  c.register(TOKENS.Clock, { useValue: deps.clock ?? systemClock });
  c.register(TOKENS.NetworkKey, { useValue: deps.key ?? NetworkKey.generate('ephemeral') });
  // Built now, so rules over the limits stop the node before it listens.
  c.register(RuleSet, { useValue: new RuleSet(deps.settings.rules, deps.settings.limits) });
  for (const singleton of [EventHub, SourceRegistry, TunnelTable, Contributions, ExtensionHost, PolicyManager, Dispatcher, LinkPersistence, CapacityProbe, MonitorHost, Network, Endpoint, NodeSecurity]) {
    c.registerSingleton(singleton as new (...args: never[]) => unknown);
  }
  return c;
}
