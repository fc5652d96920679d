import type { NodeSettings } from '../api/settings';
import type { NodeConfig } from './node-config';

/** Where an effective setting came from. */
export type SettingOrigin = 'default' | 'config file' | 'state file' | 'command line';

export interface EffectiveConfig {
  readonly configFile?: string;
  readonly stateFile: string;
  /** What the node would run with, secrets redacted. */
  readonly settings: Record<string, unknown>;
  readonly origins: Record<string, SettingOrigin>;
  readonly peers: readonly { readonly address: string; readonly name?: string; readonly origin: SettingOrigin }[];
  /** Where the network key comes from, if the config file names it (the key itself is never shown). */
  readonly key?: string;
}

const REDACTED = '(redacted)';

/** Option names whose values are secrets, wherever they sit (auth.password, a plugin's token...). */
const SECRET_NAME = /pass(word)?|secret|token|credential|^key$|apikey|private/i;

/** `value` with every secret-named field replaced, and any password in a URL ("http://user:pw@host") removed. */
function redact(value: unknown, name = ''): unknown {
  if (name && SECRET_NAME.test(name) && value !== undefined && value !== null && value !== '') return REDACTED;
  if (typeof value === 'string') return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@\s]*):[^/@\s]*@/i, `$1:${REDACTED}@`);
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  return value;
}

/** The settings a node would start with (defaults, config file, state file, command line), where each came from, secrets redacted. */
export function effectiveConfig(config: NodeConfig, overrides: Partial<NodeSettings>): EffectiveConfig {
  const origins: Record<string, SettingOrigin> = {};
  const fromFile = config.file?.settings ?? {};
  for (const key of Object.keys(config.settings)) {
    const flagged = (overrides as Record<string, unknown>)[key] !== undefined;
    const saved = (key === 'policy' && config.state.policy !== undefined) || (key === 'rules' && config.state.rules !== undefined);
    origins[key] = flagged ? 'command line' : saved ? 'state file' : key in fromFile ? 'config file' : 'default';
  }
  const fromConfig = new Set((config.file?.peers ?? []).map((p) => p.address));
  const key =
    config.file?.key !== undefined
      ? `the config file's "key" (${REDACTED})`
      : config.file?.keyFile !== undefined
        ? `the config file's "keyFile": ${config.file.keyFile}`
        : undefined;
  return {
    ...(config.configFile ? { configFile: config.configFile } : {}),
    stateFile: config.stateFile,
    settings: redact(config.settings) as Record<string, unknown>,
    origins,
    peers: config.peers.map((p) => ({ ...p, origin: fromConfig.has(p.address) ? 'config file' : 'state file' })),
    ...(key ? { key } : {}),
  };
}

/** One line per setting: "policy  round-robin  (state file)". */
export function renderEffectiveConfig(view: EffectiveConfig): string[] {
  const lines = [`config file: ${view.configFile ?? '(none)'}`, `state file: ${view.stateFile}`];
  if (view.key) lines.push(`network key: from ${view.key}`);
  const width = Math.max(...Object.keys(view.settings).map((k) => k.length));
  for (const [k, v] of Object.entries(view.settings)) lines.push(`${k.padEnd(width)}  ${JSON.stringify(v)}  (${view.origins[k] ?? 'default'})`);
  lines.push(view.peers.length ? 'peers:' : 'peers: none');
  for (const p of view.peers) lines.push(`  ${p.address}${p.name ? ` as ${p.name}` : ''}  (${p.origin})`);
  return lines;
}
