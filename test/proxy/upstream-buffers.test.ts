import { expect } from 'chai';
import * as crypto from 'node:crypto';
import type * as net from 'node:net';
import { BufferPool } from '../../src/proxy/buffer-pool';
import { upstreamBuffers } from '../../src/proxy/upstream-reader';
import { eventually, sha256, socks5Open, startProxy, startTcpOrigin, TableConnector, useProxyFixture } from './harness';

describe('proxy: upstream read buffers', function () {
  this.timeout(30_000);
  const fx = useProxyFixture();

  /** An origin that sends `payload` to every connection, then keeps it open and silent. */
  async function origin(payload: (i: number) => Buffer): Promise<number> {
    let n = 0;
    const o = await startTcpOrigin((s: net.Socket) => s.write(payload(n++)));
    fx.cleanup.push(() => o.close());
    return o.port;
  }

  it('200 idle tunnels that each carried 300 KiB hold no pooled buffer', async () => {
    const port = await origin(() => Buffer.alloc(300 * 1024, 0x42));
    // The built-in direct dialer: it reads the upstream through the proxy's onread option.
    fx.proxy = await startProxy({}, new TableConnector() as never);
    const before = upstreamBuffers.inUse;
    const handedOut = upstreamBuffers.handedOut;
    for (let i = 0; i < 200; i++) {
      const c = await fx.clients.connect(fx.proxy.port);
      await socks5Open(c, '127.0.0.1', port);
      expect((await c.read(300 * 1024)).every((b) => b === 0x42)).to.equal(true);
    }
    expect(fx.proxy.server.openConnections).to.equal(200);
    await eventually(() => upstreamBuffers.inUse === before, `pooled buffers to be returned (in use: ${upstreamBuffers.inUse - before})`);
    expect(upstreamBuffers.inUseBytes).to.equal(0);
    expect(upstreamBuffers.handedOut - handedOut, 'chunks went through pooled buffers').to.be.at.least(200);
  });

  it('every tunnel gets its own bytes while many share the read path and their clients pause', async () => {
    const payloads = Array.from({ length: 12 }, () => crypto.randomBytes(3 * 1024 * 1024 + 17));
    const port = await origin((i) => payloads[i]);
    fx.proxy = await startProxy({}, new TableConnector() as never);
    const received = await Promise.all(
      payloads.map(async (payload, i) => {
        const c = await fx.clients.connect(fx.proxy!.port);
        await socks5Open(c, '127.0.0.1', port);
        // Stall now and then so that writes to this client queue up while other tunnels read.
        const timer = setInterval(() => (c.socket.isPaused() ? c.socket.resume() : c.socket.pause()), 5 + i);
        try {
          return await c.read(payload.length, 20_000);
        } finally {
          clearInterval(timer);
          c.socket.resume();
        }
      }),
    );
    // Origins answer in connection order, which need not be the order above: compare as sets of hashes.
    expect(received.map(sha256).sort()).to.deep.equal(payloads.map(sha256).sort());
    expect(upstreamBuffers.inUse).to.equal(0);
  });

  describe('BufferPool', () => {
    it('hands out the smallest size that fits, accounts for what is out, and keeps free buffers up to its cap', () => {
      const pool = new BufferPool([16, 64], 100);
      const a = pool.take(10);
      const b = pool.take(17);
      expect([a.length, b.length, pool.inUse, pool.inUseBytes]).to.deep.equal([16, 64, 2, 80]);
      pool.give(a);
      pool.give(b);
      expect([pool.inUse, pool.inUseBytes, pool.freeBytes]).to.deep.equal([0, 0, 80]);
      expect(pool.take(5)).to.equal(a);
      const c = pool.take(64);
      expect(c).to.equal(b);
      pool.forget(c);
      expect([pool.inUse, pool.freeBytes]).to.deep.equal([1, 0]);
      const d = pool.take(64);
      expect(d).to.not.equal(c);
      const e = pool.take(64);
      pool.give(d);
      pool.give(e);
      expect(pool.freeBytes, 'a second 64-byte buffer would exceed the 100-byte cap').to.equal(64);
      expect(() => pool.take(65)).to.throw(RangeError, /largest size is 64/);
    });
  });
});
