import { expect } from 'chai';
import * as crypto from 'node:crypto';
import type * as net from 'node:net';
import { Duplex } from 'node:stream';
import {
  byeConnector,
  checkLeaksAround,
  delay,
  DirectConnector,
  eventually,
  RawClient,
  socks5Connect,
  socks5Open,
  startProxy as startProxyWith,
  startTcpOrigin,
  type TestProxy,
} from './harness';
import { expectPoolSettled, markPool, READ_PATHS } from './read-paths';

/** What a socket received, hashed as it streams in (a growing Buffer.concat would be quadratic at these sizes). */
function hashUntilEnd(socket: net.Socket, already: Buffer = Buffer.alloc(0)): Promise<{ bytes: number; sha256: string }> {
  const hash = crypto.createHash('sha256').update(already);
  let bytes = already.length;
  socket.removeAllListeners('data');
  socket.on('data', (d: Buffer) => {
    hash.update(d);
    bytes += d.length;
  });
  return new Promise((resolve, reject) => {
    socket.once('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
    socket.once('close', () => reject(new Error(`closed before the end after ${bytes} bytes`)));
  });
}

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

// Every relay test runs over both read paths: the fake's 'data' events and the direct dialer's pooled onread buffers.
for (const readPath of READ_PATHS)
  describe(`proxy: relay (${readPath} read path)`, function () {
    this.timeout(15_000);
    let proxy: TestProxy | undefined;
    const startProxy = (connector = new DirectConnector(readPath)) => startProxyWith({}, connector);
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
      const pool = markPool();
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
      expect({ up: tunnel.up, down: tunnel.down, closeCalls: tunnel.closeCalls, error: tunnel.error }).to.deep.equal({
        up: 100_000,
        down: 100_000,
        closeCalls: 1,
        error: undefined,
      });
      await expectPoolSettled(readPath, pool);
    });

    it('carries 16 MiB each way at once, intact (sha256), and returns every pooled buffer', async () => {
      const size = 16 * 1024 * 1024;
      const up = crypto.randomBytes(size);
      const down = crypto.randomBytes(size + 13);
      let originGot!: Promise<{ bytes: number; sha256: string }>;
      const port = await origin((s) => {
        originGot = hashUntilEnd(s);
        s.end(down);
      });
      const pool = markPool();
      proxy = await startProxy();
      const c = await client();
      await socks5Open(c, '127.0.0.1', port);
      const clientGot = hashUntilEnd(c.socket, c.data);
      // Sent in pieces, while the download flows the other way.
      for (let i = 0; i < size; i += 1024 * 1024) c.socket.write(up.subarray(i, i + 1024 * 1024));
      c.socket.end();
      expect(await clientGot).to.deep.equal({ bytes: down.length, sha256: sha(down) });
      expect(await originGot).to.deep.equal({ bytes: size, sha256: sha(up) });
      const [tunnel] = proxy.connector.tunnels;
      await tunnel.closed;
      expect({ up: tunnel.up, down: tunnel.down, error: tunnel.error }).to.deep.equal({ up: size, down: down.length, error: undefined });
      await expectPoolSettled(readPath, pool);
    });

    it('a client that aborts mid-download: the upstream is closed, the tunnel ends with the error, buffers return', async () => {
      let originClosed!: () => void;
      const closed = new Promise<void>((r) => (originClosed = r));
      const port = await origin((s) => {
        s.on('close', originClosed);
        // An endless download: only the client's abort can stop it.
        const chunk = Buffer.alloc(64 * 1024, 0x33);
        const pump = () => {
          while (!s.destroyed && s.write(chunk));
          if (!s.destroyed) s.once('drain', pump);
        };
        pump();
      });
      const pool = markPool();
      proxy = await startProxy();
      const c = await client();
      await socks5Open(c, '127.0.0.1', port);
      await c.read(2 * 1024 * 1024);
      c.socket.resetAndDestroy();
      await closed;
      const [tunnel] = proxy.connector.tunnels;
      await tunnel.closed;
      expect(tunnel.error).to.match(/^client: ECONNRESET|client connection closed abruptly/);
      expect(tunnel.closeCalls).to.equal(1);
      expect(tunnel.down).to.be.at.least(2 * 1024 * 1024);
      await eventually(() => proxy!.server.openConnections === 0, 'the proxy to drop the client connection');
      await expectPoolSettled(readPath, pool);
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
      const pool = markPool();
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
      await expectPoolSettled(readPath, pool);
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

    // A stream upstream (no socket, so no onread): nothing to vary by read path.
    if (readPath === 'data')
      it('an upstream that fails right after its end: the client connection still closes (no reset of a socket being shut down)', async () => {
        const upstream = new Duplex({ read: () => undefined, write: (_c, _e, cb) => cb() });
        let tunnelError: string | undefined;
        const connector = byeConnector(upstream, (error) => void (tunnelError = error), {
          // After the relay's own listeners: its 'end' handler ends the client (a shutdown starts), then this fails the upstream.
          beforeBye: () => upstream.once('end', () => upstream.destroy(new Error('reset after end'))),
        });
        proxy = await startProxy(connector);
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
      const pool = markPool();
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
      // The relay holds at most the one chunk whose write to the client is pending (none on the 'data' path).
      expect(pool.inUse(), 'pooled buffers held while the client is paused').to.be.at.most(readPath === 'onread' ? 1 : 0);
      expect(pool.inUseBytes(), 'pooled bytes held while the client is paused').to.be.at.most(256 * 1024);

      const done = new Promise<void>((resolve) => sock.once('end', resolve));
      sock.resume();
      await done;
      expect(received).to.equal(total);
      sock.end();
      await proxy.connector.tunnels[0].closed;
      expect(proxy.connector.tunnels[0].down).to.equal(total);
      await expectPoolSettled(readPath, pool);
    });
  });
