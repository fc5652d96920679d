import { expect } from 'chai';
import * as net from 'node:net';
import type { TunnelHandle } from '../../src/kernel/connector';
import { relay, type Relay } from '../../src/proxy/relay';

/** A connected pair of real TCP sockets on 127.0.0.1: [the side we relay, the far end]. */
async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const near = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((r) => near.once('connect', r));
  const far = await accepted;
  server.close();
  return [near, far];
}

function handle(): TunnelHandle & { closedWith: (string | undefined)[] } {
  const closedWith: (string | undefined)[] = [];
  return {
    info: {} as TunnelHandle['info'],
    closedWith,
    countUp: () => undefined,
    countDown: () => undefined,
    close: (error) => closedWith.push(error),
    onAbort: () => undefined,
  };
}

/** How the application saw its connection end: cleanly (with what it received) or by a reset. */
function outcome(app: net.Socket): Promise<{ clean: boolean; bytes: number }> {
  let bytes = 0;
  app.on('data', (d: Buffer) => (bytes += d.length));
  return new Promise((resolve) => {
    app.once('end', () => resolve({ clean: true, bytes }));
    app.once('error', () => resolve({ clean: false, bytes }));
  });
}

describe('proxy: the end of a tunnel through a peer (RelayOptions.upstreamEndGraceMs)', function () {
  this.timeout(5000);
  const sockets: net.Socket[] = [];
  afterEach(() => sockets.splice(0).forEach((s) => s.destroy()));

  async function tunnel(graceMs: number): Promise<{ relay: Relay; app: net.Socket; peer: net.Socket; tunnel: ReturnType<typeof handle> }> {
    const [client, app] = await socketPair();
    const [upstream, peer] = await socketPair();
    sockets.push(client, app, upstream, peer);
    // The relay resets what it cuts: the far end of the upstream sees ECONNRESET.
    peer.on('error', () => undefined);
    const t = handle();
    return { relay: relay(client, upstream, t, { upstreamEndGraceMs: graceMs }), app, peer, tunnel: t };
  }

  it('a peer link that dies within the grace turns the end into a reset: a truncated download never looks complete', async () => {
    const { relay: r, app, peer } = await tunnel(300);
    const seen = outcome(app);
    peer.end(Buffer.alloc(1000, 0x61));
    await new Promise((resolve) => setTimeout(resolve, 50));
    r.destroy('peer is down');
    const { clean, bytes } = await seen;
    expect(clean).to.equal(false);
    expect(bytes).to.equal(1000);
  });

  it('a peer that stays up: the end reaches the application after the grace, clean', async () => {
    const { app, peer } = await tunnel(100);
    const seen = outcome(app);
    const started = Date.now();
    peer.end(Buffer.alloc(1000, 0x61));
    expect(await seen).to.deep.equal({ clean: true, bytes: 1000 });
    expect(Date.now() - started).to.be.at.least(90);
  });

  it('without a grace the end is passed on at once', async () => {
    const { app, peer } = await tunnel(0);
    const seen = outcome(app);
    peer.end(Buffer.alloc(10, 0x61));
    expect(await seen).to.deep.equal({ clean: true, bytes: 10 });
  });
});
