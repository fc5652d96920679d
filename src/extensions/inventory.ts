import type { Config } from '@oclif/core';
import type { ContributionKind } from '../api/plugin';
import { discoverPlugins } from './discovery';
import { validatePlugin, type PluginDescription, type ValidatedPlugin } from './manifest';

export type PluginStatus = 'inactive' | 'active' | 'failed' | 'invalid';

/** What `booster plugins` shows about one plugin. */
export interface PluginState {
  readonly name: string;
  readonly version: string;
  readonly root: string;
  readonly origin: PluginDescription['origin'];
  readonly status: PluginStatus;
  readonly contributes: { readonly [K in ContributionKind]?: readonly string[] };
  readonly activationEvents: readonly string[];
  readonly error?: string;
}

export interface InspectedPlugin {
  readonly plugin: ValidatedPlugin;
  /** Why the plugin cannot be used (invalid manifest, or a contribution id another plugin already declares). */
  readonly error?: string;
}

/** Validates every plugin, and refuses one that declares an id an earlier plugin already declares. */
export function inspectPlugins(descriptions: readonly PluginDescription[]): InspectedPlugin[] {
  const declaredBy = new Map<string, string>();
  return descriptions.map((description) => {
    const plugin = validatePlugin(description);
    if (!plugin.ok) return { plugin, error: plugin.error };
    const declared = declaredContributions(plugin);
    const clash = declared.find(([kind, id]) => declaredBy.has(`${kind}:${id}`));
    if (clash) {
      return { plugin, error: `contributes ${clash[0]} id "${clash[1]}", already contributed by ${declaredBy.get(`${clash[0]}:${clash[1]}`)}` };
    }
    for (const [kind, id] of declared) declaredBy.set(`${kind}:${id}`, description.name);
    return { plugin };
  });
}

export function declaredContributions(plugin: ValidatedPlugin): [ContributionKind, string][] {
  if (!plugin.ok) return [];
  return Object.entries(plugin.manifest.contributes).flatMap(([kind, list]) =>
    (list ?? []).map((c) => [kind as ContributionKind, c.id] as [ContributionKind, string]),
  );
}

export function pluginState(inspected: InspectedPlugin, status: PluginStatus, error?: string): PluginState {
  const { plugin } = inspected;
  return {
    name: plugin.description.name,
    version: plugin.description.version,
    root: plugin.description.root,
    origin: plugin.description.origin,
    status,
    error,
    contributes: plugin.ok ? Object.fromEntries(Object.entries(plugin.manifest.contributes).map(([k, list]) => [k, (list ?? []).map((c) => c.id)])) : {},
    activationEvents: plugin.ok ? plugin.manifest.activationEvents : [],
  };
}

/** Lists the plugins oclif knows, validated but not run. */
export function describePlugins(config: Pick<Config, 'getPluginsList'>): PluginState[] {
  return inspectPlugins(discoverPlugins(config)).map((i) => pluginState(i, i.error ? 'invalid' : 'inactive', i.error));
}
