import type { Candidate } from '../api/sources';
import type { Rule } from '../api/settings';

const STICKY_MAX = 10_000;

/** Does `host` match a rule pattern: exact, or "*.example.com" (the domain and its subdomains). */
export function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p.startsWith('*.')) return h === p.slice(2) || h.endsWith(p.slice(1));
  return h === p;
}

function matchesAny(patterns: readonly string[] | undefined, host: string): boolean {
  return patterns === undefined || patterns.some((p) => hostMatches(p, host));
}

export function describeRule(rule: Rule): string {
  switch (rule.type) {
    case 'block':
      return `block ${rule.source}`;
    case 'reserve':
      return `reserve ${rule.source} for ${rule.hosts.join(',')}`;
    case 'avoid':
      return `avoid ${rule.source} for ${rule.hosts.join(',')}`;
    case 'sticky':
      return `sticky ${rule.ttlMs} ms${rule.hosts ? ` for ${rule.hosts.join(',')}` : ''}`;
  }
}

/** Checks a rule given by a user (config file or control channel); throws with the reason. */
export function validateRule(raw: unknown): Rule {
  const r = raw as Record<string, unknown>;
  const hosts = (v: unknown, required: boolean): string[] | undefined => {
    if (v === undefined && !required) return undefined;
    if (!Array.isArray(v) || v.length === 0 || !v.every((h) => typeof h === 'string' && h.length > 0)) {
      throw new Error(`rule ${String(r?.type)}: "hosts" must be a non-empty list of host names`);
    }
    return v as string[];
  };
  const source = (v: unknown): string => {
    if (typeof v !== 'string' || v.length === 0) throw new Error(`rule ${String(r?.type)}: "source" must name a source id`);
    return v;
  };
  switch (r?.type) {
    case 'block':
      return { type: 'block', source: source(r.source) };
    case 'reserve':
      return { type: 'reserve', source: source(r.source), hosts: hosts(r.hosts, true)! };
    case 'avoid':
      return { type: 'avoid', source: source(r.source), hosts: hosts(r.hosts, true)! };
    case 'sticky': {
      const ttl = Number(r.ttlMs);
      if (!Number.isFinite(ttl) || ttl <= 0) throw new Error('rule sticky: "ttlMs" must be a positive number');
      return { type: 'sticky', ttlMs: ttl, hosts: hosts(r.hosts, false) };
    }
    default:
      throw new Error(`unknown rule type ${JSON.stringify(r?.type)} (known: block, reserve, avoid, sticky)`);
  }
}

/**
 * Filters the candidate sources for one destination before the policy chooses:
 * block, reserve, avoid; and sticky, which pins a destination to the source it
 * last used for a while.
 */
export class RuleSet {
  private rules: Rule[];
  private readonly sticky = new Map<string, { sourceId: string; until: number }>();

  constructor(rules: readonly Rule[] = []) {
    this.rules = [...rules];
  }

  list(): readonly Rule[] {
    return this.rules;
  }

  add(rule: Rule): void {
    this.rules.push(rule);
  }

  /** Removes the rule at `index` (as listed); returns it. */
  remove(index: number): Rule {
    if (!Number.isInteger(index) || index < 0 || index >= this.rules.length) {
      throw new Error(`no rule #${index} (there are ${this.rules.length})`);
    }
    const [removed] = this.rules.splice(index, 1);
    if (removed.type === 'sticky') this.sticky.clear();
    return removed;
  }

  /** The candidates allowed for `host`; a sticky destination gets only its pinned source while it is available. */
  filter(host: string, candidates: readonly Candidate[], now: number): Candidate[] {
    if (this.rules.length === 0) return candidates as Candidate[];
    let allowed = candidates.filter((c) => this.allows(c.id, host));
    const reservedHere = this.rules.filter((r) => r.type === 'reserve' && matchesAny(r.hosts, host)).map((r) => (r as { source: string }).source);
    if (reservedHere.length > 0) {
      const reserved = allowed.filter((c) => reservedHere.includes(c.id));
      if (reserved.length > 0) allowed = reserved;
    }
    const pin = this.sticky.get(host.toLowerCase());
    if (pin && pin.until > now) {
      const pinned = allowed.find((c) => c.id === pin.sourceId);
      if (pinned) return [pinned];
    }
    return allowed;
  }

  /** Tells sticky rules which source a destination used. */
  remember(host: string, sourceId: string, now: number): void {
    const rule = this.rules.find((r): r is Extract<Rule, { type: 'sticky' }> => r.type === 'sticky' && matchesAny(r.hosts, host));
    if (!rule) return;
    const key = host.toLowerCase();
    this.sticky.delete(key);
    this.sticky.set(key, { sourceId, until: now + rule.ttlMs });
    if (this.sticky.size > STICKY_MAX) this.sticky.delete(this.sticky.keys().next().value!);
  }

  private allows(sourceId: string, host: string): boolean {
    for (const r of this.rules) {
      if (r.type === 'block' && r.source === sourceId) return false;
      if (r.type === 'avoid' && r.source === sourceId && matchesAny(r.hosts, host)) return false;
      if (r.type === 'reserve' && r.source === sourceId && !matchesAny(r.hosts, host)) return false;
    }
    return true;
  }
}
