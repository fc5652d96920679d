import type { Config } from '@oclif/core';
import type { Transport } from '../api/transport';
import { resolveSettings } from '../core/config';
import { SourceRegistry } from '../dispatch/sources';
import { discoverPlugins } from '../extensions/discovery';
import { Contributions, ExtensionHost } from '../extensions/host';
import { ActivatingRegistry } from '../extensions/registries';
import { EventHub } from '../kernel/events';
import { silentLogger } from '../kernel/logger';
import { systemClock } from '../kernel/tokens';
import { NetworkKey } from '../security/key';
import { NodeSecurity } from '../security/node-security';

/**
 * The transport a CLI command talks to a node over, contributed by a plugin
 * like everything else. Only the plugin host is built (no node, no
 * container), and only the plugin that declares transport `id` is activated.
 */
export async function cliTransport(config: Config, id = 'tcp', key?: NetworkKey): Promise<Transport> {
  const settings = resolveSettings({ transport: id });
  const events = new EventHub();
  const contributions = new Contributions();
  // A transport plugin may secure its streams with the key; without one, a random key pairs with nobody.
  const security = new NodeSecurity(key ?? NetworkKey.generate('ephemeral'), settings);
  const host = new ExtensionHost(
    discoverPlugins(config),
    settings,
    silentLogger,
    contributions,
    new SourceRegistry(events, systemClock, settings),
    events,
    security,
  );
  const transport = await new ActivatingRegistry(contributions.transports, host).load(id);
  if (!transport) throw new Error(`no plugin provides transport "${id}" (see "booster plugins")`);
  return transport;
}
