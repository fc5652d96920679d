import { expect } from 'chai';
import { bandwidthWeighted } from '../../plugins/bandwidth-weighted/src/index';
import { leastBusy } from '../../plugins/least-busy/src/index';
import { p2c } from '../../plugins/p2c/src/index';
import { roundRobin } from '../../plugins/round-robin/src/index';
import type { BalancingPolicy } from '../../src/api/policy';
import type { Candidate } from '../../src/api/sources';
import { candidate, REQUEST } from './candidates';

const pick = (r: Candidate | readonly Candidate[] | undefined) => (Array.isArray(r) ? r[0] : (r as Candidate | undefined))?.id;

describe('least-busy (0.3 semantics)', () => {
  const policy = leastBusy();
  it('takes the least busy peer when it is not busier than the local node', () => {
    expect(pick(policy.choose(REQUEST, [candidate('direct', { workload: 3 }), candidate('p1', { workload: 5 }), candidate('p2', { workload: 2 })]))).to.equal(
      'p2',
    );
  });
  it('dials locally when the least busy peer is busier than the local node', () => {
    expect(pick(policy.choose(REQUEST, [candidate('direct', { workload: 1 }), candidate('p1', { workload: 2 })]))).to.equal('direct');
  });
  it('gives a tie to the peer', () => {
    expect(pick(policy.choose(REQUEST, [candidate('direct', { workload: 2 }), candidate('p1', { workload: 2 })]))).to.equal('p1');
  });
  it('compares with the least busy of several local sources', () => {
    expect(pick(policy.choose(REQUEST, [candidate('if:a', { workload: 4 }), candidate('if:b', { workload: 1 }), candidate('p1', { workload: 2 })]))).to.equal(
      'if:b',
    );
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
  const MBIT = 1e6 / 8;

  /**
   * A burst of n simultaneous connections: each choice is a dial under way on
   * its source (pendingDials, in load) when the next one is decided, as the
   * dispatcher does. Returns the tunnels per source, in the order given.
   */
  function burst(policy: BalancingPolicy, sources: { id: string; capacity: number; local?: boolean; reported?: number }[], n: number): number[] {
    const pending = sources.map(() => 0);
    for (let i = 0; i < n; i++) {
      const cs = sources.map((s, k) =>
        candidate(s.id, { pendingDials: pending[k], load: Math.max(pending[k], s.reported ?? 0), capacity: s.capacity }, s.local ?? s.id === 'direct'),
      );
      const id = pick(policy.choose(REQUEST, cs));
      pending[sources.findIndex((s) => s.id === id)]++;
    }
    return pending;
  }
  const testbed = (a: number, b: number, c: number) => [
    { id: 'direct', capacity: a },
    { id: 'b', capacity: b },
    { id: 'c', capacity: c },
  ];

  it('a burst on 28.7, 9.6 and 4.8 Mbit/s: 6 connections split 5/1/0, 20 split 14/4/2', () => {
    const links = testbed(28.7 * MBIT, 9.6 * MBIT, 4.8 * MBIT);
    expect(burst(bandwidthWeighted(), links, 6)).to.deep.equal([5, 1, 0]);
    expect(burst(bandwidthWeighted(), links, 20)).to.deep.equal([14, 4, 2]);
  });

  it('equal links: an even split', () => {
    expect(burst(bandwidthWeighted(), testbed(10 * MBIT, 10 * MBIT, 10 * MBIT), 9)).to.deep.equal([3, 3, 3]);
    expect(
      burst(
        bandwidthWeighted(),
        [
          { id: 'p1', capacity: 1e6 },
          { id: 'p2', capacity: 1e6 },
        ],
        10,
      ),
    ).to.deep.equal([5, 5]);
  });

  it('counts dials under way: without them (openTunnels only) a burst would all land on one source', () => {
    const cs = [candidate('direct', { capacity: 10 * MBIT, pendingDials: 3, load: 3 }), candidate('b', { capacity: 10 * MBIT })];
    expect(pick(bandwidthWeighted().choose(REQUEST, cs))).to.equal('b');
  });

  it('a peer busy with its own users (load includes its reported tunnels) gets less', () => {
    const links = [
      { id: 'direct', capacity: 10 * MBIT },
      { id: 'b', capacity: 10 * MBIT, reported: 4 },
    ];
    expect(burst(bandwidthWeighted(), links, 6)).to.deep.equal([5, 1]);
  });

  it('cold start, nothing known: the local link is the baseline, each peer explored by one connection', () => {
    expect(burst(bandwidthWeighted(), testbed(0, 0, 0), 6)).to.deep.equal([4, 1, 1]);
    expect(burst(bandwidthWeighted(), testbed(0, 0, 0), 20)).to.deep.equal([18, 1, 1]);
    // Many unmeasured peers: exploring stays at most a third of the connections.
    const many = [{ id: 'direct', capacity: 0 }, ...Array.from({ length: 8 }, (_, i) => ({ id: `p${i}`, capacity: 0 }))];
    const split = burst(bandwidthWeighted(), many, 9);
    expect(split[0]).to.equal(6);
    expect(Math.max(...split.slice(1))).to.equal(1);
  });

  it('cold start, some known: an unmeasured peer gets one exploratory connection at a time', () => {
    expect(burst(bandwidthWeighted(), testbed(28.7 * MBIT, 9.6 * MBIT, 0), 6)).to.deep.equal([4, 1, 1]);
    // Its exploration is under way: the next connections go to known sources.
    const cs = [candidate('direct', { capacity: 1e6, openTunnels: 5 }), candidate('b', { openTunnels: 1 })];
    expect(pick(bandwidthWeighted().choose(REQUEST, cs))).to.equal('direct');
  });

  it('an unmeasured local link, peers advertised: the local link takes at least half (never worse than it alone)', () => {
    const split = burst(bandwidthWeighted(), testbed(0, 10 * MBIT, 5 * MBIT), 12);
    expect(split[0]).to.be.at.least(6);
    expect(split[0] + split[1] + split[2]).to.equal(12);
  });

  it('only unmeasured peers: explores each, then the least loaded', () => {
    const policy = bandwidthWeighted();
    expect(pick(policy.choose(REQUEST, [candidate('a', { openTunnels: 2 }), candidate('b', { openTunnels: 1 })]))).to.equal('b');
    expect(pick(policy.choose(REQUEST, [candidate('a', { openTunnels: 2 }), candidate('b', { openTunnels: 1 }), candidate('c')]))).to.equal('c');
    expect(policy.choose(REQUEST, [])).to.equal(undefined);
  });

  it('refuses a bad explorationShare', () => {
    expect(() => bandwidthWeighted({ explorationShare: 0 })).to.throw(/explorationShare must be a number in \(0, 1\], got 0/);
    expect(() => bandwidthWeighted({ explorationShare: '1' as never })).to.throw(/explorationShare/);
  });

  /**
   * Simulated job on 30, 10 and 5 Mbit/s links: connections arrive every
   * `gap` s, each moves `size` bytes, a link shares its capacity among its
   * tunnels. The policy sees a source's capacity once that source has carried
   * traffic for `learnAfter` s (Infinity: never; 0: known from the start), and
   * every tunnel, including those just decided. Returns the job's seconds.
   */
  function simulate(
    choose: (cs: Candidate[]) => string,
    opts: { arrivals?: number; gap?: number; size?: number; learnAfter?: number; links?: Record<string, number> } = {},
  ) {
    const { arrivals = 90, gap = 0.02, size = 4e6, learnAfter = 0 } = opts;
    const capacity = opts.links ?? { direct: 30 * MBIT, b: 10 * MBIT, c: 5 * MBIT };
    const busySeconds: Record<string, number> = Object.fromEntries(Object.keys(capacity).map((id) => [id, 0]));
    const tunnels: { source: string; left: number }[] = [];
    const assigned: Record<string, number> = Object.fromEntries(Object.keys(capacity).map((id) => [id, 0]));
    const dt = 0.01;
    let t = 0;
    let arrived = 0;
    while (arrived < arrivals || tunnels.length > 0) {
      while (arrived < arrivals && t >= arrived * gap) {
        const cs = Object.keys(capacity).map((id) => {
          const open = tunnels.filter((x) => x.source === id).length;
          return candidate(id, { openTunnels: open, workload: open, capacity: busySeconds[id] >= learnAfter ? capacity[id] : 0 });
        });
        const id = choose(cs);
        assigned[id]++;
        tunnels.push({ source: id, left: size });
        arrived++;
      }
      for (const id of Object.keys(capacity)) {
        const mine = tunnels.filter((x) => x.source === id);
        if (mine.length > 0) busySeconds[id] += dt;
        for (const x of mine) x.left -= (capacity[id] / mine.length) * dt;
      }
      for (let i = tunnels.length - 1; i >= 0; i--) if (tunnels[i].left <= 0) tunnels.splice(i, 1);
      t += dt;
    }
    return { seconds: t, assigned };
  }
  const alone = (id: string) => (cs: Candidate[]) => cs.find((c) => c.id === id)!.id;

  it('keeps unequal links proportionally loaded (≈ 6:2:1) and finishes the job sooner than least-busy', () => {
    const bw = bandwidthWeighted();
    const lb = leastBusy();
    const weighted = simulate((cs) => pick(bw.choose(REQUEST, cs))!);
    const busy = simulate((cs) => pick(lb.choose(REQUEST, cs))!);
    const { direct, b, c } = weighted.assigned;
    expect(direct / c).to.be.within(4, 8);
    expect(b / c).to.be.within(1.3, 3);
    expect(weighted.seconds).to.be.below(busy.seconds * 0.8);
  });

  it('a cold start never loses to the local link alone (1 % slack for the simulation), and beats it once capacities are learnt', () => {
    // Capacities become known after 1 s of traffic through a source, as the estimator does.
    for (const [arrivals, gap, size] of [
      [6, 0, 20e6],
      [20, 0, 4e6],
      [90, 0.02, 4e6],
      [30, 0.5, 2e6],
      [10, 0.2, 4e6],
    ]) {
      const one = simulate(alone('direct'), { arrivals, gap, size });
      const bw = bandwidthWeighted();
      const cold = simulate((cs) => pick(bw.choose(REQUEST, cs))!, { arrivals, gap, size, learnAfter: 1 });
      expect(cold.seconds, `${arrivals} × ${size / 1e6} MB, every ${gap} s: ${JSON.stringify(cold.assigned)}`).to.be.at.most(one.seconds * 1.01);
      // With enough connections in flight, what is learnt from the first ones pays off.
      if (arrivals >= 10 && gap < 0.5) expect(cold.seconds).to.be.below(one.seconds * 0.9);
    }
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
