import type { BalancingPolicy, Candidate, PluginContext } from 'booster';

export interface BandwidthWeightedOptions {
  /** Capacity (bytes/s) assumed for a source never measured, when no source is measured yet. */
  readonly assumedCapacity?: number;
}

/**
 * Expected completion: a new connection on source s shares s's capacity with
 * the s.openTunnels already there, so it finishes soonest where
 * (openTunnels + 1) / capacity is least. With 30, 10 and 5 Mbit/s links the
 * tunnels settle near 6:2:1, every link busy. A source not measured yet is
 * assumed as fast as the fastest known one, so it gets traffic and a
 * measurement; with nothing measured this is least-connections.
 */
export function bandwidthWeighted(options: BandwidthWeightedOptions = {}): BalancingPolicy {
  const assumed = options.assumedCapacity ?? 1;
  return {
    id: 'bandwidth-weighted',
    choose(_request, candidates) {
      // One pass: the best measured source, the least loaded unmeasured one, the fastest capacity.
      let known: Candidate | undefined;
      let knownCost = Infinity;
      let unknown: Candidate | undefined;
      let fastest = 0;
      for (const c of candidates) {
        const { capacity, openTunnels } = c.stats;
        if (capacity > 0) {
          if (capacity > fastest) fastest = capacity;
          const cost = (openTunnels + 1) / capacity;
          if (cost < knownCost) {
            known = c;
            knownCost = cost;
          }
        } else if (!unknown || openTunnels < unknown.stats.openTunnels) {
          unknown = c;
        }
      }
      if (!unknown) return known;
      const unknownCost = (unknown.stats.openTunnels + 1) / (fastest > 0 ? fastest : assumed);
      return known && knownCost <= unknownCost ? known : unknown;
    },
  };
}

export function activate(context: PluginContext): void {
  context.subscriptions.push(context.policies.register('bandwidth-weighted', (options) => bandwidthWeighted(options as BandwidthWeightedOptions)));
}
