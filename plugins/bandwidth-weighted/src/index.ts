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
      let known = 0;
      for (const c of candidates) if (c.stats.capacity > known) known = c.stats.capacity;
      const fallback = known > 0 ? known : assumed;
      let best: Candidate | undefined;
      let bestCost = Infinity;
      for (const c of candidates) {
        const cost = (c.stats.openTunnels + 1) / (c.stats.capacity > 0 ? c.stats.capacity : fallback);
        if (cost < bestCost) {
          best = c;
          bestCost = cost;
        }
      }
      return best;
    },
  };
}

export function activate(context: PluginContext): void {
  context.subscriptions.push(context.policies.register('bandwidth-weighted', (options) => bandwidthWeighted(options as BandwidthWeightedOptions)));
}
