import { expect } from 'chai';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { byeConnector, checkLeaksAround, delay, eventually, RawClient, socks5Connect, socks5Open, startProxy, startTcpOrigin, type TestProxy } from './harness';

describe('proxy: relay', function () {
  this.timeout(15_000);
  let proxy: TestProxy | undefined;
  const cleanup: (() => unknown)[] = [];
  checkLeaksAround(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
    await proxy?.server.close(0);
    proxy = undefined;
  });

  async function origin(onSocket: (s: net.Socket) => void): Promise<number> {
    const o = await startTcpOrigin(onSocket);
    cleanup.push(() => o.close());
    return o.port;
  }

  async function client(): Promise<RawClient> {
    const c = await RawClient.connect(proxy!.port);
    cleanup.push(() => c.destroy());
    return c;
  }

  /** An origin that reads until the client's end, then answers with `size` bytes and ends. */
  function answerAfterEnd(size: number, got: Buffer[] = []): (s: net.Socket) => void {
    return (s) => {
      s.on('data', (d: Buffer) => got.push(d));
      s.on('end', () => s.end(Buffer.alloc(size, 0x61)));
    };
  }

  it('counts exactly the relayed bytes each way and closes the tunnel once, without error', async () => {
    const port = await origin((s) => s.pipe(s));
    proxy = await startProxy();
    const c = await client();
    await socks5Open(c, '127.0.0.1', port);
    const payload = Buffer.alloc(100_000, 7);
    c.send(payload);
    expect((await c.read(payload.length)).equals(payload)).to.equal(true);
    c.socket.end();
    await c.readToClose();
    const [tunnel] = proxy.connector.tunnels;
    await tunnel.closed;
    expect({ up: tunnel.up, down: tunnel.down, closeCalls: tunnel.closeCalls, error: tunnel.error }).to.deep.equal({ up: 100_000, down: 100_000, closeCalls: 1, error: undefined });
  });

  it('half-close from the client: the whole response still arrives', async () => {
    const got: Buffer[] = [];
    const port = await origin(answerAfterEnd(3 * 1024 * 1024, got));
    proxy = await startProxy();
    const c = await client();
    await socks5Open(c, '127.0.0.1', port);
    c.send('the whole request');
    c.socket.end();
    const response = await c.readToClose();
    expect(response.length).to.equal(3 * 1024 * 1024);
    expect(Buffer.concat(got).toString()).to.equal('the whole request');
    await proxy.connector.tunnels[0].closed;
    expect(proxy.connector.tunnels[0].error).to.equal(undefined);
  });

  it('half-close before the reply: a client that sends its request and data, then ends, still gets everything', async () => {
    const got: Buffer[] = [];
    const port = await origin(answerAfterEnd(64 * 1024, got));
    proxy = await startProxy();
    let release!: () => void;
    proxy.connector.hold = new Promise((r) => (release = r));
    const c = await client();
    c.send(Buffer.concat([socks5Connect('127.0.0.1', port), Buffer.from('early data')]));
    c.socket.end();
    await eventually(() => proxy!.connector.requests.length === 1, 'the dial to start');
    await delay(50);
    release();
    const all = await c.readToClose();
    expect(all.length).to.equal(2 + 10 + 64 * 1024);
    expect(all[3]).to.equal(0x00);
    expect(Buffer.concat(got).toString()).to.equal('early data');
  });

  it('half-close from the upstream: the client can keep sending after the response ended', async () => {
    const got: Buffer[] = [];
    let originSawEnd!: () => void;
    const sawEnd = new Promise<void>((r) => (originSawEnd = r));
    const port = await origin((s) => {
      s.end('banner and goodbye');
      s.on('data', (d: Buffer) => got.push(d));
      s.on('end', originSawEnd);
    });
    proxy = await startProxy();
    const c = await client();
    await socks5Open(c, '127.0.0.1', port);
    expect((await c.read(18)).toString()).to.equal('banner and goodbye');
    await eventually(() => c.ended, 'the upstream end to reach the client');
    c.send('still talking');
    await delay(20);
    c.send(' after the end');
    c.socket.end();
    await sawEnd;
    expect(Buffer.concat(got).toString()).to.equal('still talking after the end');
    await proxy.connector.tunnels[0].closed;
    expect(proxy.connector.tunnels[0].error).to.equal(undefined);
  });

  it('an upstream reset destroys the client side and closes the tunnel with the error', async () => {
    const port = await origin((s) => {
      s.write('partial');
      setTimeout(() => s.resetAndDestroy(), 20);
    });
    proxy = await startProxy();
    const c = await client();
    await socks5Open(c, '127.0.0.1', port);
    await c.read(7);
    await c.gone();
    expect(c.reset, 'the client is reset, so the truncation is not mistaken for a clean end').to.equal(true);
    const [tunnel] = proxy.connector.tunnels;
    await tunnel.closed;
    expect(tunnel.error).to.match(/^upstream: ECONNRESET|upstream connection closed abruptly/);
    expect(tunnel.closeCalls).to.equal(1);
  });

  it('a client reset destroys the upstream and closes the tunnel with the error', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    const port = await origin((s) => s.on('close', upstreamClosed));
    proxy = await startProxy();
    const c = await client();
    await socks5Open(c, '127.0.0.1', port);
    c.socket.resetAndDestroy();
    await closed;
    const [tunnel] = proxy.connector.tunnels;
    await tunnel.closed;
    expect(tunnel.error).to.match(/^client: ECONNRESET|client connection closed abruptly/);
  });

  it('an upstream that fails right after its end: the client connection still closes (no reset of a socket being shut down)', async () => {
    const upstream = new Duplex({ read: () => undefined, write: (_c, _e, cb) => cb() });
    let tunnelError: string | undefined;
    const connector = byeConnector(upstream, (error) => void (tunnelError = error), {
      // After the relay's own listeners: its 'end' handler ends the client (a shutdown starts), then this fails the upstream.
      beforeBye: () => upstream.once('end', () => upstream.destroy(new Error('reset after end'))),
    });
    proxy = await startProxy({}, connector);
    const c = await client();
    c.send(socks5Connect('127.0.0.1', 9));
    await c.read(12);
    expect((await c.readToClose()).toString()).to.equal('bye');
    await eventually(() => proxy!.server.openConnections === 0, 'the proxy to close the client connection');
    expect(tunnelError).to.match(/reset after end/);
  });

  it('backpressure: a paused reader stalls a 200 MB download instead of buffering it', async () => {
    const total = 200 * 1024 * 1024;
    let written = 0;
    const port = await origin((s) => {
      const chunk = Buffer.alloc(64 * 1024, 0x5a);
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
        s.end();
      };
      pump();
    });
    proxy = await startProxy();
    const c = await client();
    await socks5Open(c, '127.0.0.1', port);
    const sock = c.socket;
    sock.removeAllListeners('data');
    let received = c.data.length; // payload that arrived together with the reply
    let pausedOnce = false;
    const firstMegabyte = new Promise<void>((resolve) =>
      sock.on('data', (d: Buffer) => {
        received += d.length;
        if (received >= 1024 * 1024 && !pausedOnce) {
          pausedOnce = true;
          sock.pause();
          resolve();
        }
      }),
    );
    await firstMegabyte;

    // Wait for the origin to stall (its writes stop making progress), then check where it stalled.
    let last = -1;
    const deadline = Date.now() + 5000;
    while (written !== last && Date.now() < deadline) {
      last = written;
      await delay(150);
    }
    const upstream = proxy.connector.tunnels[0].upstream;
    expect(written, 'bytes the origin could write while the client was paused').to.be.lessThan(64 * 1024 * 1024);
    expect(upstream.readableLength, 'bytes queued in the proxy on the upstream side').to.be.lessThan(1024 * 1024);
    expect(upstream.isPaused(), 'upstream paused by the relay').to.equal(true);

    const done = new Promise<void>((resolve) => sock.once('end', resolve));
    sock.resume();
    await done;
    expect(received).to.equal(total);
    sock.end();
    await proxy.connector.tunnels[0].closed;
    expect(proxy.connector.tunnels[0].down).to.equal(total);
  });
});
