import * as fs from 'node:fs';
import * as net from 'node:net';
import * as jsonc from 'jsonc-parser';
import type { CapacityProbeSettings, CapacitySettings, DiscoverySettings, Limits, NodeSettings } from '../api/settings';
import { DEFAULT_CAPACITY } from '../dispatch/capacity';
import { validateRules } from '../dispatch/rules';
import { DEFAULT_LEGACY_HEARTBEAT_MS, DEFAULT_LIMITS, DEFAULT_LINK_REPORT_MS } from '../kernel/defaults';
import { parsePeerEntries, type PeerEntry } from '../state/peer-entry';
import { defaultDataDir } from '../kernel/data-dir';

export { DEFAULT_LIMITS };

export { DEFAULT_CAPACITY };

/** Announce when listening on the LAN (a node bound to loopback never does); wire discovered nodes only when asked. */
export const DEFAULT_DISCOVERY: DiscoverySettings = { announce: true, autoConnect: false };

export const DEFAULT_SETTINGS: NodeSettings = {
  pport: 1080,
  bport: 4884,
  bind: '0.0.0.0',
  policy: 'bandwidth-weighted',
  fallbackPolicy: 'least-busy',
  interfaces: [],
  rules: [],
  handshakeTimeoutMs: 10_000,
  dialTimeoutMs: 10_000,
  drainTimeoutMs: 5_000,
  heartbeatMs: 1_000,
  legacyHeartbeatMs: DEFAULT_LEGACY_HEARTBEAT_MS,
  linkReportMs: DEFAULT_LINK_REPORT_MS,
  reconnectMs: 1_000,
  policyDeadlineMs: 5,
  transport: 'tls',
  plugins: {},
  policyOptions: {},
  dataDir: defaultDataDir(),
  allowLegacyPeers: [],
  allowClients: [],
  openProxy: false,
  limits: DEFAULT_LIMITS,
  capacity: DEFAULT_CAPACITY,
  discovery: DEFAULT_DISCOVERY,
};

/** Config-file keys that are not NodeSettings: the network key never becomes a setting (plugins see settings). */
const SECRET_KEYS = ['key', 'keyFile'] as const;

/** What a config file holds: settings, plus where the network key comes from. */
export interface ConfigFile {
  readonly settings: Partial<NodeSettings>;
  /** The network key as text (hex or base64), if the file carries it. */
  readonly key?: string;
  readonly keyFile?: string;
  /** Peers to wire at start. */
  readonly peers?: readonly PeerEntry[];
}

/** A setting that cannot be used; says which and why. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const NUMERIC: (keyof NodeSettings)[] = [
  'handshakeTimeoutMs',
  'dialTimeoutMs',
  'drainTimeoutMs',
  'heartbeatMs',
  'legacyHeartbeatMs',
  'linkReportMs',
  'reconnectMs',
  'policyDeadlineMs',
];

/**
 * Reads a JSON config file (comments and trailing commas allowed, as
 * `booster config init` writes it); its keys are NodeSettings' plus
 * `key`/`keyFile` and `peers` (unknown keys are an error, to catch typos). A
 * parse error names the line and column only: the file may hold the network
 * key, which must never be echoed.
 */
export function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  const errors: jsonc.ParseError[] = [];
  const raw: unknown = jsonc.parse(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false });
  if (errors.length > 0) throw new ConfigError(`config file ${file} is not valid JSON (${jsonErrorPosition(text, errors[0])})`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`config file ${file} must hold a JSON object`);
  const known = [...Object.keys(DEFAULT_SETTINGS), 'auth', 'capacityProbe', 'peers', ...SECRET_KEYS];
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!known.includes(key)) throw new ConfigError(`config file ${file}: unknown setting "${key.slice(0, 64)}" (known: ${known.join(', ')})`);
    if (!(SECRET_KEYS as readonly string[]).includes(key) && key !== 'peers') settings[key] = value;
  }
  const r = raw as Record<string, unknown>;
  if (r.key !== undefined && typeof r.key !== 'string')
    throw new ConfigError(`config file ${file}: "key" must be a string (the network key, as "booster key show" prints it)`);
  if (r.keyFile !== undefined && typeof r.keyFile !== 'string') throw new ConfigError(`config file ${file}: "keyFile" must be a path`);
  let peers: PeerEntry[] | undefined;
  if (r.peers !== undefined) {
    const limit = (r.limits as Partial<Limits> | undefined)?.maxPeers;
    try {
      peers = parsePeerEntries(r.peers, 'peers', typeof limit === 'number' ? limit : DEFAULT_LIMITS.maxPeers);
    } catch (err) {
      throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
    }
  }
  return { settings: settings, key: r.key, keyFile: r.keyFile, ...(peers ? { peers } : {}) };
}

