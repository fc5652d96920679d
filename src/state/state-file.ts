import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Rule } from '../api/settings';
import { writeFileAtomic } from '../kernel/atomic-file';
import { validateRules, type RuleLimits } from '../dispatch/rules';
import { parsePeerEntries, type PeerEntry } from './peer-entry';

/**
 * What a node remembers across restarts, beyond its config file: peers wired
 * at run time (`booster connect`), the policy chosen with `booster policy use`
 * and the rules as `booster policy rules` left them. Absent keys mean "as the
 * config file says".
 */
export interface NodeState {
  readonly peers: readonly PeerEntry[];
  readonly policy?: string;
  readonly rules?: readonly Rule[];
}

export const EMPTY_STATE: NodeState = { peers: [] };

const STATE_VERSION = 1;

export function stateFileIn(dataDir: string): string {
  return path.join(dataDir, 'state.json');
}

/**
 * Reads a state file; a missing one is the empty state. Throws, with the file
 * named, when it cannot be read or used (the caller warns and starts without it).
 */
export function readStateFile(file: string, limits: RuleLimits & { readonly maxPeers: number }): NodeState {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_STATE;
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${file} must hold a JSON object`);
  const r = raw as Record<string, unknown>;
  if (r.version !== STATE_VERSION)
    throw new Error(`${file} has version ${JSON.stringify(r.version)?.slice(0, 20)}, this booster reads version ${STATE_VERSION}`);
  const peers = r.peers === undefined ? [] : parsePeerEntries(r.peers, `${file}: peers`, limits.maxPeers);
  if (r.policy !== undefined && (typeof r.policy !== 'string' || r.policy.length === 0 || r.policy.length > 200))
    throw new Error(`${file}: policy must be a policy name`);
  let rules: Rule[] | undefined;
  if (r.rules !== undefined) {
    if (!Array.isArray(r.rules)) throw new Error(`${file}: rules must be a list`);
    try {
      rules = validateRules(r.rules, limits);
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`);
    }
  }
  return { peers, ...(r.policy !== undefined ? { policy: r.policy } : {}), ...(rules ? { rules } : {}) };
}

/** Writes the state atomically (a temporary file, then rename), mode 0600 in a 0700 directory. */
export async function writeStateFile(file: string, state: NodeState): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify({ version: STATE_VERSION, ...state }, null, 2)}\n`);
}
