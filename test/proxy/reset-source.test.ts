import { expect } from 'chai';
import type { TunnelClosed } from '../../src/api/events';
import { LOOPBACK_ONLY } from '../../src/proxy/access';
import { type RawClient, socks5Open, startProxy, startTcpOrigin, TableConnector, useProxyFixture } from './harness';
import { openAsPeer, securityFor, type PeerConnection } from './peer-client';

const security = securityFor();

describe('proxy: TunnelTable.resetSource (a peer declared down)', function () {
  this.timeout(10_000);
  const fx = useProxyFixture();

  /** An echo origin; tunnels to it are counted on `sourceId`. */
  async function echoVia(sourceId: string, routes: Map<number, string>): Promise<number> {
    const o = await startTcpOrigin((s) => s.pipe(s));
    fx.cleanup.push(() => o.close());
    routes.set(o.port, sourceId);
    return o.port;
  }

  async function echoes(c: RawClient, text: string): Promise<void> {
    c.send(text);
    expect((await c.read(text.length)).toString()).to.equal(text);
  }

  it('resets every client tunnelled through the source, closes their tunnels with the reason, and leaves the others', async () => {
    const routes = new Map<number, string>();
    const connector = new TableConnector((r) => routes.get(r.target.port) ?? 'direct');
    const closed: TunnelClosed[] = [];
    connector.events.onTunnelClosed((c) => closed.push(c));
    fx.proxy = await startProxy({}, connector as never);
    const deadPort = await echoVia('peer:dead', routes);
    const livePort = await echoVia('direct', routes);
    const [a, b, other] = await Promise.all([fx.clients.connect(fx.proxy.port), fx.clients.connect(fx.proxy.port), fx.clients.connect(fx.proxy.port)]);
    for (const [c, port] of [
      [a, deadPort],
      [b, deadPort],
      [other, livePort],
    ] as const) {
      await socks5Open(c, '127.0.0.1', port);
      await echoes(c, 'before');
    }

    expect(connector.table.resetSource('peer:dead', 'peer 10.0.0.2:4884 is down')).to.equal(2);
    await Promise.all([a.gone(), b.gone()]);
    expect([a.reset, b.reset], 'the clients see a reset, not a clean end').to.deep.equal([true, true]);
    await echoes(other, 'still here');
    await new Promise((r) => setTimeout(r, 50));
    expect(closed.map((c) => [c.tunnel.sourceId, c.error])).to.deep.equal([
      ['peer:dead', 'peer 10.0.0.2:4884 is down'],
      ['peer:dead', 'peer 10.0.0.2:4884 is down'],
    ]);
    expect(connector.table.size).to.equal(1);
    expect(connector.table.resetSource('peer:dead', 'again')).to.equal(0);
  });

  it('resets the TCP connection under a booster peer’s TLS stream', async () => {
    const routes = new Map<number, string>();
    const connector = new TableConnector((r) => routes.get(r.target.port) ?? 'direct');
    fx.proxy = await startProxy({ access: { ...LOOPBACK_ONLY, secureServer: (s, signal) => security.secureServer(s, signal) } }, connector as never);
    const port = await echoVia('peer:dead', routes);
    const peer: PeerConnection = await openAsPeer(fx.proxy.port, security, { host: '127.0.0.1', port });
    fx.cleanup.push(() => peer.raw.destroy());
    // The client's TLS stream owns the TCP handle: a reset shows there.
    const streamError = new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      peer.secured.once('error', resolve);
      peer.secured.once('close', () => resolve(undefined));
    });
    peer.secured.write('ping');
    await new Promise((r) => peer.secured.once('data', r));

    expect(connector.table.resetSource('peer:dead', 'peer down')).to.equal(1);
    expect((await streamError)?.code).to.equal('ECONNRESET');
  });
});
