import * as net from 'node:net';
import type { Candidate } from '../api/sources';
import type { Limits, Rule } from '../api/settings';
import { LimitError } from '../kernel/limit-error';

const STICKY_MAX = 10_000;
const MAX_HOST_LENGTH = 253;
const MAX_SOURCE_LENGTH = 255;
/** Every rule must fit, with room to spare, in one page of a control reply (a 65,535-byte payload). */
const MAX_RULE_HOST_BYTES = 40_000;
const HOST_LABEL = /^[\p{L}\p{N}_-]{1,63}$/u;

export type RuleLimits = Pick<Limits, 'maxRules' | 'maxHostsPerRule'>;

/** For unit tests and embedders only: a node always passes `settings.limits`. */
export const UNBOUNDED_RULES: RuleLimits = { maxRules: Infinity, maxHostsPerRule: Infinity };

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

/** A user-given string in an error message: quoted, escaped, and short. */
function quote(v: string): string {
  return JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}…` : v);
}

/** Why `host` cannot be a rule's host pattern, or undefined if it can: a host name, an IP address, or "*.domain". */
function hostProblem(host: string): string | undefined {
  if (host.length > MAX_HOST_LENGTH) return `host ${quote(host)} is ${host.length} characters long; a host name has at most ${MAX_HOST_LENGTH}`;
  if (net.isIP(host) !== 0) return undefined;
  const name = host.startsWith('*.') ? host.slice(2) : host;
  const labels = (name.endsWith('.') ? name.slice(0, -1) : name).split('.');
  if (labels.every((l) => HOST_LABEL.test(l))) return undefined;
  return `host ${quote(host)} is not a host name, an IP address or a *.domain pattern`;
}

/** Checks a rule given by a user (config file or control channel); throws with the reason. */
export function validateRule(raw: unknown): Rule {
  const r = raw as Record<string, unknown>;
  const type = typeof r?.type === 'string' ? r.type : String(r?.type);
  const hosts = (v: unknown, required: boolean): string[] | undefined => {
    if (v === undefined && !required) return undefined;
    if (!Array.isArray(v) || v.length === 0 || !v.every((h) => typeof h === 'string' && h.length > 0)) {
      throw new Error(`rule ${type}: "hosts" must be a non-empty list of host names`);
    }
    for (const h of v as string[]) {
      const problem = hostProblem(h);
      if (problem) throw new Error(`rule ${type}: ${problem}`);
    }
    return v as string[];
  };
  const source = (v: unknown): string => {
    if (typeof v !== 'string' || v.length === 0) throw new Error(`rule ${type}: "source" must name a source id`);
    if (v.length > MAX_SOURCE_LENGTH)
      throw new Error(`rule ${type}: source ${quote(v)} is longer than ${MAX_SOURCE_LENGTH} characters; no source id is that long`);
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
      throw new Error(`unknown rule type ${typeof r?.type === 'string' ? quote(r.type) : JSON.stringify(r?.type)} (known: block, reserve, avoid, sticky)`);
  }
}

/** Throws a LimitError if one rule is bigger than a node holds. */
function checkRuleSize(rule: Rule, limits: RuleLimits): void {
  const hosts = 'hosts' in rule && rule.hosts ? rule.hosts : [];
  if (hosts.length > limits.maxHostsPerRule) {
    throw new LimitError(
      `rule ${rule.type} lists ${hosts.length} hosts, more than limits.maxHostsPerRule (${limits.maxHostsPerRule}); split it into several rules, or raise limits.maxHostsPerRule in the config file`,
      'too-many-hosts',
      'maxHostsPerRule',
    );
  }
  const bytes = hosts.reduce((sum, h) => sum + Buffer.byteLength(h) + 3, 0);
  if (bytes > MAX_RULE_HOST_BYTES) {
    throw new LimitError(
      `rule ${rule.type} lists ${bytes} bytes of hosts; one rule carries at most ${MAX_RULE_HOST_BYTES}, so split it into several rules`,
      'rule-too-large',
    );
  }
}

/** Checks a list of rules (a config file's) and the limits on them; throws with the first problem, naming the rule by its number. */
export function validateRules(raw: readonly unknown[], limits: RuleLimits): Rule[] {
  if (raw.length > limits.maxRules) {
    throw new LimitError(
      `${raw.length} rules configured, more than limits.maxRules (${limits.maxRules}); use fewer rules, or raise limits.maxRules in the config file`,
      'too-many-rules',
      'maxRules',
    );
  }
  return raw.map((r, i) => {
    try {
      const rule = validateRule(r);
      checkRuleSize(rule, limits);
      return rule;
    } catch (err) {
      const message = `rule #${i}: ${(err as Error).message}`;
      throw err instanceof LimitError ? new LimitError(message, err.code, err.setting) : new Error(message);
    }
  });
}

/**
 * Filters the candidate sources for one destination before the policy chooses:
 * block, reserve, avoid; and sticky, which pins a destination to the source it
 * last used for a while.
 */
export class RuleSet {
  private rules: Rule[];
  private readonly sticky = new Map<string, { sourceId: string; until: number }>();

  /** Throws (a LimitError for a limit) if the rules break the limits. */
  constructor(
    rules: readonly Rule[] = [],
    private readonly limits: RuleLimits = UNBOUNDED_RULES,
  ) {
    this.rules = validateRules(rules, limits);
  }

  list(): readonly Rule[] {
    return this.rules;
  }

  /** Throws a LimitError if the node already has limits.maxRules rules or the rule is too big. */
  add(rule: Rule): void {
    if (this.rules.length >= this.limits.maxRules) {
      throw new LimitError(
        `this node already has ${this.rules.length} rules, the most limits.maxRules allows; remove one first ("booster policy rules remove N"), or raise limits.maxRules in the node's config file`,
        'too-many-rules',
        'maxRules',
      );
    }
    checkRuleSize(rule, this.limits);
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
