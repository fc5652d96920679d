import { expect } from 'chai';
import * as net from 'node:net';
import { SocksClient } from 'socks';
import { Socks5Reply } from '../../src/kernel/connector-errors';
import { curl, DirectConnector, eventually, type Origin, sha256, socks5Open, startOrigin, startProxy, startTcpOrigin, useProxyFixture } from './harness';
import { expectPoolSettled, markPool, READ_PATHS } from './read-paths';

describe('proxy: SOCKS5', function () {
  this.timeout(10_000);
  const fx = useProxyFixture({ origin: startOrigin });

  /** Sends a greeting + request and returns the reply code (after checking the method reply). */
  async function replyTo(request: number[]): Promise<number> {
    const c = await fx.raw();
    c.send([0x05, 0x01, 0x00, ...request]);
    expect([...(await c.read(2))]).to.deep.equal([0x05, 0x00]);
    const reply = await c.read(2);
    expect(reply[0]).to.equal(0x05);
    await c.readToClose();
    return reply[1];
  }

  // Over both upstream read paths: the fake's 'data' events and the direct dialer's pooled onread buffers.
  for (const readPath of READ_PATHS)
    describe(`with curl (${readPath} read path)`, () => {
      const start = () => startProxy({}, new DirectConnector(readPath));

      it('fetches through --socks5-hostname, passing the name unresolved', async () => {
        fx.proxy = await start();
        const res = await curl(['--socks5-hostname', `127.0.0.1:${fx.proxy.port}`, `http://localhost:${fx.origin.port}/hello`]);
        expect(res.stderr).to.equal('');
        expect(res.stdout.toString()).to.equal('hello\n');
        expect(fx.proxy.connector.requests[0]).to.deep.include({ protocol: 'socks5', target: { host: 'localhost', port: fx.origin.port, kind: 'domain' } });
        expect(fx.proxy.connector.requests[0].client).to.match(/^127\.0\.0\.1:\d+$/);
      });

      it('fetches through --socks5 (client-resolved IPv4)', async () => {
        fx.proxy = await start();
        const res = await curl(['--socks5', `127.0.0.1:${fx.proxy.port}`, `http://localhost:${fx.origin.port}/hello`]);
        expect(res.stdout.toString()).to.equal('hello\n');
        expect(fx.proxy.connector.requests[0].target).to.deep.equal({ host: '127.0.0.1', port: fx.origin.port, kind: 'ipv4' });
      });

      it('downloads a multi-MB file intact, counting bytes and closing the tunnel once', async () => {
        const pool = markPool();
        fx.proxy = await start();
        const res = await curl(['--socks5-hostname', `127.0.0.1:${fx.proxy.port}`, `${fx.origin.url}/blob`]);
        expect(res.stdout.length).to.equal(fx.origin.blob.length);
        expect(sha256(res.stdout)).to.equal(fx.origin.blobSha256);
        const [tunnel] = fx.proxy.connector.tunnels;
        await tunnel.closed;
        expect(tunnel.down).to.be.greaterThan(fx.origin.blob.length);
        expect(tunnel.up).to.be.greaterThan(20);
        expect(tunnel.closeCalls).to.equal(1);
        expect(tunnel.error).to.equal(undefined);
        await eventually(() => fx.proxy!.server.openConnections === 0, 'the client connection to close');
        await expectPoolSettled(readPath, pool);
      });
    });

  describe('with the socks package', () => {
    let origin6: Origin;
    before(async () => {
      origin6 = await startOrigin('::1', 1024);
    });
    after(() => origin6.close());

    async function get(host: string, port: number): Promise<string> {
      const { socket } = await SocksClient.createConnection({
        proxy: { host: '127.0.0.1', port: fx.proxy!.port, type: 5 },
        command: 'connect',
        destination: { host, port },
        timeout: 5000,
      });
      socket.write(`GET /hello HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      const chunks: Buffer[] = [];
      for await (const chunk of socket) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString();
    }

    it('connects to an IPv4 target', async () => {
      fx.proxy = await startProxy();
      expect(await get('127.0.0.1', fx.origin.port)).to.match(/^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nhello\n$/);
      expect(fx.proxy.connector.requests[0].target.kind).to.equal('ipv4');
    });

    it('connects to an IPv6 target (::1)', async () => {
      fx.proxy = await startProxy();
      expect(await get('::1', origin6.port)).to.match(/\r\n\r\nhello\n$/);
      expect(fx.proxy.connector.requests[0].target).to.deep.equal({ host: '::1', port: origin6.port, kind: 'ipv6' });
    });

    it('connects to a domain target (localhost)', async () => {
      fx.proxy = await startProxy();
      expect(await get('localhost', fx.origin.port)).to.match(/\r\n\r\nhello\n$/);
      expect(fx.proxy.connector.requests[0].target).to.deep.equal({ host: 'localhost', port: fx.origin.port, kind: 'domain' });
    });

    it('authenticates with RFC 1929 username/password', async () => {
      fx.proxy = await startProxy({ auth: { username: 'alice', password: 's3cret' } });
      const { socket } = await SocksClient.createConnection({
        proxy: { host: '127.0.0.1', port: fx.proxy.port, type: 5, userId: 'alice', password: 's3cret' },
        command: 'connect',
        destination: { host: '127.0.0.1', port: fx.origin.port },
      });
      socket.end(`GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const chunks: Buffer[] = [];
      for await (const chunk of socket) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).to.match(/\r\n\r\nhello\n$/);
    });

    it('refuses wrong credentials', async () => {
      fx.proxy = await startProxy({ auth: { username: 'alice', password: 's3cret' } });
      const attempt = SocksClient.createConnection({
        proxy: { host: '127.0.0.1', port: fx.proxy.port, type: 5, userId: 'alice', password: 'wrong' },
        command: 'connect',
        destination: { host: '127.0.0.1', port: fx.origin.port },
      });
      const err = await attempt.then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.match(/authentication/i);
      expect((await fx.proxy.nextRejection()).reason).to.match(/authentication failed for user "alice"/);
      expect(fx.proxy.connector.requests).to.have.length(0);
    });
  });

  describe('replies', () => {
    it('carries the bound address in the success reply', async () => {
      fx.proxy = await startProxy();
      const c = await fx.raw();
      const reply = await socks5Open(c, '127.0.0.1', fx.origin.port);
      expect([...reply.subarray(0, 8)]).to.deep.equal([0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1]);
      expect(reply.readUInt16BE(8)).to.equal(fx.proxy.connector.tunnels[0].upstream.localPort);
    });

    it('carries an IPv6 bound address as ATYP 4', async () => {
      const origin6 = await startTcpOrigin(() => undefined, '::1');
      try {
        fx.proxy = await startProxy();
        const c = await fx.raw();
        const p = origin6.port;
        c.send([0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x04, ...Buffer.alloc(15), 1, p >> 8, p & 0xff]);
        await c.read(2);
        const reply = await c.read(22);
        expect(reply.subarray(0, 4).toString('hex')).to.equal('05000004');
        expect(reply.subarray(4, 20).toString('hex')).to.equal('00000000000000000000000000000001');
        expect(reply.readUInt16BE(20)).to.equal(fx.proxy.connector.tunnels[0].upstream.localPort);
      } finally {
        await origin6.close();
      }
    });

    it('answers 0x05 for a refused port', async () => {
      fx.proxy = await startProxy();
      const closed = await startTcpOrigin(() => undefined);
      const port = closed.port;
      await closed.close();
      expect(await replyTo([0x05, 0x01, 0x00, 0x01, 127, 0, 0, 1, port >> 8, port & 0xff])).to.equal(Socks5Reply.ConnectionRefused);
    });

    it('answers 0x04 for a name that does not resolve', async () => {
      fx.proxy = await startProxy();
      const name = Buffer.from('nonexistent.invalid');
      expect(await replyTo([0x05, 0x01, 0x00, 0x03, name.length, ...name, 0, 80])).to.equal(Socks5Reply.HostUnreachable);
    });

    it('answers 0x07 for BIND and UDP ASSOCIATE, and for an unknown command', async () => {
      fx.proxy = await startProxy();
      for (const cmd of [0x02, 0x03, 0x09]) {
        expect(await replyTo([0x05, cmd, 0x00, 0x01, 127, 0, 0, 1, 0, 80]), `command ${cmd}`).to.equal(Socks5Reply.CommandNotSupported);
      }
      expect(fx.proxy.connector.requests).to.have.length(0);
    });

    it('answers 0x08 for an unknown address type', async () => {
      fx.proxy = await startProxy();
      expect(await replyTo([0x05, 0x01, 0x00, 0x07, 1, 2, 3, 4, 0, 80])).to.equal(Socks5Reply.AddressTypeNotSupported);
      expect((await fx.proxy.nextRejection()).reason).to.match(/address type 7/);
    });

    it('answers 0xFF when no offered method is acceptable', async () => {
      fx.proxy = await startProxy({ auth: { username: 'u', password: 'p' } });
      const c = await fx.raw();
      c.send([0x05, 0x01, 0x00]);
      expect([...(await c.readToClose())]).to.deep.equal([0x05, 0xff]);
    });

    it('answers status 0x01 and closes on bad credentials', async () => {
      fx.proxy = await startProxy({ auth: { username: 'u', password: 'p' } });
      const c = await fx.raw();
      c.send([0x05, 0x02, 0x00, 0x02, 0x01, 1, 0x75, 1, 0x71]);
      expect([...(await c.readToClose())]).to.deep.equal([0x05, 0x02, 0x01, 0x01]);
    });

    it('tolerates a non-zero reserved byte', async () => {
      fx.proxy = await startProxy();
      const c = await fx.raw();
      const p = fx.origin.port;
      c.send([0x05, 0x01, 0x00, 0x05, 0x01, 0x42, 0x01, 127, 0, 0, 1, p >> 8, p & 0xff]);
      await c.read(2);
      expect((await c.read(10))[1]).to.equal(0);
    });
  });

  describe('malformed handshakes', () => {
    const cases: { name: string; bytes: number[]; reason: RegExp; thenClose?: boolean }[] = [
      { name: 'wrong version in the request', bytes: [0x05, 0x01, 0x00, 0x04, 0x01, 0x00, 0x01, 127, 0, 0, 1, 0, 80], reason: /request has version 4/ },
      { name: 'zero methods', bytes: [0x05, 0x00], reason: /zero authentication methods/ },
      { name: 'a truncated greeting, then close', bytes: [0x05, 0x03, 0x00], reason: /closed the connection in the middle of the handshake/, thenClose: true },
      { name: 'a truncated request, then close', bytes: [0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x01, 127], reason: /middle of the handshake/, thenClose: true },
      { name: 'a garbage first byte', bytes: [0x16, 0x03, 0x01, 0x00], reason: /unknown protocol \(first byte 0x16/ },
      { name: 'an empty domain name', bytes: [0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x03, 0x00, 0, 80], reason: /empty domain name/ },
    ];
    for (const tc of cases) {
      it(`closes a client that sends ${tc.name}, and keeps serving others`, async () => {
        fx.proxy = await startProxy();
        const bad = await fx.raw();
        bad.send(tc.bytes);
        if (tc.thenClose) bad.socket.end();
        await bad.readToClose();
        expect((await fx.proxy.nextRejection()).reason).to.match(tc.reason);
        const res = await curl(['--socks5-hostname', `127.0.0.1:${fx.proxy.port}`, `${fx.origin.url}/hello`]);
        expect(res.stdout.toString()).to.equal('hello\n');
      });
    }

    it('closes a client that stalls mid-handshake after handshakeTimeoutMs', async () => {
      fx.proxy = await startProxy({ handshakeTimeoutMs: 150 });
      const bad = await fx.raw();
      const started = Date.now();
      bad.send([0x05, 0x01]);
      await bad.readToClose();
      expect(Date.now() - started).to.be.within(100, 1500);
      expect((await fx.proxy.nextRejection()).reason).to.match(/handshake not completed within 150 ms/);
      const res = await curl(['--socks5-hostname', `127.0.0.1:${fx.proxy.port}`, `${fx.origin.url}/hello`]);
      expect(res.stdout.toString()).to.equal('hello\n');
    });

    it('survives many bad clients at once and a reset in the middle of a handshake', async () => {
      fx.proxy = await startProxy();
      const bad = await Promise.all(Array.from({ length: 20 }, () => fx.raw()));
      bad.forEach((c, i) => (i % 2 ? c.send([0x05, 0x01]) : c.send(Buffer.alloc(1000, i))));
      bad.forEach((c, i) => i % 2 && c.socket.resetAndDestroy());
      await Promise.all(bad.map((c) => c.readToClose()));
      bad.forEach((c) => c.destroy());
      const res = await curl(['--socks5-hostname', `127.0.0.1:${fx.proxy.port}`, `${fx.origin.url}/hello`]);
      expect(res.stdout.toString()).to.equal('hello\n');
      await eventually(() => fx.proxy!.server.openConnections === 0, 'every connection to close');
    });
  });

  it('sends data pipelined right after the request to the upstream', async () => {
    const echo = await startTcpOrigin((s) => s.pipe(s));
    try {
      fx.proxy = await startProxy();
      const c = await fx.raw();
      const p = echo.port;
      const payload = Buffer.from('\x16\x03\x01 pretend ClientHello, sent before the reply arrived');
      c.send(Buffer.concat([Buffer.from([0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x01, 127, 0, 0, 1, p >> 8, p & 0xff]), payload]));
      await c.read(2 + 10);
      expect((await c.read(payload.length)).equals(payload)).to.equal(true);
    } finally {
      await echo.close();
    }
  });

  it('aborts the dial when the client resets during it', async () => {
    fx.proxy = await startProxy();
    fx.proxy.connector.hold = new Promise(() => undefined);
    const c = await fx.raw();
    c.send([0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x01, 127, 0, 0, 1, 0, 80]);
    await c.read(2);
    await eventually(() => fx.proxy!.connector.requests.length === 1, 'the dial to start');
    c.socket.resetAndDestroy();
    await eventually(() => fx.proxy!.connector.aborted.length === 1, 'the dial to be aborted');
    await eventually(() => fx.proxy!.server.openConnections === 0, 'the connection to be released');
  });

  it('accepts a client that sends its handshake one byte at a time', async () => {
    fx.proxy = await startProxy();
    const c = await fx.raw();
    const p = fx.origin.port;
    for (const b of [0x05, 0x01, 0x00]) {
      c.send([b]);
      await new Promise((r) => setImmediate(r));
    }
    await c.read(2);
    for (const b of [0x05, 0x01, 0x00, 0x01, 127, 0, 0, 1, p >> 8, p & 0xff]) {
      c.send([b]);
      await new Promise((r) => setImmediate(r));
    }
    expect((await c.read(10))[1]).to.equal(0);
    c.send('GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect((await c.readToClose()).toString()).to.match(/hello\n$/);
  });

  it('is reachable on an ephemeral port and reports it', async () => {
    fx.proxy = await startProxy();
    expect(fx.proxy.server.address).to.deep.equal({ host: '127.0.0.1', port: fx.proxy.port });
    expect(fx.proxy.port).to.be.greaterThan(0);
    const s = net.connect(fx.proxy.port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    s.destroy();
  });
});
