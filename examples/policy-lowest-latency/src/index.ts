// An example booster plugin. An external plugin would `npm install --save-dev booster`
// and drop the "paths" entry from its tsconfig; the import stays the same.
// Only types are imported: everything at run time comes through `activate(context)`.
import type { BalancingPolicy, Candidate, PluginContext } from 'booster';

/** Sources not measured yet are tried first (latency 0), then the fastest; ties go to the less loaded. */
export function lowestLatency(log?: PluginContext['log']): BalancingPolicy {
  return {
    id: 'lowest-latency',
    choose(request, candidates) {
      let best: Candidate | undefined;
      for (const c of candidates) {
        if (
          !best ||
          c.stats.connectLatencyMs < best.stats.connectLatencyMs ||
          (c.stats.connectLatencyMs === best.stats.connectLatencyMs && c.stats.openTunnels < best.stats.openTunnels)
        ) {
          best = c;
        }
      }
      log?.debug(`lowest-latency chose ${best?.id} for ${request.target.host}:${request.target.port}`);
      return best;
    },
  };
}

export function activate(context: PluginContext): void {
  context.subscriptions.push(context.policies.register('lowest-latency', () => lowestLatency(context.log)));
}
