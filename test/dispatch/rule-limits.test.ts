import { expect } from 'chai';
import { LimitError } from '../../src/kernel/limit-error';
import { RuleSet, validateRule, validateRules } from '../../src/dispatch/rules';

const limits = { maxRules: 2, maxHostsPerRule: 3 };
const avoid = (...hosts: string[]) => ({ type: 'avoid' as const, source: 'direct', hosts });

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('rule limits', () => {
  it('refuses a rule beyond limits.maxRules, naming the limit and how to raise it', () => {
    const rules = new RuleSet([], limits);
    rules.add(avoid('a.example'));
    rules.add(avoid('b.example'));
    const err = thrown(() => rules.add(avoid('c.example')));
    expect(err).to.be.instanceOf(LimitError);
    expect((err as LimitError).code).to.equal('too-many-rules');
    expect((err as LimitError).setting).to.equal('maxRules');
    expect(err.message).to.match(/already has 2 rules.*limits\.maxRules.*config file/);
    expect(rules.list()).to.have.length(2);
  });

  it('refuses a rule with more than limits.maxHostsPerRule hosts', () => {
    const rules = new RuleSet([], limits);
    const err = thrown(() => rules.add(avoid('a.example', 'b.example', 'c.example', 'd.example')));
    expect((err as LimitError).code).to.equal('too-many-hosts');
    expect(err.message).to.match(/lists 4 hosts, more than limits\.maxHostsPerRule \(3\).*raise limits\.maxHostsPerRule in the config file/);
    expect(rules.list()).to.have.length(0);
  });

  it('refuses a rule too big for one control reply page, whatever the limits say', () => {
    const rules = new RuleSet([], { maxRules: 10, maxHostsPerRule: 1000 });
    const hosts = Array.from({ length: 200 }, (_, i) => `${'h'.repeat(63)}.${'x'.repeat(63)}.${'y'.repeat(63)}.${'z'.repeat(50)}${i}`);
    const err = thrown(() => rules.add(avoid(...hosts)));
    expect((err as LimitError).code).to.equal('rule-too-large');
    expect(err.message).to.match(/split it into several rules/);
  });

  it('checks rules given at construction (the config file) the same way, naming the rule', () => {
    expect(() => new RuleSet([avoid('a.example'), avoid('b.example'), avoid('c.example')], limits)).to.throw(
      LimitError,
      /3 rules configured, more than limits\.maxRules \(2\)/,
    );
    const err = thrown(() => validateRules([avoid('a.example'), avoid('a', 'b', 'c', 'd')], limits));
    expect(err).to.be.instanceOf(LimitError);
    expect(err.message).to.match(/^rule #1: rule avoid lists 4 hosts/);
    expect(() => validateRules([{ type: 'avoid', source: 'direct', hosts: ['bad host'] }], limits)).to.throw(
      /^rule #0: rule avoid: host "bad host" is not a host name/,
    );
  });

  for (const [host, reason] of [
    ['a'.repeat(254), /is 254 characters long; a host name has at most 253/],
    ['bad host', /not a host name, an IP address or a \*\.domain pattern/],
    ['evil.example\n2026-01-01T00:00:00.000Z INFO forged', /not a host name/],
    ['a..example', /not a host name/],
    ['*', /not a host name/],
    ['*.*.example', /not a host name/],
    ['http://a.example/', /not a host name/],
    ['a.example:443', /not a host name/],
  ] as const) {
    it(`refuses the host pattern ${JSON.stringify(host.slice(0, 40))}`, () => {
      expect(() => validateRule(avoid(host))).to.throw(reason);
    });
  }

  it('accepts host names, *.domain patterns and IP addresses', () => {
    for (const host of [
      'example.com',
      '*.bank.example',
      'EXAMPLE.com.',
      'my_host-1.lan',
      'bücher.example',
      '192.168.1.10',
      '::1',
      'fe80::1',
      'a'.repeat(63) + '.example',
    ]) {
      expect(validateRule(avoid(host)), host).to.deep.equal(avoid(host));
    }
  });

  it('quotes a long or hostile value in the error briefly, never verbatim', () => {
    const err = thrown(() => validateRule({ type: 'x'.repeat(10_000) }));
    expect(err.message.length).to.be.below(200);
    expect(err.message).to.match(/unknown rule type "x+…"/);
  });
});
