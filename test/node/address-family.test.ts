import { expect } from 'chai';
import type { DialAttempt } from '../../src/api/events';
import type { BoosterNode } from '../../src/core/node';
import { startHttpServer, type TestHttpServer } from '../helpers/http';
import { startTestNode } from '../helpers/node';
import { getViaSocks } from '../helpers/socks';

/**
 * A dual-stack host: sources bound to an IPv4 address never get IPv6 targets
 * and the reverse, so no dial fails with bind EINVAL and no healthy source is
 * ejected for it.
 */
describe('sources are chosen per address family', function () {
  this.timeout(30_000);
  let v4: TestHttpServer;
  let v6: TestHttpServer;
  let a: BoosterNode;

  // A node per test: the second test blocks a source, which the first must not inherit.
  beforeEach(async () => {
    [v4, v6] = await Promise.all([startHttpServer('127.0.0.1'), startHttpServer('::1')]);
    a = await startTestNode({ settings: { policy: 'round-robin', rules: [{ type: 'block', source: 'direct' }] } });
    a.sources.add({ id: 'if:lo:127.0.0.1', kind: 'interface', label: 'lo (127.0.0.1)', dialer: 'direct', localAddress: '127.0.0.1', local: true });
    a.sources.add({ id: 'if:lo:::1', kind: 'interface', label: 'lo (::1)', dialer: 'direct', localAddress: '::1', local: true });
  });
  afterEach(async () => {
    await Promise.all([a?.stop(), v4?.close(), v6?.close()]);
  });

  it('IPv4 targets leave through the IPv4 source, IPv6 targets through the IPv6 one, with no failed dial', async () => {
    const dials: DialAttempt[] = [];
    const sub = a.events.onDial((d) => dials.push(d));
    // Round-robin would alternate the two sources: in this order, half the dials would cross families.
    for (const [host, port] of [
      ['127.0.0.1', v4.port],
      ['127.0.0.1', v4.port],
      ['::1', v6.port],
      ['::1', v6.port],
    ] as const) {
      for (let i = 0; i < 3; i++) expect((await getViaSocks(a.proxyAddress.port, host, port, '/hello')).status).to.equal(200);
    }
    sub.dispose();
    expect(
      dials.filter((d) => !d.ok),
      JSON.stringify(dials.filter((d) => !d.ok)),
    ).to.deep.equal([]);
    expect(dials.filter((d) => d.target.host === '127.0.0.1').map((d) => d.sourceId)).to.deep.equal(Array(6).fill('if:lo:127.0.0.1'));
    expect(dials.filter((d) => d.target.host === '::1').map((d) => d.sourceId)).to.deep.equal(Array(6).fill('if:lo:::1'));
    for (const id of ['if:lo:127.0.0.1', 'if:lo:::1']) {
      expect(a.sources.get(id)!.stats.health).to.equal('healthy');
      expect(a.sources.get(id)!.stats.recentFailures).to.equal(0);
    }
  });

  it('an IPv6 target with only IPv4 sources left is refused clearly, without counting against them', async () => {
    a.rules.add({ type: 'block', source: 'if:lo:::1' });
    const err = await getViaSocks(a.proxyAddress.port, '::1', v6.port, '/hello').then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err, 'the request should fail').to.be.instanceOf(Error);
    expect(a.sources.get('if:lo:127.0.0.1')!.stats.recentFailures).to.equal(0);
    expect(a.sources.get('if:lo:127.0.0.1')!.stats.health).to.equal('healthy');
  });
});
