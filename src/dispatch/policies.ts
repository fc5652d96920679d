import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import type { Logger } from '../api/logger';
import type { BalancingPolicy, PolicyRequest, SourcePreference } from '../api/policy';
import type { NodeSettings } from '../api/settings';
import type { Candidate } from '../api/sources';
import { EventHub } from '../core/events';
import { TOKENS, type Clock } from '../core/tokens';
import { Contributions, ExtensionHost } from '../extensions/host';

/** Thrown when a policy name cannot be used; lists the ones that can. */
export class UnknownPolicyError extends Error {
  constructor(
    readonly policy: string,
    readonly available: readonly string[],
    reason = 'is not contributed by any plugin',
  ) {
    super(`policy "${policy}" ${reason} (available: ${available.join(', ') || 'none'})`);
    this.name = 'UnknownPolicyError';
  }
}

/**
 * Holds the node's active policy and runs it with fault isolation: a policy
 * that throws, returns something that is not a candidate, or overruns its
 * deadline costs that connection nothing: the fallback policy decides instead,
 * and the fault is logged, counted and fired as an event.
 */
@injectable()
export class PolicyManager {
  private active?: { name: string; policy: BalancingPolicy };
  private fallback?: BalancingPolicy;
  private readonly faultCounts = new Map<string, number>();
  private readonly log: Logger;

  constructor(
    private readonly host: ExtensionHost,
    private readonly contributions: Contributions,
    private readonly events: EventHub,
    @inject(TOKENS.Settings) private readonly settings: NodeSettings,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Logger) logger: Logger,
  ) {
    this.log = logger.child('policy');
  }

  get current(): string | undefined {
    return this.active?.name;
  }

  /** Policy faults so far, by policy name. */
  get faults(): ReadonlyMap<string, number> {
    return this.faultCounts;
  }

  /** Every policy some plugin declares (active or not). */
  available(): string[] {
    return [...new Set([...this.host.declared('policies'), ...this.contributions.policies.ids()])].sort();
  }

  /** Switches to a policy by name, activating the plugin that contributes it. */
  async use(name: string): Promise<void> {
    const policy = await this.instantiate(name);
    const previous = this.active?.name ?? '';
    this.active = { name, policy };
    if (name === this.settings.fallbackPolicy) this.fallback = policy;
    else this.fallback ??= await this.instantiate(this.settings.fallbackPolicy).catch((err) => {
      this.log.warn(`fallback policy unavailable: ${(err as Error).message}`);
      return undefined;
    });
    if (previous !== name) this.events.policyChanged.fire({ previous, current: name });
  }

  /**
   * The active policy's own preference among `candidates` (BalancingPolicy.describe),
   * or undefined when it exposes none or fails to (logged; routing is not affected).
   */
  preferences(candidates: readonly Candidate[]): readonly SourcePreference[] | undefined {
    const active = this.active;
    if (!active?.policy.describe) return undefined;
    try {
      const out = active.policy.describe(candidates);
      return Array.isArray(out) ? out : undefined;
    } catch (err) {
      this.log.warn(`policy ${active.name}: describe threw: ${err instanceof Error ? err.message : String(err)}; showing no preference`);
      return undefined;
    }
  }

  /** Chooses a candidate; never throws while there is at least one candidate. */
  choose(request: PolicyRequest, candidates: readonly Candidate[]): Candidate | undefined {
    if (candidates.length === 0) return undefined;
    if (this.active) {
      const pick = this.run(this.active.name, this.active.policy, request, candidates);
      if (pick) return pick;
    }
    if (this.fallback && this.fallback !== this.active?.policy) {
      const pick = this.run(this.settings.fallbackPolicy, this.fallback, request, candidates);
      if (pick) return pick;
    }
    return candidates[0];
  }

  private run(name: string, policy: BalancingPolicy, request: PolicyRequest, candidates: readonly Candidate[]): Candidate | undefined {
    const started = this.clock.now();
    let result: ReturnType<BalancingPolicy['choose']>;
    try {
      result = policy.choose(request, candidates);
    } catch (err) {
      this.fault(name, `threw: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
    const elapsed = this.clock.now() - started;
    if (elapsed > this.settings.policyDeadlineMs) {
      this.fault(name, `took ${elapsed.toFixed(1)} ms (deadline ${this.settings.policyDeadlineMs} ms)`);
      return undefined;
    }
    const pick = Array.isArray(result) ? result[0] : (result as Candidate | undefined);
    if (pick === undefined) return undefined;
    const id = (pick as Partial<Candidate> | null)?.id;
    const match = candidates.find((c) => c.id === id);
    if (!match) {
      this.fault(name, `returned a source that is not a candidate (${JSON.stringify(id ?? pick)})`);
      return undefined;
    }
    return match;
  }

  private fault(name: string, message: string): void {
    this.faultCounts.set(name, (this.faultCounts.get(name) ?? 0) + 1);
    const owner = this.contributions.policies.ownerOf(name) ?? name;
    this.log.warn(`policy ${name} ${message}; falling back to ${this.settings.fallbackPolicy} for this connection`);
    this.events.pluginFault.fire({ plugin: owner, contribution: `policies:${name}`, message });
  }

  private async instantiate(name: string): Promise<BalancingPolicy> {
    if (!(await this.host.activateContribution('policies', name))) {
      const declarer = this.host.declarer('policies', name);
      throw new UnknownPolicyError(name, this.available(), declarer ? `is declared by ${declarer}, which failed to register it` : undefined);
    }
    const factory = this.contributions.policies.get(name)!;
    const policy = factory(this.settings.policyOptions[name] ?? {});
    if (!policy || typeof policy.choose !== 'function') {
      throw new UnknownPolicyError(name, this.available(), 'factory did not return an object with choose()');
    }
    return policy;
  }
}
