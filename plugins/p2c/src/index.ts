import type { BalancingPolicy, Candidate, PluginContext } from 'booster';

export interface P2cOptions {
  /** Seed for the random choices (reproducible runs); default: time-based. */
  readonly seed?: number;
  /** Latency floor in ms, so an idle LAN source does not look infinitely better. */
  readonly latencyFloorMs?: number;
}

/**
 * Power of two choices on latency-weighted load: pick two sources at random
 * and keep the one with the lower score (load + 1) × max(connect
 * latency, floor) × (1 + recent dial failures). Sampling two instead of
 * scanning all makes it O(1) and avoids the herd that "always the best"
 * policies cause when every node reads the same slightly stale statistics;
 * weighting by latency steers away from a source whose link is congested or
 * far before its throughput numbers catch up.
 */
export function p2c(options: P2cOptions = {}): BalancingPolicy {
  const random = mulberry32(options.seed ?? Date.now());
  const floor = options.latencyFloorMs ?? 1;
  const score = (c: Candidate) => (c.stats.load + 1) * Math.max(c.stats.connectLatencyMs, floor) * (1 + c.stats.recentFailures);
  return {
    id: 'p2c',
    choose(_request, candidates) {
      const n = candidates.length;
      if (n <= 1) return candidates[0];
      const i = Math.floor(random() * n);
      let j = Math.floor(random() * (n - 1));
      if (j >= i) j++;
      const a = candidates[i];
      const b = candidates[j];
      return score(b) < score(a) ? b : a;
    },
  };
}

/** A small, fast, seedable PRNG (uniform in [0, 1)). */
function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function activate(context: PluginContext): void {
  context.subscriptions.push(context.policies.register('p2c', (options) => p2c(options)));
}
