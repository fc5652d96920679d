import { expect } from 'chai';
import type { Candidate, SourceStats } from '../../src/api/sources';
import type { PolicyManager } from '../../src/dispatch/policies';
import { RuleSet } from '../../src/dispatch/rules';
import { ControlHandler } from '../../src/network/control/control';
import { SourceReporter } from '../../src/network/control/source-report';

const policies = { current: 'p', available: () => ['p'], faults: new Map<string, number>(), preferences: () => undefined } as unknown as PolicyManager;

function candidate(id: string, health: SourceStats['health'] = 'healthy'): Candidate {
  const stats = {
    openTunnels: 1,
    pendingDials: 0,
    load: 1,
    workload: 1,
    throughputDown: 1234.6,
    throughputUp: 10,
    capacity: 0,
    capacitySource: 'unknown',
    recentFailures: 0,
    consecutiveFailures: 0,
    connectLatencyMs: 3.4,
    health,
    totalTunnels: 2,
    bytesDown: 5,
    bytesUp: 6,
  } as SourceStats;
  return { id, kind: 'peer', label: `peer ${id}`, dialer: 'socks5-chain', proxy: { host: '127.0.0.1', port: 1080 }, local: false, stats };
}

describe('SourceReporter and ControlHandler op "sources"', () => {
  it('caps the list and says how many there are; states, reasons and the policy preference come through', async () => {
    const list = [candidate('a'), candidate('b', 'ejected'), candidate('c', 'down'), candidate('d')];
    const registry = {
      list: () => list,
      healthDetail: (id: string) =>
        (
          ({
            a: { reason: '', ejectedForMs: 0, probing: false },
            b: { reason: '3 dial failures', sinceMs: 10, ejectedForMs: 4000, probing: false },
            c: { reason: 'heartbeat: silent', sinceMs: 5, ejectedForMs: 0, probing: false },
            d: { reason: 'back-off elapsed; retrying', sinceMs: 1, ejectedForMs: 0, probing: true },
          }) as Record<string, { reason: string; sinceMs?: number; ejectedForMs: number; probing: boolean }>
        )[id],
    };
    const ranked = {
      ...policies,
      preferences: (cs: readonly Candidate[]) => cs.map((c, i) => ({ id: c.id, rank: i + 1, note: 'n' })),
    } as unknown as PolicyManager;
    const handler = new ControlHandler(ranked, new RuleSet([{ type: 'block', source: 'x' }]), undefined, new SourceReporter(registry, ranked, () => 3));
    const reply = await handler.handle({ op: 'sources' });
    expect(reply.ok).to.equal(true);
    expect(reply.sourcesTotal).to.equal(4);
    expect(reply.rules).to.deep.equal([]);
    expect(reply.rulesTotal).to.equal(1);
    expect(reply.sources!.map((s) => [s.id, s.state, s.reason, s.ejectedForMs, s.rank])).to.deep.equal([
      ['a', 'up', '', 0, 1],
      ['b', 'ejected', '3 dial failures', 4000, undefined],
      ['c', 'down', 'heartbeat: silent', 0, undefined],
    ]);
    expect(reply.sources![0]).to.include({ address: '127.0.0.1:1080', throughputDown: 1235, connectLatencyMs: 3 });
  });

  it('marks a source back from an ejection as probing', async () => {
    const registry = {
      list: () => [candidate('d')],
      healthDetail: () => ({ reason: 'back-off elapsed; retrying', sinceMs: 1, ejectedForMs: 0, probing: true }),
    };
    const { sources } = new SourceReporter(registry, policies, () => 10).report();
    expect(sources[0]).to.include({ state: 'probing', reason: 'back-off elapsed; retrying' });
  });

  it('refuses op "sources" on a handler without a reporter', async () => {
    const reply = await new ControlHandler(policies, new RuleSet()).handle({ op: 'sources' });
    expect(reply.ok).to.equal(false);
    expect(reply.error).to.match(/does not report its sources/);
  });
});
