import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NodeSettings } from '../api/settings';
import { readConfigFile, resolveSettings, type ConfigFile } from '../core/config';
import { configFileIn, defaultDataDir } from '../kernel/data-dir';
import type { PeerEntry } from '../state/peer-entry';
import type { ConfigLayer } from '../state/reload';
import { EMPTY_STATE, readStateFile, stateFileIn, type NodeState } from '../state/state-file';

/** Where a node's settings come from (`booster start`, `booster config show`). */
export interface ConfigSources {
  readonly configFile?: string;
  /** Settings from the command line's flags. */
  readonly overrides: Partial<NodeSettings>;
}

export interface NodeConfig {
  /** The config file read, if any (see configFilePath). */
  readonly configFile?: string;
  readonly file?: ConfigFile;
  /** The config file and flags alone (what a reload compares). */
  readonly layer: ConfigLayer;
  readonly stateFile: string;
  readonly state: NodeState;
  /** What the node runs with. */
  readonly settings: NodeSettings;
  /** The config file's peers, then the state file's (one entry per address). */
  readonly peers: readonly PeerEntry[];
}

/** --config, else DIR/config.json when it exists (DIR: --data-dir or the default data directory), else none. */
function configFilePath(sources: ConfigSources): string | undefined {
  if (sources.configFile) return sources.configFile;
  const implicit = configFileIn(path.resolve(sources.overrides.dataDir ?? defaultDataDir()));
  return fs.existsSync(implicit) ? implicit : undefined;
}

/** The config file and flags, validated; throws a ConfigError. */
export function readConfigLayer(sources: ConfigSources): { configFile?: string; file?: ConfigFile; layer: ConfigLayer } {
  const configFile = configFilePath(sources);
  const file = configFile ? readConfigFile(configFile) : undefined;
  return { configFile, file, layer: { settings: resolveSettings(file?.settings ?? {}, sources.overrides), peers: file?.peers ?? [] } };
}

/**
 * Settings in order of precedence, lowest first: defaults, the config file,
 * the state file (what `policy use`, `policy rules` and `connect` saved), the
 * command line. A restart within the process (`ctrl restart`) puts the state
 * file above the command line, so it comes back as it was left.
 * A state file that cannot be used is one warning (and kept aside as
 * state.json.bad): the node starts from its config.
 */
export function loadNodeConfig(sources: ConfigSources, restarted: boolean, warn: (message: string) => void, keepAside = true): NodeConfig {
  const { configFile, file, layer } = readConfigLayer(sources);
  const stateFile = stateFileIn(path.resolve(layer.settings.dataDir));
  let state: NodeState;
  try {
    state = readStateFile(stateFile, layer.settings.limits);
  } catch (err) {
    state = EMPTY_STATE;
    const aside = `${stateFile}.bad`;
    let kept = false;
    if (keepAside) {
      try {
        fs.copyFileSync(stateFile, aside);
        kept = true;
      } catch {
        // Nothing to keep aside (unreadable): the warning says why.
      }
    }
    warn(`ignoring the saved state (peers, policy, rules): ${(err as Error).message.slice(0, 300)}${kept ? `; kept a copy as ${aside}` : ''}`);
  }
  const saved: Partial<NodeSettings> = { ...(state.policy !== undefined ? { policy: state.policy } : {}), ...(state.rules ? { rules: state.rules } : {}) };
  const fileSettings = file?.settings ?? {};
  const settings = restarted ? resolveSettings(fileSettings, sources.overrides, saved) : resolveSettings(fileSettings, saved, sources.overrides);
  const seen = new Set(layer.peers.map((p) => p.address));
  const peers = [...layer.peers, ...state.peers.filter((p) => !seen.has(p.address))];
  return { configFile, file, layer, stateFile, state, settings, peers };
}
