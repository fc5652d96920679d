import { expect } from 'chai';
import fc from 'fast-check';
import { RuleSet, hostMatches, validateRule } from '../../src/dispatch/rules';
import { candidate } from '../policies/candidates';

const ids = (cs: { id: string }[]) => cs.map((c) => c.id);
const all = [candidate('direct'), candidate('wlan'), candidate('peer')];

describe('rules', () => {
  it('match hosts exactly or by *.domain (the domain and its subdomains), case-insensitively', () => {
    expect(hostMatches('*.bank.example', 'www.bank.example')).to.equal(true);
    expect(hostMatches('*.bank.example', 'bank.example')).to.equal(true);
    expect(hostMatches('*.bank.example', 'evilbank.example')).to.equal(false);
    expect(hostMatches('Example.com', 'example.COM')).to.equal(true);
  });

  it('block keeps a source out for every host', () => {
    const rules = new RuleSet([{ type: 'block', source: 'wlan' }]);
    expect(ids(rules.filter('a.com', all, 0))).to.deep.equal(['direct', 'peer']);
  });

  it('reserve: listed hosts go only to the reserved source; other hosts never use it', () => {
    const rules = new RuleSet([{ type: 'reserve', source: 'wlan', hosts: ['*.bank.example'] }]);
    expect(ids(rules.filter('www.bank.example', all, 0))).to.deep.equal(['wlan']);
    expect(ids(rules.filter('news.example', all, 0))).to.deep.equal(['direct', 'peer']);
  });

  it('reserve falls back to the others while the reserved source is unavailable', () => {
    const rules = new RuleSet([{ type: 'reserve', source: 'wlan', hosts: ['bank.example'] }]);
    expect(ids(rules.filter('bank.example', [candidate('direct'), candidate('peer')], 0))).to.deep.equal(['direct', 'peer']);
  });

  it('avoid keeps a source away from listed hosts only', () => {
    const rules = new RuleSet([{ type: 'avoid', source: 'peer', hosts: ['video.example'] }]);
    expect(ids(rules.filter('video.example', all, 0))).to.deep.equal(['direct', 'wlan']);
    expect(ids(rules.filter('other.example', all, 0))).to.deep.equal(['direct', 'wlan', 'peer']);
  });

  it('sticky pins a destination to the source it used, for ttl, then lets go', () => {
    const rules = new RuleSet([{ type: 'sticky', ttlMs: 1000 }]);
    expect(ids(rules.filter('shop.example', all, 0))).to.have.length(3);
    rules.remember('shop.example', 'peer', 0);
    expect(ids(rules.filter('shop.example', all, 999))).to.deep.equal(['peer']);
    expect(ids(rules.filter('other.example', all, 999))).to.have.length(3);
    expect(ids(rules.filter('shop.example', all, 1000))).to.have.length(3);
  });

  it('sticky does not pin to a source that is gone', () => {
    const rules = new RuleSet([{ type: 'sticky', ttlMs: 1000, hosts: ['shop.example'] }]);
    rules.remember('shop.example', 'peer', 0);
    expect(ids(rules.filter('shop.example', [candidate('direct')], 10))).to.deep.equal(['direct']);
  });

  it('can be added and removed at run time', () => {
    const rules = new RuleSet();
    rules.add({ type: 'block', source: 'direct' });
    expect(ids(rules.filter('x', all, 0))).to.deep.equal(['wlan', 'peer']);
    expect(rules.remove(0)).to.deep.equal({ type: 'block', source: 'direct' });
    expect(() => rules.remove(0)).to.throw(/no rule #0 \(there are 0\)/);
  });

  for (const [raw, message] of [
    [{ type: 'teleport' }, /unknown rule type "teleport"/],
    [{ type: 'block' }, /"source" must name a source id/],
    [{ type: 'reserve', source: 'x', hosts: [] }, /"hosts" must be a non-empty list/],
    [{ type: 'sticky', ttlMs: -1 }, /"ttlMs" must be a positive number/],
  ] as const) {
    it(`rejects ${JSON.stringify(raw)} with a clear reason`, () => {
      expect(() => validateRule(raw)).to.throw(message);
    });
  }

  it('property: the filtered set is always a subset of the candidates that no block/avoid rule excludes', () => {
    const source = fc.constantFrom('direct', 'wlan', 'peer', 'ghost');
    const host = fc.constantFrom('a.example', 'b.example', 'x.a.example');
    const rule = fc.oneof(
      fc.record({ type: fc.constant('block' as const), source }),
      fc.record({
        type: fc.constant('reserve' as const),
        source,
        hosts: fc.array(fc.constantFrom('a.example', '*.a.example', 'b.example'), { minLength: 1, maxLength: 2 }),
      }),
      fc.record({
        type: fc.constant('avoid' as const),
        source,
        hosts: fc.array(fc.constantFrom('a.example', '*.a.example', 'b.example'), { minLength: 1, maxLength: 2 }),
      }),
      fc.record({ type: fc.constant('sticky' as const), ttlMs: fc.integer({ min: 1, max: 100 }) }),
    );
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 5 }), host, fc.subarray(['direct', 'wlan', 'peer']), fc.option(source), (rs, h, present, pinned) => {
        const rules = new RuleSet(rs);
        if (pinned) rules.remember(h, pinned, 0);
        const cs = present.map((id) => candidate(id));
        const out = rules.filter(h, cs, 50);
        for (const c of out) {
          expect(present).to.include(c.id);
          expect(rs.some((r) => r.type === 'block' && r.source === c.id)).to.equal(false);
          expect(rs.some((r) => r.type === 'avoid' && r.source === c.id && r.hosts.some((p) => hostMatches(p, h)))).to.equal(false);
        }
      }),
      { numRuns: 500 },
    );
  });
});
