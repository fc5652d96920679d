import type { BalancingPolicy, Candidate, PluginContext } from 'booster';

/**
 * booster 0.3's rule: take the least busy peer; if its workload is greater
 * than the local node's own load, dial locally instead; a tie goes to the peer.
 * Among several local sources, the least busy local one stands for "local".
 */
export function leastBusy(): BalancingPolicy {
  return {
    id: 'least-busy',
    choose(_request, candidates) {
      let peer: Candidate | undefined;
      let local: Candidate | undefined;
      for (const c of candidates) {
        if (c.local) {
          if (!local || c.stats.workload < local.stats.workload) local = c;
        } else if (!peer || c.stats.workload < peer.stats.workload) {
          peer = c;
        }
      }
      if (!peer) return local;
      if (!local) return peer;
      return peer.stats.workload > local.stats.workload ? local : peer;
    },
  };
}

export function activate(context: PluginContext): void {
  context.subscriptions.push(context.policies.register('least-busy', leastBusy));
}
