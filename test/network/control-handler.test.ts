import { expect } from 'chai';
import type { PolicyManager } from '../../src/dispatch/policies';
import { RuleSet } from '../../src/dispatch/rules';
import { ControlHandler } from '../../src/network/control/control';

const policies = {
  current: 'least-busy',
  available: () => ['least-busy', 'round-robin'],
  faults: new Map<string, number>(),
  use: async (name: string) => {
    throw new Error(`policy "${name}" is not contributed by any plugin`);
  },
} as unknown as PolicyManager;

describe('ControlHandler', () => {
  it('logs a refusal for a limit through LimitLog and answers the reason', async () => {
    const hits: [string, string][] = [];
    const handler = new ControlHandler(policies, new RuleSet([], { maxRules: 1, maxHostsPerRule: 2 }), { hit: (key, message) => hits.push([key, message]) });
    expect((await handler.handle({ op: 'rules-add', rule: { type: 'block', source: 'direct' } })).ok).to.equal(true);
    const refused = await handler.handle({ op: 'rules-add', rule: { type: 'block', source: 'wlan' } });
    expect(refused.ok).to.equal(false);
    expect(refused.error).to.match(/limits\.maxRules/);
    expect(hits).to.have.length(1);
    expect(hits[0][0]).to.equal('too-many-rules');
    expect(hits[0][1]).to.match(/^refused rules-add: this node already has 1 rules/);
    const invalid = await handler.handle({ op: 'rules-add', rule: { type: 'avoid', source: 'direct', hosts: ['not a host'] } });
    expect(invalid.ok).to.equal(false);
    expect(hits).to.have.length(1); // a malformed rule is the user's typo, not a limit
  });

  it('keeps an error that echoes huge input short, so the reply always fits', async () => {
    const handler = new ControlHandler(policies, new RuleSet());
    const reply = await handler.handle({ op: 'use', policy: 'p'.repeat(200_000) });
    expect(reply.ok).to.equal(false);
    expect(reply.error!.length).to.be.within(100, 2001);
    expect(reply.error).to.match(/^policy "ppp/);
  });

  it('answers an empty page past the end, and the total', async () => {
    const handler = new ControlHandler(
      policies,
      new RuleSet([
        { type: 'block', source: 'a' },
        { type: 'block', source: 'b' },
      ]),
    );
    const reply = await handler.handle({ op: 'status', rulesOffset: 5 });
    expect(reply).to.deep.include({ ok: true, rules: [], rulesOffset: 5, rulesTotal: 2 });
    expect((await handler.handle({ op: 'status', rulesOffset: 1 })).rules).to.deep.equal([{ type: 'block', source: 'b' }]);
  });
});
