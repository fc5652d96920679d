import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import type { Disposable } from '../api/disposable';
import type { Logger } from '../api/logger';
import type { BalancingPolicy, PolicyFactory, PolicyRequest, SourcePreference } from '../api/policy';
import type { NodeSettings } from '../api/settings';
import type { Candidate } from '../api/sources';
import { EventHub } from '../kernel/events';
import { TOKENS } from '../kernel/tokens';
import type { Registry } from '../kernel/registry';
import { PolicyTiming } from './policy-timing';
import { snapshotCandidate } from '../kernel/candidate-snapshot';

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

/** How long after an overrun its GC pauses are surely delivered (PerformanceObserver entries come asynchronously). */
const JUDGE_DELAY_MS = 50;

/**
 * Holds the node's active policy and runs it with fault isolation: a policy
 * that throws or returns something that is not a candidate costs that
 * connection nothing: the fallback policy decides instead, and the fault is
 * logged, counted and fired as an event. A policy over its deadline has
 * already answered (a synchronous call cannot be stopped): its answer is used
 * rather than paying for a second decision, and the overrun is reported if the
 * policy's own time (GC pauses excluded, PolicyTiming) was over the deadline.
 */
@injectable()
export class PolicyManager implements Disposable {
  private active?: { name: string; policy: BalancingPolicy };
  private fallback?: BalancingPolicy;
  private readonly faultCounts = new Map<string, number>();
  private readonly log: Logger;
  /** Replaceable by tests (fed GC pauses by hand). */
  timing = new PolicyTiming();
  private readonly judging = new Set<NodeJS.Timeout>();

  constructor(
    @inject(TOKENS.Policies) private readonly policies: Registry<PolicyFactory>,
    private readonly events: EventHub,
    @inject(TOKENS.Settings) private readonly settings: NodeSettings,
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
    return [...new Set([...this.policies.declared(), ...this.policies.ids()])].sort();
  }

  /** Switches to a policy by name, activating the plugin that contributes it. */
  async use(name: string): Promise<void> {
    const policy = await this.instantiate(name);
    const previous = this.active?.name ?? '';
    this.active = { name, policy };
    if (name === this.settings.fallbackPolicy) this.fallback = policy;
    else
      this.fallback ??= await this.instantiate(this.settings.fallbackPolicy).catch((err) => {
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
      const out = active.policy.describe(candidates.map(snapshotCandidate));
      return Array.isArray(out) ? out : undefined;
    } catch (err) {
      this.log.warn(`policy ${active.name}: describe threw: ${err instanceof Error ? err.message : String(err)}; showing no preference`);
      return undefined;
    }
  }

  /** Chooses a candidate; never throws while there is at least one candidate. */
  choose(request: PolicyRequest, candidates: readonly Candidate[]): Candidate | undefined {
    return this.decide(request, candidates)[0];
  }

  /**
   * The policy's ranking, best first (one entry when it returned one
   * candidate): the dispatcher tries them in order when dials fail. Policies
   * see frozen snapshots; the entries returned are `candidates` themselves.
   * Empty only when there is no candidate.
   */
  decide(request: PolicyRequest, candidates: readonly Candidate[]): readonly Candidate[] {
    if (candidates.length === 0) return [];
    const snapshots = candidates.map(snapshotCandidate);
    if (this.active) {
      const ranked = this.run(this.active.name, this.active.policy, request, snapshots, candidates);
      if (ranked) return ranked;
    }
    if (this.fallback && this.fallback !== this.active?.policy) {
      const ranked = this.run(this.settings.fallbackPolicy, this.fallback, request, snapshots, candidates);
      if (ranked) return ranked;
    }
    return [candidates[0]];
  }

  dispose(): void {
    for (const t of this.judging) clearTimeout(t);
    this.judging.clear();
    this.timing.dispose();
  }

  private run(
    name: string,
    policy: BalancingPolicy,
    request: PolicyRequest,
    snapshots: readonly Candidate[],
    candidates: readonly Candidate[],
  ): Candidate[] | undefined {
    const started = this.timing.now();
    let result: ReturnType<BalancingPolicy['choose']>;
    try {
      result = policy.choose(request, snapshots);
    } catch (err) {
      this.fault(name, `threw: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
    const ended = this.timing.now();
    if (ended - started > this.settings.policyDeadlineMs) this.judgeLater(name, started, ended);
    if (result === undefined) return undefined;
    const picks = Array.isArray(result) ? (result as readonly unknown[]) : [result];
    const ranked: Candidate[] = [];
    for (const pick of picks) {
      const id = (pick as Partial<Candidate> | null)?.id;
      const i = snapshots.findIndex((c) => c.id === id);
      if (i < 0) {
        this.fault(name, `returned a source that is not a candidate (${JSON.stringify(id ?? pick)?.slice(0, 80)})`);
        return undefined;
      }
      if (!ranked.includes(candidates[i])) ranked.push(candidates[i]);
    }
    return ranked.length > 0 ? ranked : undefined;
  }

  /** Reports an overrun once the GC pauses of its interval are known (PolicyTiming). */
  private judgeLater(name: string, started: number, ended: number): void {
    const timer = setTimeout(() => {
      this.judging.delete(timer);
      const own = this.timing.ownTime(started, ended);
      const wall = ended - started;
      if (own > this.settings.policyDeadlineMs) {
        this.fault(name, `took ${own.toFixed(1)} ms of its own (deadline ${this.settings.policyDeadlineMs} ms)`, 'its answer was used');
      } else {
        this.log.debug(`policy ${name} took ${wall.toFixed(1)} ms, ${(wall - own).toFixed(1)} ms of it in GC pauses: not its fault`);
      }
    }, JUDGE_DELAY_MS);
    timer.unref?.();
    this.judging.add(timer);
  }

  private fault(name: string, message: string, outcome = `falling back to ${this.settings.fallbackPolicy} for this connection`): void {
    this.faultCounts.set(name, (this.faultCounts.get(name) ?? 0) + 1);
    const owner = this.policies.ownerOf(name) ?? name;
    this.log.warn(`policy ${name} ${message}; ${outcome}`);
    this.events.pluginFault.fire({ plugin: owner, contribution: `policies:${name}`, message });
  }

  private async instantiate(name: string): Promise<BalancingPolicy> {
    const factory = await this.policies.load(name);
    if (!factory) {
      const declarer = this.policies.declarer(name);
      throw new UnknownPolicyError(name, this.available(), declarer ? `is declared by ${declarer}, which failed to register it` : undefined);
    }
    const policy = factory(this.settings.policyOptions[name] ?? {});
    if (!policy || typeof policy.choose !== 'function') {
      throw new UnknownPolicyError(name, this.available(), 'factory did not return an object with choose()');
    }
    return policy;
  }
}
