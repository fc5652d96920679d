/**
 * Decision cost per new connection for each built-in policy, with 10, 100 and
 * 1,000 candidate sources (the policy alone, as the dispatcher calls it).
 *
 *   npm run build && node dist/bench/policy-decision.js
 */
import { bandwidthWeighted } from '../plugins/bandwidth-weighted/src/index';
import { leastBusy } from '../plugins/least-busy/src/index';
import { p2c } from '../plugins/p2c/src/index';
import { roundRobin } from '../plugins/round-robin/src/index';
import type { BalancingPolicy, PolicyRequest } from '../src/api/policy';
import type { Candidate } from '../src/api/sources';

const request: PolicyRequest = { target: { host: 'example.com', port: 443, kind: 'domain' }, now: 0, tried: [] };

function candidates(n: number): Candidate[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i === 0 ? 'direct' : `peer-${i}`,
    kind: i === 0 ? 'direct' : 'peer',
    label: String(i),
    dialer: 'x',
    local: i === 0,
    stats: {
      openTunnels: (i * 7) % 13,
      pendingDials: i % 2,
      load: ((i * 7) % 13) + (i % 2),
      workload: (i * 5) % 11,
      throughputDown: 1e6,
      throughputUp: 1e5,
      capacity: 1e6 + ((i * 37) % 100) * 1e4,
      capacitySource: 'measured',
      recentFailures: i % 3 === 0 ? 1 : 0,
      consecutiveFailures: 0,
      connectLatencyMs: 5 + (i % 17),
      health: 'healthy',
      totalTunnels: 0,
      bytesDown: 0,
      bytesUp: 0,
    },
  }));
}

function nsPerChoice(policy: BalancingPolicy, cs: Candidate[]): number {
  const iterations = Math.max(2_000, Math.floor(2_000_000 / cs.length));
  let sink = 0;
  for (let i = 0; i < iterations / 10; i++) sink += policy.choose(request, cs) ? 1 : 0; // warm up
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink += policy.choose(request, cs) ? 1 : 0;
    runs.push(Number(process.hrtime.bigint() - t) / iterations);
  }
  if (sink < 0) console.log(sink);
  return runs.sort((a, b) => a - b)[3];
}

const policies: [string, () => BalancingPolicy][] = [
  ['least-busy', leastBusy],
  ['round-robin', roundRobin],
  ['bandwidth-weighted', () => bandwidthWeighted()],
  ['p2c', () => p2c({ seed: 1 })],
];

console.log(`decision cost, ns per choice (median of 7 runs), node ${process.version}`);
console.log('| policy | 10 | 100 | 1,000 |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, make] of policies) {
  const row = [10, 100, 1000].map((n) => nsPerChoice(make(), candidates(n)).toFixed(0));
  console.log(`| ${name} | ${row.join(' | ')} |`);
}
console.log('target: ≤ 5,000 ns per choice at 1,000 candidates');
