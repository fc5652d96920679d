import type { BalancingPolicy, Candidate, PluginContext } from 'booster';

export interface BandwidthWeightedOptions {
  /**
   * Of the connections in flight (tunnels open and dials under way), at most
   * this share may be exploring peers whose capacity is unknown, in (0, 1].
   * Default 1/3.
   */
  readonly explorationShare?: number;
}

const DEFAULT_EXPLORATION_SHARE = 1 / 3;

/**
 * Expected completion cost (load + 1) / capacity of a source whose capacity is
 * known or that is local (then assumed `baseline`, the measured sources'
 * total); undefined for a peer not measured yet.
 */
function completionCost(c: Candidate, baseline: number): number | undefined {
  const { capacity, load } = c.stats;
  return capacity > 0 || c.local ? (load + 1) / (capacity > 0 ? capacity : baseline) : undefined;
}

/**
 * Expected completion: a new connection on source s shares s's capacity with
 * the s.load connections already there (tunnels open, dials under way, and a
 * peer's own users), so it finishes soonest where (load + 1) / capacity is
 * least. Counting dials under way matters: a burst of simultaneous
 * connections is decided before any of them is a tunnel. With 28.7, 9.6 and
 * 4.8 Mbit/s links, 6 simultaneous connections split 5/1/0, 20 split 14/4/2.
 *
 * Unknown capacities (cold start), so that a burst never lands on one
 * unmeasured source and never does worse than the node's own link:
 * - a local source (direct, interface) is the baseline, what the user has
 *   without booster: while unmeasured it is assumed as fast as all the
 *   measured sources together (1 when none is), so it takes at least its share;
 * - a peer not measured yet gets one exploratory connection at a time (which
 *   measures it), and exploring connections are at most `explorationShare`
 *   of those in flight: a peer slower than expected costs one connection,
 *   never a burst.
 * With only unmeasured peers to choose from, the least loaded one.
 */
export function bandwidthWeighted(options: BandwidthWeightedOptions = {}): BalancingPolicy {
  const share = options.explorationShare ?? DEFAULT_EXPLORATION_SHARE;
  if (typeof share !== 'number' || !(share > 0 && share <= 1)) {
    throw new Error(`bandwidth-weighted: explorationShare must be a number in (0, 1], got ${JSON.stringify(share)}`);
  }
  return {
    id: 'bandwidth-weighted',
    /** Ranks by expected completion cost (load + 1) / capacity, lowest first; unmeasured peers last, by load. */
    describe(candidates) {
      const baseline = candidates.reduce((sum, c) => sum + (c.stats.capacity > 0 ? c.stats.capacity : 0), 0) || 1;
      const scored = candidates.map((c) => ({ c, cost: completionCost(c, baseline) ?? Infinity, load: c.stats.load }));
      scored.sort((a, b) => a.cost - b.cost || a.load - b.load);
      return scored.map(({ c, cost }, i) => ({
        id: c.id,
        rank: i + 1,
        score: Number.isFinite(cost) ? cost : undefined,
        note: Number.isFinite(cost)
          ? `cost (load+1)/capacity = ${(cost * 1e6).toPrecision(3)} s/MB${c.stats.capacity > 0 ? '' : ' (capacity assumed)'}`
          : 'capacity unknown: explored one connection at a time',
      }));
    },
    choose(_request, candidates) {
      let knownSum = 0;
      let inFlight = 0;
      let exploring = 0;
      for (const c of candidates) {
        const own = c.stats.openTunnels + c.stats.pendingDials;
        inFlight += own;
        if (c.stats.capacity > 0) knownSum += c.stats.capacity;
        else if (!c.local) exploring += own;
      }
      const baseline = knownSum > 0 ? knownSum : 1;
      let best: Candidate | undefined;
      let bestCost = Infinity;
      let explore: Candidate | undefined;
      let leastLoadedUnknown: Candidate | undefined;
      for (const c of candidates) {
        const cost = completionCost(c, baseline);
        if (cost !== undefined) {
          if (cost < bestCost) {
            best = c;
            bestCost = cost;
          }
        } else {
          if (!explore && c.stats.openTunnels + c.stats.pendingDials === 0) explore = c;
          if (!leastLoadedUnknown || c.stats.load < leastLoadedUnknown.stats.load) leastLoadedUnknown = c;
        }
      }
      if (explore && (!best || exploring + 1 <= share * (inFlight + 1) + 1e-9)) return explore;
      return best ?? leastLoadedUnknown;
    },
  };
}

export function activate(context: PluginContext): void {
  context.subscriptions.push(context.policies.register('bandwidth-weighted', (options) => bandwidthWeighted(options)));
}
