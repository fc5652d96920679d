import type { BalancingPolicy, PluginContext } from 'booster';

/** Each new connection goes to the next source in turn. */
export function roundRobin(): BalancingPolicy {
  let turn = 0;
  return {
    id: 'round-robin',
    choose(_request, candidates) {
      if (candidates.length === 0) return undefined;
      const pick = candidates[turn % candidates.length];
      turn = (turn + 1) % 0x7fffffff;
      return pick;
    },
  };
}

export function activate(context: PluginContext): void {
  context.subscriptions.push(context.policies.register('round-robin', roundRobin));
}
