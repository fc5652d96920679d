import * as fs from 'node:fs';
import type { NodeSettings } from '../api/settings';
import { validateRule } from '../dispatch/rules';

export const DEFAULT_SETTINGS: NodeSettings = {
  pport: 1080,
  bport: 4884,
  bind: '0.0.0.0',
  policy: 'least-busy',
  fallbackPolicy: 'least-busy',
  interfaces: [],
  rules: [],
  handshakeTimeoutMs: 10_000,
  dialTimeoutMs: 10_000,
  drainTimeoutMs: 5_000,
  heartbeatMs: 1_000,
  reconnectMs: 1_000,
  policyDeadlineMs: 5,
  transport: 'tcp',
  plugins: {},
  policyOptions: {},
};

/** A setting that cannot be used; says which and why. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const NUMERIC: (keyof NodeSettings)[] = ['handshakeTimeoutMs', 'dialTimeoutMs', 'drainTimeoutMs', 'heartbeatMs', 'reconnectMs', 'policyDeadlineMs'];

/** Reads a JSON config file; its keys are NodeSettings' (unknown keys are an error, to catch typos). */
export function readConfigFile(file: string): Partial<NodeSettings> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`config file ${file} must hold a JSON object`);
  for (const key of Object.keys(raw)) {
    if (!(key in DEFAULT_SETTINGS) && key !== 'auth') {
      throw new ConfigError(`config file ${file}: unknown setting "${key}" (known: ${[...Object.keys(DEFAULT_SETTINGS), 'auth'].join(', ')})`);
    }
  }
  return raw as Partial<NodeSettings>;
}

/** Defaults, then the config file, then flags; validated. */
export function resolveSettings(...layers: Partial<NodeSettings>[]): NodeSettings {
  const merged = { ...DEFAULT_SETTINGS } as Record<string, unknown>;
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) merged[k] = v;
  }
  const s = merged as unknown as NodeSettings;
  checkPort('pport', s.pport);
  checkPort('bport', s.bport);
  for (const key of NUMERIC) {
    const v = s[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ConfigError(`${key} must be a positive number of milliseconds, got ${JSON.stringify(v)}`);
  }
  if (typeof s.bind !== 'string' || s.bind.length === 0) throw new ConfigError('bind must be an address such as 127.0.0.1 or 0.0.0.0');
  if (typeof s.policy !== 'string' || s.policy.length === 0) throw new ConfigError('policy must be a policy name');
  if (!Array.isArray(s.interfaces)) throw new ConfigError('interfaces must be a list of interface names or addresses, or ["auto"]');
  if (!Array.isArray(s.rules)) throw new ConfigError('rules must be a list');
  let rules;
  try {
    rules = s.rules.map(validateRule);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (s.auth !== undefined && (typeof s.auth.username !== 'string' || typeof s.auth.password !== 'string' || !s.auth.username)) {
    throw new ConfigError('auth must be {"username": "...", "password": "..."}');
  }
  return { ...s, rules };
}

function checkPort(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) throw new ConfigError(`${name} must be a port number 0-65535, got ${JSON.stringify(v)}`);
}
