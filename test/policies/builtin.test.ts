import { expect } from 'chai';
import { bandwidthWeighted } from '../../plugins/bandwidth-weighted/src/index';
import { leastBusy } from '../../plugins/least-busy/src/index';
import { p2c } from '../../plugins/p2c/src/index';
import { roundRobin } from '../../plugins/round-robin/src/index';
import type { Candidate } from '../../src/api/sources';
import { candidate, REQUEST } from './candidates';

const pick = (r: Candidate | readonly Candidate[] | undefined) => (Array.isArray(r) ? r[0] : (r as Candidate | undefined))?.id;

describe('least-busy (0.3 semantics)', () => {
  const policy = leastBusy();
  it('takes the least busy peer when it is not busier than the local node', () => {
    expect(pick(policy.choose(REQUEST, [candidate('direct', { workload: 3 }), candidate('p1', { workload: 5 }), candidate('p2', { workload: 2 })]))).to.equal('p2');
  });
  it('dials locally when the least busy peer is busier than the local node', () => {
    expect(pick(policy.choose(REQUEST, [candidate('direct', { workload: 1 }), candidate('p1', { workload: 2 })]))).to.equal('direct');
  });
  it('gives a tie to the peer', () => {
    expect(pick(policy.choose(REQUEST, [candidate('direct', { workload: 2 }), candidate('p1', { workload: 2 })]))).to.equal('p1');
  });
  it('compares with the least busy of several local sources', () => {
    expect(pick(policy.choose(REQUEST, [candidate('if:a', { workload: 4 }), candidate('if:b', { workload: 1 }), candidate('p1', { workload: 2 })]))).to.equal('if:b');
  });
  it('works with only peers or only local sources, and with none', () => {
    expect(pick(policy.choose(REQUEST, [candidate('p1', { workload: 2 }), candidate('p2', { workload: 1 })]))).to.equal('p2');
    expect(pick(policy.choose(REQUEST, [candidate('direct')]))).to.equal('direct');
    expect(policy.choose(REQUEST, [])).to.equal(undefined);
  });
});

describe('round-robin', () => {
  it('cycles through the candidates in order', () => {
    const policy = roundRobin();
    const cs = [candidate('a'), candidate('b'), candidate('c')];
    expect(Array.from({ length: 7 }, () => pick(policy.choose(REQUEST, cs)))).to.deep.equal(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });
});

describe('bandwidth-weighted', () => {
  it('without measurements, behaves as least-connections', () => {
    const policy = bandwidthWeighted();
    expect(pick(policy.choose(REQUEST, [candidate('a', { openTunnels: 2 }), candidate('b', { openTunnels: 1 })]))).to.equal('b');
  });

  it('tries a source never measured (assumed as fast as the fastest known)', () => {
    const policy = bandwidthWeighted();
    expect(pick(policy.choose(REQUEST, [candidate('a', { openTunnels: 1, capacity: 1e6 }), candidate('new', { openTunnels: 0 })]))).to.equal('new');
  });

  /**
   * Simulated job on 30, 10 and 5 Mbit/s links: connections arrive, each moves
   * 4 MB, a link shares its capacity among its tunnels. The policy sees the
   * true capacities. Compares the job's completion time with least-busy's.
   */
  function simulate(choose: (cs: Candidate[]) => string, arrivals = 90, sizeBytes = 4e6) {
    const capacity: Record<string, number> = { fast: 30e6 / 8, mid: 10e6 / 8, slow: 5e6 / 8 };
    const tunnels: { source: string; left: number }[] = [];
    const assigned: Record<string, number> = { fast: 0, mid: 0, slow: 0 };
    const dt = 0.01;
    let t = 0;
    let arrived = 0;
    while (arrived < arrivals || tunnels.length > 0) {
      if (arrived < arrivals && t >= arrived * 0.02) {
        const cs = Object.keys(capacity).map((id) => candidate(id, { openTunnels: tunnels.filter((x) => x.source === id).length, workload: tunnels.filter((x) => x.source === id).length, capacity: capacity[id] }, false));
        const id = choose(cs);
        assigned[id]++;
        tunnels.push({ source: id, left: sizeBytes });
        arrived++;
      }
      for (const id of Object.keys(capacity)) {
        const mine = tunnels.filter((x) => x.source === id);
        for (const x of mine) x.left -= (capacity[id] / mine.length) * dt;
      }
      for (let i = tunnels.length - 1; i >= 0; i--) if (tunnels[i].left <= 0) tunnels.splice(i, 1);
      t += dt;
    }
    return { seconds: t, assigned };
  }

  it('keeps unequal links proportionally loaded (≈ 6:2:1) and finishes the job sooner than least-busy', () => {
    const bw = bandwidthWeighted();
    const lb = leastBusy();
    const weighted = simulate((cs) => pick(bw.choose(REQUEST, cs))!);
    const busy = simulate((cs) => pick(lb.choose(REQUEST, cs))!);
    const { fast, mid, slow } = weighted.assigned;
    expect(fast / slow).to.be.within(4, 8);
    expect(mid / slow).to.be.within(1.3, 3);
    expect(weighted.seconds).to.be.below(busy.seconds * 0.8);
  });
});

describe('p2c (power of two choices, latency-weighted)', () => {
  it('is reproducible with a seed and always returns a candidate', () => {
    const cs = Array.from({ length: 10 }, (_, i) => candidate(`s${i}`, { openTunnels: i, connectLatencyMs: 10 }));
    const a = p2c({ seed: 7 });
    const b = p2c({ seed: 7 });
    const picksA = Array.from({ length: 50 }, () => pick(a.choose(REQUEST, cs)));
    expect(Array.from({ length: 50 }, () => pick(b.choose(REQUEST, cs)))).to.deep.equal(picksA);
    expect(picksA.every((id) => cs.some((c) => c.id === id))).to.equal(true);
  });

  it('of the two it samples, keeps the one with the lower latency-weighted load', () => {
    const policy = p2c({ seed: 1 });
    const cs = [candidate('far', { connectLatencyMs: 200, openTunnels: 0 }), candidate('near', { connectLatencyMs: 5, openTunnels: 3 })];
    for (let i = 0; i < 20; i++) expect(pick(policy.choose(REQUEST, cs))).to.equal('near');
  });

  it('avoids a source with recent failures', () => {
    const policy = p2c({ seed: 3 });
    const cs = [candidate('flaky', { connectLatencyMs: 5, recentFailures: 10 }), candidate('ok', { connectLatencyMs: 5, openTunnels: 2 })];
    expect(pick(policy.choose(REQUEST, cs))).to.equal('ok');
  });

  it('spreads load: the busiest of many sources is rarely chosen', () => {
    const policy = p2c({ seed: 11 });
    const cs = Array.from({ length: 8 }, (_, i) => candidate(`s${i}`, { openTunnels: i * 5, connectLatencyMs: 10 }));
    const counts: Record<string, number> = {};
    for (let i = 0; i < 2000; i++) {
      const id = pick(policy.choose(REQUEST, cs))!;
      counts[id] = (counts[id] ?? 0) + 1;
    }
    expect(counts.s7 ?? 0).to.equal(0);
    expect(counts.s0).to.be.greaterThan(counts.s6 ?? 0);
  });
});
