import { expect } from 'chai';
import * as sinon from 'sinon';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import * as path from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import type { PluginFault } from '../../src/api/events';
import type { SourceStats } from '../../src/api/sources';
import { resolveSettings } from '../../src/core/config';
import { createNodeContainer } from '../../src/core/container';
import { EventHub } from '../../src/kernel/events';
import { silentLogger } from '../../src/kernel/logger';
import { PolicyManager, UnknownPolicyError } from '../../src/dispatch/policies';
import { PolicyTiming } from '../../src/dispatch/policy-timing';
import { RuleSet } from '../../src/dispatch/rules';
import { ExtensionHost } from '../../src/extensions/host';
import { readDescription } from '../../src/extensions/manifest';
import { builtinPlugins } from '../helpers/node';
import { FIXTURES } from '../helpers/paths';
import { candidate, REQUEST } from '../policies/candidates';

describe('policy manager', () => {
  let container: DependencyContainer;
  let manager: PolicyManager;
  let faults: PluginFault[];

  beforeEach(async () => {
    const plugins = [...(await builtinPlugins()), readDescription(path.join(FIXTURES, 'plugins', 'faulty-policies'), 'link')];
    container = createNodeContainer({ settings: resolveSettings({ policyDeadlineMs: 10 }), logger: silentLogger, plugins });
    manager = container.resolve(PolicyManager);
    faults = [];
    container.resolve(EventHub).onPluginFault((f) => faults.push(f));
  });
  afterEach(async () => {
    await container.resolve(ExtensionHost).deactivateAll();
    await container.dispose();
  });

  const cs = [candidate('direct', { workload: 5 }), candidate('p1', { workload: 1 })];

  for (const [policy, message] of [
    ['throws', /threw: policy bug/],
    ['stranger', /returned a source that is not a candidate \("nobody"\)/],
  ] as const) {
    it(`a policy that ${policy === 'throws' ? 'throws' : 'returns a stranger'}: the fallback decides, the fault is counted and reported`, async () => {
      await manager.use(policy);
      expect(manager.choose(REQUEST, cs)?.id).to.equal('p1'); // least-busy's answer
      expect(manager.faults.get(policy)).to.equal(1);
      expect(faults).to.have.length(1);
      expect(faults[0]).to.include({ plugin: 'fixture-faulty-policies', contribution: `policies:${policy}` });
      expect(faults[0].message).to.match(message);
    });
  }

  it('a policy over its deadline: its answer is used (not run twice), and the overrun is reported once judged', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await manager.use('slow');
      expect(manager.choose(REQUEST, cs)?.id).to.equal('direct'); // slow's own answer, not least-busy's
      expect(faults, 'judged only once its GC pauses are known').to.have.length(0);
      await clock.tickAsync(100);
      expect(manager.faults.get('slow')).to.equal(1);
      expect(faults).to.have.length(1);
      expect(faults[0]).to.include({ plugin: 'fixture-faulty-policies', contribution: 'policies:slow' });
      expect(faults[0].message).to.match(/took \d+\.\d ms of its own \(deadline 10 ms\)/);
    } finally {
      clock.restore();
    }
  });

  it('a policy over its deadline only because of a GC pause is not blamed', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      manager.timing.dispose();
      manager.timing = new PolicyTiming(false);
      await manager.use('slow');
      const before = performance.now();
      expect(manager.choose(REQUEST, cs)?.id).to.equal('direct');
      const after = performance.now();
      // A pause covering all but 5 ms of the 30 ms the policy took: its own time is under the 10 ms deadline.
      manager.timing.recordPause(before, after - before - 5);
      await clock.tickAsync(100);
      expect(manager.faults.get('slow') ?? 0).to.equal(0);
      expect(faults).to.deep.equal([]);
    } finally {
      clock.restore();
    }
  });

  it('policies get frozen snapshots: a policy cannot change the live statistics; its ranking comes back in order', async () => {
    await manager.use('mutates');
    const live = [candidate('a'), candidate('b'), candidate('c')];
    const ranking = manager.decide(REQUEST, live);
    expect(ranking.map((c) => c.id)).to.deep.equal(['c', 'b', 'a']);
    expect(ranking[0]).to.equal(live[2], "the registry's own candidates come back");
    expect(live.map((c) => c.stats.openTunnels)).to.deep.equal([0, 0, 0]);
    expect(faults).to.deep.equal([]);
  });

  it('refuses an unknown policy, listing those available', async () => {
    try {
      await manager.use('nope');
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(UnknownPolicyError);
      expect((err as Error).message).to.match(
        /policy "nope" is not contributed by any plugin \(available: bandwidth-weighted, least-busy, mutates, p2c, round-robin, slow, stranger, throws\)/,
      );
    }
  });

  it('property: for every built-in policy, the choice is always a candidate the rules allow', async () => {
    const rules = new RuleSet();
    const stats = fc.record<Partial<SourceStats>>({
      openTunnels: fc.nat(50),
      workload: fc.integer({ min: -20, max: 50 }),
      capacity: fc.nat(1e7),
      connectLatencyMs: fc.nat(500),
      recentFailures: fc.nat(5),
      throughputDown: fc.nat(1e7),
    });
    const cand = fc.tuple(fc.constantFrom('direct', 'if:a', 'if:b', 'p1', 'p2', 'p3', 'p4'), stats).map(([id, s]) => candidate(id, s));
    for (const policy of ['least-busy', 'round-robin', 'bandwidth-weighted', 'p2c']) {
      await manager.use(policy);
      fc.assert(
        fc.property(fc.uniqueArray(cand, { selector: (c) => c.id, maxLength: 7 }), fc.constantFrom('direct', 'p1', 'if:a'), (all, blocked) => {
          rules.add({ type: 'block', source: blocked });
          const allowed = rules.filter('example.com', all, 0);
          rules.remove(0);
          const choice = manager.choose(REQUEST, allowed);
          if (allowed.length === 0) expect(choice).to.equal(undefined);
          else expect(allowed).to.include(choice);
          expect(choice?.id).to.not.equal(blocked);
        }),
        { numRuns: 300 },
      );
      expect(manager.faults.get(policy) ?? 0, `${policy} faults`).to.equal(0);
    }
  });
});
