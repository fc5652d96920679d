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
 * only candidates that the rules allow and that have not been tried yet, and
 * returns one of them, or a ranking (best first), or undefined for "none".
 * Policies must be cheap (they run on every new connection) and synchronous.
 */
export interface BalancingPolicy {
  readonly id: string;
  choose(request: PolicyRequest, candidates: readonly Candidate[]): Candidate | readonly Candidate[] | undefined;
}

/** Policies are created per node, with that node's options for them. */
export type PolicyFactory = (options: Readonly<Record<string, unknown>>) => BalancingPolicy;
