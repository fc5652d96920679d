import type { Config } from '@oclif/core';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isBoosterPlugin, type PluginDescription } from './manifest';

/** The package root of booster itself (holds package.json and plugins/). */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * Every plugin oclif knows (built-ins listed in package.json `oclif.plugins`,
 * installed and linked ones alike) whose package.json has a `booster` block.
 * This is the one discovery path: nothing special-cases a built-in.
 */
export function discoverPlugins(config: Pick<Config, 'getPluginsList'>): PluginDescription[] {
  return config
    .getPluginsList()
    .filter((p) => isBoosterPlugin(p.pjson as unknown as Record<string, unknown>))
    .map((p) => ({
      name: p.name,
      version: p.version,
      root: realRoot(p.root),
      origin: p.type === 'user' ? 'user' : p.type === 'link' ? 'link' : 'core',
      packageJson: p.pjson,
    }));
}

/** Loads oclif's configuration for booster (as the CLI does) and discovers its plugins. */
export async function discoverInstalledPlugins(root = PACKAGE_ROOT): Promise<PluginDescription[]> {
  const { Config } = await import('@oclif/core');
  return discoverPlugins(await Config.load(root));
}

/** Workspace and linked plugins are symlinks; their entry paths are relative to the real folder. */
function realRoot(root: string): string {
  try {
    return fs.realpathSync(root);
  } catch {
    return root;
  }
}
