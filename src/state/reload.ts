import type { NodeSettings, Rule } from '../api/settings';
import type { PeerEntry } from './peer-entry';

/** What the config file (with the command line's flags) asks of a node; the state file is not part of it. */
export interface ConfigLayer {
  readonly settings: NodeSettings;
  readonly peers: readonly PeerEntry[];
}

/** The parts of a running node a reload can change. */
export interface ReloadTarget {
  /** The settings the node started with: a change to any other than policy and rules waits for a restart, until one happens. */
  readonly running: NodeSettings;
  usePolicy(name: string): Promise<void>;
  setRules(rules: readonly Rule[]): void;
  /** Most rules the running node accepts (limits.maxRules as it started). */
  readonly maxRules: number;
  wire(entry: PeerEntry): void;
  unwire(address: string): void;
  /** The config file now says this about `key`: a value saved with `booster policy ...` stops overriding it. */
  forgetSaved(key: 'policy' | 'rules'): Promise<void>;
}

export interface ReloadReport {
  /** What was applied, in words ("policy round-robin", "peer added 10.0.0.2:4884"). */
  readonly applied: readonly string[];
  /** Settings that changed but only take effect after a restart. */
  readonly needsRestart: readonly string[];
}

/** Settings a reload applies at once; every other change waits for a restart. */
const LIVE_KEYS: readonly (keyof NodeSettings)[] = ['policy', 'rules'];

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Applies what changed between two readings of the config file. Anything that
 * can be refused (an unknown policy, too many rules) is checked before the
 * first change, so a refused reload changes nothing.
 */
export async function applyReload(before: ConfigLayer, after: ConfigLayer, target: ReloadTarget): Promise<ReloadReport> {
  const applied: string[] = [];
  const policyChanged = before.settings.policy !== after.settings.policy;
  const rulesChanged = !same(before.settings.rules, after.settings.rules);
  if (rulesChanged && after.settings.rules.length > target.maxRules) {
    throw new Error(
      `the config file has ${after.settings.rules.length} rules, more than this node's limits.maxRules (${target.maxRules}); raise it and restart`,
    );
  }
  if (policyChanged) {
    await target.usePolicy(after.settings.policy);
    await target.forgetSaved('policy');
    applied.push(`policy ${after.settings.policy}`);
  }
  if (rulesChanged) {
    target.setRules(after.settings.rules);
    await target.forgetSaved('rules');
    applied.push(`${after.settings.rules.length} rule${after.settings.rules.length === 1 ? '' : 's'}`);
  }
  const key = (p: PeerEntry) => `${p.address}\u0000${p.name ?? ''}`;
  const old = new Set(before.peers.map(key));
  const now = new Set(after.peers.map(key));
  for (const p of before.peers) {
    if (now.has(key(p))) continue;
    target.unwire(p.address);
    applied.push(`peer removed ${p.address}`);
  }
  for (const p of after.peers) {
    if (old.has(key(p))) continue;
    target.wire(p);
    applied.push(`peer added ${p.name ? `${p.name} (${p.address})` : p.address}`);
  }
  const keys = new Set([...Object.keys(target.running), ...Object.keys(after.settings)] as (keyof NodeSettings)[]);
  const needsRestart: string[] = [...keys].filter((k) => !LIVE_KEYS.includes(k) && !same(target.running[k], after.settings[k])).sort();
  return { applied, needsRestart };
}

export function describeReload(report: ReloadReport): string {
  const applied = report.applied.length ? `applied: ${report.applied.join(', ')}` : 'nothing to apply';
  const restart = report.needsRestart.length ? `; needs a restart ("booster ctrl restart") to take effect: ${report.needsRestart.join(', ')}` : '';
  return `config reloaded, ${applied}${restart}`;
}
