import { expect } from 'chai';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import * as sinon from 'sinon';
import { DEFAULT_LIMITS } from '../../src/core/config';
import { Socks5Reply } from '../../src/kernel/connector-errors';
import type { DispatchRequest, OpenedUpstream } from '../../src/kernel/connector';
import { ProxyServer } from '../../src/proxy/server';
import {
  byeConnector,
  checkLeaksAround,
  DirectConnector,
  eventually,
  RawClient,
  socks5Connect,
  socks5Open,
  startProxy,
  startTcpOrigin,
  testLogger,
  type TestProxy,
} from './harness';

describe('proxy: server lifecycle', function () {
  this.timeout(10_000);
  let proxy: TestProxy | undefined;
  const cleanup: (() => unknown)[] = [];
  checkLeaksAround(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
    await proxy?.server.close(0);
    proxy = undefined;
    sinon.restore();
  });

  async function echoOrigin(): Promise<number> {
    const o = await startTcpOrigin((s) => s.pipe(s));
    cleanup.push(() => o.close());
    return o.port;
  }

  async function client(): Promise<RawClient> {
    const c = await RawClient.connect(proxy!.port);
    cleanup.push(() => c.destroy());
    return c;
  }

  it('close(drainMs) lets an open tunnel run for drainMs, then cuts it', async () => {
    const port = await echoOrigin();
    proxy = await startProxy();
    const c = await client();
    await socks5Open(c, '127.0.0.1', port);
    expect(proxy.server.openConnections).to.equal(1);
    const started = Date.now();
    const closing = proxy.server.close(300);
    c.send('still working');
    expect((await c.read(13)).toString()).to.equal('still working');
    await closing;
    expect(Date.now() - started).to.be.within(280, 2000);
    await c.gone();
    expect(c.reset).to.equal(true);
    const [tunnel] = proxy.connector.tunnels;
    await tunnel.closed;
    expect(tunnel.error).to.match(/proxy closed while the tunnel was open/);
    expect(tunnel.closeCalls).to.equal(1);
    expect(proxy.server.openConnections).to.equal(0);
  });

  it('close(drainMs) returns as soon as the last tunnel finishes', async () => {
    const port = await echoOrigin();
    proxy = await startProxy();
    const c = await client();
    await socks5Open(c, '127.0.0.1', port);
    const started = Date.now();
    const closing = proxy.server.close(5000);
    setTimeout(() => c.socket.end(), 100);
    await closing;
    expect(Date.now() - started).to.be.lessThan(2000);
    expect(proxy.connector.tunnels[0].error).to.equal(undefined);
  });

  it('close() also cuts a tunnel that outlives its client (an upstream that never closes)', async () => {
    // An upstream that ends both ways but never closes by itself (a stuck TLS stream, say).
    const upstream = new Duplex({ read: () => undefined, write: (_c, _e, cb) => cb(), final: (cb) => cb(), autoDestroy: false });
    let closedWith: string | undefined | null = null;
    const connector = byeConnector(upstream, (error) => void (closedWith = error), { sourceId: 'stuck' });
    proxy = await startProxy({}, connector);
    const c = await client();
    c.send(socks5Connect('127.0.0.1', 9));
    await c.read(12);
    expect((await c.readToClose()).toString()).to.equal('bye');
    c.socket.end();
    await c.closed;
    await eventually(() => proxy!.server.openConnections === 0, 'the client connection to be gone');
    expect(closedWith, 'the tunnel is still open: its upstream is').to.equal(null);
    await proxy.server.close(0);
    expect(upstream.destroyed).to.equal(true);
    expect(closedWith).to.match(/proxy closed while the tunnel was open/);
  });

  it('stops accepting new clients once closing', async () => {
    proxy = await startProxy();
    const { port } = proxy;
    await proxy.server.close(0);
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('error', resolve);
      s.once('connect', () => {
        s.destroy();
        resolve(new Error('connected'));
      });
    });
    expect(err.code).to.equal('ECONNREFUSED');
  });

  it('close() cuts a client stuck in its handshake and one waiting on a dial', async () => {
    proxy = await startProxy({ handshakeTimeoutMs: 60_000 });
    proxy.connector.hold = new Promise(() => undefined);
    const stuck = await client();
    stuck.send([0x05, 0x01]);
    const dialing = await client();
    dialing.send(socks5Connect('127.0.0.1', 9));
    await eventually(() => proxy!.connector.requests.length === 1, 'the dial to start');
    expect(proxy.server.openConnections).to.equal(2);
    await proxy.server.close(50);
    await Promise.all([stuck.gone(), dialing.gone()]);
    expect(proxy.connector.aborted).to.have.length(1);
  });

  it('aborts the client signal only while the dial is under way: not once the tunnel relays', async () => {
    // The signal bounds the dial (see the test above); an abort per finished tunnel would cost an AbortError each.
    const port = await echoOrigin();
    proxy = await startProxy();
    const c = await client();
    await socks5Open(c, '127.0.0.1', port);
    c.destroy();
    const [tunnel] = proxy.connector.tunnels;
    await tunnel.closed;
    await eventually(() => proxy!.server.openConnections === 0, 'the client connection to be gone');
    expect(proxy.connector.aborted).to.have.length(0);
  });

  it('rejects listen() clearly when the port is in use', async () => {
    proxy = await startProxy();
    const second = new ProxyServer(new DirectConnector(), testLogger(), {
      host: '127.0.0.1',
      port: proxy.port,
      handshakeTimeoutMs: 1000,
      limits: DEFAULT_LIMITS,
    });
    const err = await second.listen().then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).to.equal('EADDRINUSE');
    await second.close(0);
  });

  it('answers 0x01 when the connector throws something unexpected, and keeps serving', async () => {
    const connector = new DirectConnector();
    const open = sinon.stub(connector, 'open');
    open.onFirstCall().rejects(new TypeError('bug in a dialer'));
    open.callThrough();
    proxy = await startProxy({}, connector);
    const c = await client();
    c.send(socks5Connect('127.0.0.1', 9));
    const replies = await c.readToClose();
    expect([...replies.subarray(0, 4)]).to.deep.equal([0x05, 0x00, 0x05, Socks5Reply.GeneralFailure]);
    const port = await echoOrigin();
    const good = await client();
    await socks5Open(good, '127.0.0.1', port);
  });

  it('releases an upstream that arrives after the client left', async () => {
    const port = await echoOrigin();
    const connector = new DirectConnector();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const realOpen = connector.open.bind(connector);
    let upstream: OpenedUpstream | undefined;
    // A connector that ignores the abort signal and finishes its dial anyway.
    connector.open = async (request: DispatchRequest) => {
      await gate;
      upstream = await realOpen(request, new AbortController().signal);
      return upstream;
    };
    proxy = await startProxy({}, connector);
    const c = await client();
    c.send(socks5Connect('127.0.0.1', port));
    await c.read(2);
    c.socket.resetAndDestroy();
    await eventually(() => proxy!.server.openConnections === 0, 'the client to be gone');
    release();
    await eventually(() => connector.tunnels.length === 1 && connector.tunnels[0].closeCalls === 1, 'the late tunnel to be closed');
    expect(connector.tunnels[0].error).to.match(/client went away/);
    await eventually(() => upstream!.upstream.destroyed, 'the late upstream to be destroyed');
  });

  it('never crashes on random input after each protocol first byte', async () => {
    const connector = new DirectConnector();
    // Random bytes can make a valid request to a random address: never dial for real here.
    sinon.stub(connector, 'open').rejects(Object.assign(new Error('no dialing in this test'), { code: 'ECONNREFUSED' }));
    proxy = await startProxy({ handshakeTimeoutMs: 300 }, connector);
    let seed = 0x2545f491;
    const random = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 8;
    };
    const clients: RawClient[] = [];
    for (const first of [0x05, 0x04, 0x47, 0x43]) {
      for (let i = 0; i < 25; i++) {
        const c = await client();
        clients.push(c);
        const body = Buffer.from(Array.from({ length: random() % 300 }, () => random() & 0xff));
        // Keep some valid prefixes so the parsers get past their first checks.
        const prefix = first === 0x05 ? [0x05, 0x01, 0x00] : first === 0x43 ? [...Buffer.from('CONNECT ')] : [first];
        c.send(Buffer.concat([Buffer.from(prefix), body]));
        if (i % 3 !== 0) c.socket.end();
      }
    }
    await Promise.all(clients.map((c) => c.gone()));
    clients.forEach((c) => c.destroy());
    await eventually(() => proxy!.server.openConnections === 0, 'every fuzzed connection to close');
    const port = await echoOrigin();
    (connector.open as sinon.SinonStub).callThrough();
    await socks5Open(await client(), '127.0.0.1', port);
  });

  it('survives an onRejected listener that throws', async () => {
    const server = new ProxyServer(new DirectConnector(), testLogger(), {
      host: '127.0.0.1',
      port: 0,
      handshakeTimeoutMs: 1000,
      limits: DEFAULT_LIMITS,
      onRejected: () => {
        throw new Error('listener bug');
      },
    });
    const { port } = await server.listen();
    cleanup.push(() => server.close(0));
    const c = await RawClient.connect(port);
    cleanup.push(() => c.destroy());
    c.send([0x00]);
    await c.readToClose();
    const echo = await echoOrigin();
    const good = await RawClient.connect(port);
    cleanup.push(() => good.destroy());
    await socks5Open(good, '127.0.0.1', echo);
  });
});
