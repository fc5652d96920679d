import { expect } from 'chai';
import type { BoosterNode } from '../../src/core/node';
import { BOOSTER_EXTENSION, encodeMessage, MessageId } from '../../src/wire';
import { startTestNode } from '../helpers/node';
import { RawLink } from '../helpers/raw-link';
import { sessionHarness, type SessionHarness } from '../helpers/session-harness';

/** A control request with any op and fields, as a client that is not ours could send it. */
const control = (payload: object) => encodeMessage(MessageId.CONTROL_REQUEST, payload, { extensions: [BOOSTER_EXTENSION] });

describe('network: what comes from the wire is validated (control ops, rules, fields)', function () {
  this.timeout(20_000);
  let node: BoosterNode;
  let harness: SessionHarness;

  before(async () => {
    node = await startTestNode();
    // "local": a connection from this machine, which may use control and monitor.
    harness = await sessionHarness(node, 'local', { limits: { maxTargetLength: 255 } });
  });
  after(async () => {
    await harness?.close();
    await node?.stop();
  });

  async function client(): Promise<RawLink> {
    const c = await RawLink.connect(harness.port);
    await c.next('hello');
    return c;
  }

  it('answers an unknown control op with an error naming it, runs nothing, and keeps the link', async () => {
    const c = await client();
    const rulesBefore = node.rules.list().length;
    c.socket.write(control({ op: 'rules-clear' }));
    const { reply } = await c.next('control-reply');
    expect(reply.ok).to.equal(false);
    expect(reply.error).to.match(/unknown control operation "rules-clear" \(known: status, use/);
    expect(reply.rules).to.deep.equal([]);
    expect(node.rules.list()).to.have.length(rulesBefore);
    // The link is still usable: a real status works on it.
    c.link.sendControl({ op: 'status' });
    expect((await c.next('control-reply')).reply.ok).to.equal(true);
    c.close();
  });

  it('answers a control request without an op with an error (it is not taken for status)', async () => {
    const c = await client();
    c.socket.write(control({ policy: 'least-busy' }));
    const { reply } = await c.next('control-reply');
    expect(reply).to.include({ ok: false });
    expect(reply.error).to.match(/names no operation/);
    c.close();
  });

  const badRules: [string, object, RegExp][] = [
    ['an unknown type', { type: 'frobnicate', source: 'direct' }, /unknown rule type "frobnicate" \(known: block, reserve, avoid, sticky\)/],
    ['no source', { type: 'block' }, /rule block: "source" must name a source id/],
    ['a reserve without hosts', { type: 'reserve', source: 'direct' }, /rule reserve: "hosts" must be a non-empty list/],
    ['a host that is not one', { type: 'avoid', source: 'direct', hosts: ['not a host!'] }, /host "not a host!" is not a host name/],
    ['a negative sticky ttl', { type: 'sticky', ttlMs: -5 }, /"ttlMs" must be a positive number/],
    ['no rule at all', undefined as unknown as object, /unknown rule type/],
  ];
  for (const [what, rule, error] of badRules) {
    it(`answers rules-add with ${what} with the validator's reason, and adds nothing`, async () => {
      const c = await client();
      const before = node.rules.list().length;
      c.socket.write(control({ op: 'rules-add', rule }));
      const { reply } = await c.next('control-reply');
      expect(reply.ok).to.equal(false);
      expect(reply.error).to.match(error);
      expect(node.rules.list()).to.have.length(before);
      c.close();
    });
  }

  it('adds a valid rule sent over the wire (the same validation lets it through)', async () => {
    const c = await client();
    c.socket.write(control({ op: 'rules-add', rule: { type: 'sticky', ttlMs: 60_000, hosts: ['example.com'] }, transient: true }));
    const { reply } = await c.next('control-reply');
    expect(reply.ok, reply.error).to.equal(true);
    expect(node.rules.list().at(-1)).to.deep.equal({ type: 'sticky', ttlMs: 60_000, hosts: ['example.com'] });
    c.link.sendControl({ op: 'rules-remove', index: node.rules.list().length - 1, transient: true });
    expect((await c.next('control-reply')).reply.ok).to.equal(true);
    c.close();
  });

  // The reason reaches the other side only where the node answers with a Result; a packet
  // that does not decode just closes the link (test/network/protocol-link-limits.test.ts checks its logged reason).
  const protocolErrors: [string, Buffer, RegExp | undefined][] = [
    ['an unknown monitor feature', encodeMessage(MessageId.MONITOR, { feature: 7 }, { extensions: [BOOSTER_EXTENSION] }), /unknown monitor feature 7/],
    ['an unknown ctrl operation', encodeMessage(MessageId.CTRL, { operation: 9 }, { extensions: [BOOSTER_EXTENSION] }), /unknown ctrl operation 9/],
    ['an over-long string', encodeMessage(MessageId.DISCONNECT, { id: 'x'.repeat(9000) }, { extensions: [BOOSTER_EXTENSION] }), undefined],
    ['a negative heartbeat hop count', encodeMessage(MessageId.HEARTBEAT, { hops: -3, ttl: { seconds: 5 } }, { extensions: [BOOSTER_EXTENSION] }), undefined],
  ];
  for (const [what, packet, reason] of protocolErrors) {
    it(`closes only the link that sent ${what}; the node and its other links carry on`, async () => {
      const bad = await client();
      const good = await client();
      bad.socket.write(packet);
      if (reason) expect((await bad.next('result')).message).to.match(reason);
      expect(await bad.closed).to.match(/closed by the other side|stream error/);
      good.link.sendControl({ op: 'status' });
      expect((await good.next('control-reply')).reply.ok).to.equal(true);
      good.close();
    });
  }
});
