import type { Config } from '@oclif/core';
import type { Transport } from '../api/transport';
import { resolveSettings } from '../core/config';
import { createNodeContainer } from '../core/container';
import { silentLogger } from '../kernel/logger';
import { Contributions, ExtensionHost } from '../extensions/host';
import { discoverPlugins } from '../extensions/discovery';
import type { NetworkKey } from '../security/key';

/** The transport a CLI command talks to a node over, contributed by a plugin like everything else. */
export async function cliTransport(config: Config, id = 'tcp', key?: NetworkKey): Promise<Transport> {
  const container = createNodeContainer({ settings: resolveSettings({ transport: id }), logger: silentLogger, plugins: discoverPlugins(config), key });
  const host = container.resolve(ExtensionHost);
  if (!(await host.activateContribution('transports', id))) {
    throw new Error(`no plugin provides transport "${id}" (see "booster plugins")`);
  }
  return container.resolve(Contributions).transports.get(id)!;
}
