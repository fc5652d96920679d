import * as fs from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';
import { CONTRIBUTION_KINDS, type ContributionDeclaration, type ContributionKind, type PluginManifest } from '../api/plugin';
import { PLUGIN_API_VERSION } from '../api/version';

/** A package that may contribute to booster, as found on disk; nothing of it has run. */
export interface PluginDescription {
  readonly name: string;
  readonly version: string;
  readonly root: string;
  /** Where it came from: shipped in plugins/ ("core"), installed ("user") or linked ("link"). */
  readonly origin: 'core' | 'user' | 'link';
  readonly packageJson: Readonly<Record<string, unknown>>;
}

/** The result of validating a description: a manifest and entry file, or the reason there is none. */
export type ValidatedPlugin =
  | { readonly ok: true; readonly description: PluginDescription; readonly manifest: PluginManifest; readonly entry: string }
  | { readonly ok: false; readonly description: PluginDescription; readonly error: string };

const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/i;
const EVENT_KINDS: Record<string, ContributionKind> = {
  onPolicy: 'policies',
  onDialer: 'dialers',
  onTransport: 'transports',
  onMonitor: 'monitors',
};

export function isBoosterPlugin(packageJson: Readonly<Record<string, unknown>>): boolean {
  return packageJson.booster !== undefined;
}

export function readDescription(root: string, origin: PluginDescription['origin'] = 'core'): PluginDescription {
  const packageJson = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  return {
    name: typeof packageJson.name === 'string' ? packageJson.name : path.basename(root),
    version: typeof packageJson.version === 'string' ? packageJson.version : '0.0.0',
    root,
    origin,
    packageJson,
  };
}

/** Checks a plugin's `booster` block, `engines.booster` and entry file without running any of its code. */
export function validatePlugin(description: PluginDescription): ValidatedPlugin {
  try {
    const engine = checkEngine(description.packageJson.engines);
    if (engine.error) return { ok: false, description, error: engine.error };
    const manifest = { ...parseManifest(description.packageJson.booster), engine: engine.range };
    const main = manifest.main ?? (typeof description.packageJson.main === 'string' ? description.packageJson.main : 'index.js');
    const entry = path.resolve(description.root, main);
    if (!fs.existsSync(entry) && !fs.existsSync(`${entry}.js`)) {
      throw new Error(`entry file ${main} does not exist (was the plugin built?)`);
    }
    return { ok: true, description, manifest, entry };
  } catch (err) {
    return { ok: false, description, error: `invalid manifest: ${(err as Error).message}` };
  }
}

export function parseManifest(raw: unknown): PluginManifest {
  if (!isObject(raw)) throw new Error('"booster" must be an object');
  const contributes = raw.contributes ?? {};
  if (!isObject(contributes)) throw new Error('"booster.contributes" must be an object');
  const parsed: { [K in ContributionKind]?: ContributionDeclaration[] } = {};
  for (const [kind, list] of Object.entries(contributes)) {
    if (!CONTRIBUTION_KINDS.includes(kind as ContributionKind)) {
      throw new Error(`unknown contribution point "${kind}" (known: ${CONTRIBUTION_KINDS.join(', ')})`);
    }
    if (!Array.isArray(list)) throw new Error(`"contributes.${kind}" must be an array`);
    const seen = new Set<string>();
    parsed[kind as ContributionKind] = list.map((item, i) => {
      if (!isObject(item) || typeof item.id !== 'string' || !ID.test(item.id)) {
        throw new Error(`"contributes.${kind}[${i}].id" must be a name of letters, digits, ".", "_" or "-"`);
      }
      if (seen.has(item.id)) throw new Error(`"contributes.${kind}" declares "${item.id}" twice`);
      seen.add(item.id);
      return {
        id: item.id,
        title: typeof item.title === 'string' ? item.title : undefined,
        description: typeof item.description === 'string' ? item.description : undefined,
      };
    });
  }
  const events = raw.activationEvents ?? ['onStartup'];
  if (!Array.isArray(events) || !events.every((e) => typeof e === 'string')) {
    throw new Error('"booster.activationEvents" must be an array of strings');
  }
  for (const event of events) {
    if (event === '*' || event === 'onStartup') continue;
    const [prefix, id] = splitEvent(event);
    const kind = EVENT_KINDS[prefix];
    if (!kind || !id) throw new Error(`unknown activation event "${event}"`);
    if (!parsed[kind]?.some((c) => c.id === id)) {
      throw new Error(`activation event "${event}" names a ${kind.replace(/ies$/, 'y').replace(/s$/, '')} the plugin does not contribute`);
    }
  }
  if (raw.main !== undefined && typeof raw.main !== 'string') throw new Error('"booster.main" must be a string');
  return {
    displayName: typeof raw.displayName === 'string' ? raw.displayName : undefined,
    main: raw.main,
    contributes: parsed,
    activationEvents: events,
  };
}

/**
 * `engines.booster` against this build's PLUGIN_API_VERSION. A plugin that
 * states no range is accepted (the host warns): plugins written before the
 * contract was versioned target 1.0.0.
 */
export function checkEngine(engines: unknown, version: string = PLUGIN_API_VERSION): { range?: string; error?: string } {
  const raw = isObject(engines) ? engines.booster : undefined;
  if (raw === undefined) return {};
  if (typeof raw !== 'string' || semver.validRange(raw) === null) {
    return { error: `invalid manifest: "engines.booster" must be a semver range such as "^1.0.0", got ${JSON.stringify(raw)?.slice(0, 64)}` };
  }
  if (!semver.satisfies(version, raw)) {
    return { range: raw, error: `requires booster plugin API ${raw} (engines.booster), but this node provides ${version}; not activated` };
  }
  return { range: raw };
}

/** The activation event that asks for a contribution: ("policies", "least-busy") → "onPolicy:least-busy". */
export function activationEventFor(kind: ContributionKind, id: string): string {
  const prefix = Object.entries(EVENT_KINDS).find(([, k]) => k === kind)![0];
  return `${prefix}:${id}`;
}

function splitEvent(event: string): [string, string] {
  const i = event.indexOf(':');
  return i < 0 ? [event, ''] : [event.slice(0, i), event.slice(i + 1)];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