/** "syntax error at line L, column C", without any of the text. */
function jsonErrorPosition(text: string, error: jsonc.ParseError): string {
  if (error.offset >= text.length) return 'unexpected end of the file';
  const before = text.slice(0, error.offset).split('\n');
  return `syntax error at line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/** Defaults, then the config file, then flags; validated. */
export function resolveSettings(...layers: Partial<NodeSettings>[]): NodeSettings {
  const merged = { ...DEFAULT_SETTINGS } as Record<string, unknown>;
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) merged[k] = v;
  }
  merged.limits = { ...DEFAULT_LIMITS };
  for (const layer of layers) {
    if (layer.limits === undefined) continue;
    if (typeof layer.limits !== 'object' || layer.limits === null) throw new ConfigError('limits must be an object, e.g. {"maxPeers": 32}');
    for (const [k, v] of Object.entries(layer.limits)) if (v !== undefined) (merged.limits as Record<string, unknown>)[k] = v;
  }
  merged.capacity = mergeCapacity(layers);
  merged.discovery = mergeDiscovery(layers);
  merged.plugins = mergePluginOptions(layers);
  const s = merged as unknown as NodeSettings;
  for (const [k, v] of Object.entries(s.limits)) {
    if (!(k in DEFAULT_LIMITS)) throw new ConfigError(`unknown limit "${k.slice(0, 64)}" (known: ${Object.keys(DEFAULT_LIMITS).join(', ')})`);
    const zeroOk = k === 'maxProxyConnections' || k === 'fdReserve';
    if (typeof v !== 'number' || !Number.isInteger(v) || v < (zeroOk ? 0 : 1))
      throw new ConfigError(`limits.${k} must be a ${zeroOk ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(v)}`);
  }
  for (const key of ['allowLegacyPeers', 'allowClients'] as const) {
    const list = s[key];
    if (!Array.isArray(list)) throw new ConfigError(`${key} must be a list of CIDRs such as "192.168.1.0/24"`);
    for (const cidr of list)
      if (!isCidr(cidr)) throw new ConfigError(`${key}: "${String(cidr).slice(0, 64)}" is not an address or CIDR (e.g. 192.168.1.0/24, 10.0.0.7, fd00::/8)`);
  }
  if (typeof s.openProxy !== 'boolean') throw new ConfigError('openProxy must be true or false');
  if (typeof s.dataDir !== 'string' || s.dataDir.length === 0) throw new ConfigError('dataDir must be a directory path');
  checkPort('pport', s.pport);
  checkPort('bport', s.bport);
  for (const key of NUMERIC) {
    const v = s[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      throw new ConfigError(`${key} must be a positive number of milliseconds, got ${JSON.stringify(v)}`);
  }
  if (typeof s.bind !== 'string' || s.bind.length === 0) throw new ConfigError('bind must be an address such as 127.0.0.1 or 0.0.0.0');
  if (typeof s.policy !== 'string' || s.policy.length === 0) throw new ConfigError('policy must be a policy name');
  if (!Array.isArray(s.interfaces)) throw new ConfigError('interfaces must be a list of interface names or addresses, or ["auto"]');
  if (!Array.isArray(s.rules)) throw new ConfigError('rules must be a list');
  let rules;
  try {
    rules = validateRules(s.rules, s.limits);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  validateCapacity(s.capacity);
  const capacityProbe = s.capacityProbe === undefined ? undefined : validateCapacityProbe(s.capacityProbe);
  if (s.auth !== undefined && (typeof s.auth.username !== 'string' || typeof s.auth.password !== 'string' || !s.auth.username)) {
    throw new ConfigError('auth must be {"username": "...", "password": "..."}');
  }
  return { ...s, rules, ...(capacityProbe ? { capacityProbe } : {}) };
}

/** Each layer's `plugins`, merged per plugin: a flag such as --metrics sets one option without dropping the config file's others. */
function mergePluginOptions(layers: readonly Partial<NodeSettings>[]): NodeSettings['plugins'] {
  const merged: Record<string, Record<string, unknown>> = {};
  for (const layer of layers) {
    if (layer.plugins === undefined) continue;
    if (typeof layer.plugins !== 'object' || layer.plugins === null || Array.isArray(layer.plugins))
      throw new ConfigError('plugins must be an object keyed by plugin name, e.g. {"@booster/plugin-http": {"metrics": "127.0.0.1:9464"}}');
    for (const [name, options] of Object.entries(layer.plugins)) {
      if (typeof options !== 'object' || options === null || Array.isArray(options))
        throw new ConfigError(`plugins["${name.slice(0, 64)}"] must be an object of options`);
      const defined = Object.entries(options).filter(([, v]) => v !== undefined);
      if (defined.length > 0 || !merged[name]) merged[name] = { ...merged[name], ...Object.fromEntries(defined) };
    }
  }
  return merged;
}

/** DEFAULT_DISCOVERY, then each layer's `discovery` keys (unknown keys and non-booleans are an error). */
function mergeDiscovery(layers: readonly Partial<NodeSettings>[]): DiscoverySettings {
  const merged: Record<string, unknown> = { ...DEFAULT_DISCOVERY };
  for (const layer of layers) {
    if (layer.discovery === undefined) continue;
    if (typeof layer.discovery !== 'object' || layer.discovery === null || Array.isArray(layer.discovery))
      throw new ConfigError('discovery must be an object, e.g. {"announce": true, "autoConnect": true}');
    for (const [k, v] of Object.entries(layer.discovery)) {
      if (!(k in DEFAULT_DISCOVERY))
        throw new ConfigError(`unknown discovery setting "${k.slice(0, 64)}" (known: ${Object.keys(DEFAULT_DISCOVERY).join(', ')})`);
      if (v === undefined) continue;
      if (typeof v !== 'boolean') throw new ConfigError(`discovery.${k} must be true or false, got ${JSON.stringify(v)?.slice(0, 64)}`);
      merged[k] = v;
    }
  }
  return merged as unknown as DiscoverySettings;
}

/** DEFAULT_CAPACITY, then each layer's `capacity` keys (unknown keys are an error). */
function mergeCapacity(layers: readonly Partial<NodeSettings>[]): CapacitySettings {
  const merged: Record<string, unknown> = { ...DEFAULT_CAPACITY };
  for (const layer of layers) {
    if (layer.capacity === undefined) continue;
    if (typeof layer.capacity !== 'object' || layer.capacity === null || Array.isArray(layer.capacity))
      throw new ConfigError('capacity must be an object, e.g. {"persist": false}');
    for (const [k, v] of Object.entries(layer.capacity)) {
      if (!(k in DEFAULT_CAPACITY)) throw new ConfigError(`unknown capacity setting "${k.slice(0, 64)}" (known: ${Object.keys(DEFAULT_CAPACITY).join(', ')})`);
      if (v !== undefined) merged[k] = v;
    }
  }
  return merged as unknown as CapacitySettings;
}

function validateCapacity(c: CapacitySettings): void {
  for (const key of ['tickMs', 'rateWindowMs', 'busyWindowMs', 'freshMs', 'saveDelayMs', 'maxAgeMs'] as const) {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      throw new ConfigError(`capacity.${key} must be a positive number of milliseconds, got ${JSON.stringify(v)}`);
  }
  if (c.rateWindowMs < c.tickMs) throw new ConfigError(`capacity.rateWindowMs (${c.rateWindowMs}) must be at least capacity.tickMs (${c.tickMs})`);
  if (c.busyWindowMs < c.rateWindowMs)
    throw new ConfigError(`capacity.busyWindowMs (${c.busyWindowMs}) must be at least capacity.rateWindowMs (${c.rateWindowMs})`);
  const share = (key: 'percentile' | 'busyShare' | 'minAvailableShare', zeroOk: boolean) => {
    const v = c[key];
    if (typeof v !== 'number' || !(zeroOk ? v >= 0 : v > 0) || v > 1)
      throw new ConfigError(`capacity.${key} must be a number in ${zeroOk ? '[0, 1]' : '(0, 1]'}, got ${JSON.stringify(v)}`);
  };
  share('percentile', false);
  share('busyShare', true);
  share('minAvailableShare', false);
  if (typeof c.minBusyRate !== 'number' || !Number.isFinite(c.minBusyRate) || c.minBusyRate < 0)
    throw new ConfigError(`capacity.minBusyRate must be a non-negative number of bytes/s, got ${JSON.stringify(c.minBusyRate)}`);
  if (typeof c.maxRecords !== 'number' || !Number.isInteger(c.maxRecords) || c.maxRecords < 1)
    throw new ConfigError(`capacity.maxRecords must be a positive integer, got ${JSON.stringify(c.maxRecords)}`);
  if (typeof c.persist !== 'boolean') throw new ConfigError('capacity.persist must be true or false');
}

/** What a capacityProbe that gives only a url gets: hourly, at most 4 MB, 10 s. */
export const DEFAULT_CAPACITY_PROBE: Omit<CapacityProbeSettings, 'url'> = { intervalMs: 3_600_000, maxBytes: 4_000_000, timeoutMs: 10_000 };

function validateCapacityProbe(given: CapacityProbeSettings): CapacityProbeSettings {
  const example = 'e.g. {"url": "http://speed.example/10MB.bin", "intervalMs": 3600000, "maxBytes": 4000000, "timeoutMs": 10000}';
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new ConfigError(`capacityProbe must be an object, ${example}`);
  const p: CapacityProbeSettings = { ...DEFAULT_CAPACITY_PROBE, ...given };
  for (const k of Object.keys(p))
    if (!['url', 'intervalMs', 'maxBytes', 'timeoutMs'].includes(k))
      throw new ConfigError(`unknown capacityProbe setting "${k.slice(0, 64)}" (known: url, intervalMs, maxBytes, timeoutMs)`);
  let url: URL | undefined;
  try {
    url = typeof p.url === 'string' ? new URL(p.url) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'http:' || !url.hostname)
    throw new ConfigError(`capacityProbe.url must be an http:// URL, got ${JSON.stringify(p.url)?.slice(0, 100)}`);
  for (const key of ['intervalMs', 'timeoutMs'] as const) {
    const v = p[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      throw new ConfigError(`capacityProbe.${key} must be a positive number of milliseconds, got ${JSON.stringify(v)}`);
  }
  if (typeof p.maxBytes !== 'number' || !Number.isInteger(p.maxBytes) || p.maxBytes < 65_536)
    throw new ConfigError(
      `capacityProbe.maxBytes must be an integer of at least 65536 (a smaller download cannot measure a rate), got ${JSON.stringify(p.maxBytes)}`,
    );
  return p;
}

/** "10.0.0.0/8", "fd00::/8", or a bare address (a /32 or /128). */
export function isCidr(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  const [addr, bits, extra] = v.split('/');
  const family = net.isIP(addr);
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d{1,3}$/.test(bits) && n >= 0 && n <= (family === 4 ? 32 : 128);
}

function checkPort(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535)
    throw new ConfigError(`${name} must be a port number 0-65535, got ${JSON.stringify(v)}`);
}
