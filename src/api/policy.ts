import type { Candidate } from './sources';
import type { Target } from './target';

/** What a policy is asked about: one new outgoing connection. */
export interface PolicyRequest {
  readonly target: Target;
  /** Monotonic time in ms (injectable clock), for policies that age state. */
  readonly now: number;
  /** Source ids already tried (and failed) for this connection. */
  readonly tried: readonly string[];
}

/**
 * A balancing policy chooses where a new connection leaves from. It is given
 * only candidates that the rules allow and that have not been tried yet
 * (frozen snapshots), and returns one of them, or a ranking (best first), or
 * undefined for "none". A ranking is the failover order: when a dial fails,
 * the next ranked source still available is tried before the policy is asked
 * again. Policies must be cheap (they run on every new connection) and
 * synchronous: one over `policyDeadlineMs` of its own time is reported as a
 * fault (its answer is still used).
 */
export interface BalancingPolicy {
  readonly id: string;
  choose(request: PolicyRequest, candidates: readonly Candidate[]): Candidate | readonly Candidate[] | undefined;
  /**
   * Optional: the policy's current preference among `candidates`, for
   * `booster sources` and `status` (never used to route). One entry per source
   * it ranks; rank 1 is its first choice. `score` is the policy's own figure
   * behind the rank (lower or higher is better as `note` says), `note` a few
   * words. Policies without it show no preference; it must be cheap and
   * must not change the policy's state.
   */
  describe?(candidates: readonly Candidate[]): readonly SourcePreference[];
}

/** A policy's view of one source (BalancingPolicy.describe). */
export interface SourcePreference {
  readonly id: string;
  /** 1 = the policy's first choice now. */
  readonly rank: number;
  readonly score?: number;
  readonly note?: string;
}

/** Policies are created per node, with that node's options for them. */
export type PolicyFactory = (options: Readonly<Record<string, unknown>>) => BalancingPolicy;
