import { expect } from 'chai';
import { SocksClient } from 'socks';
import { curl, startOrigin, startProxy, startTcpOrigin, useProxyFixture } from './harness';

describe('proxy: SOCKS4 and SOCKS4a', function () {
  this.timeout(10_000);
  const fx = useProxyFixture({ origin: startOrigin });

  function request(cmd: number, port: number, ip: number[], userid = 'me', domain?: string): Buffer {
    const tail = domain === undefined ? [] : [...Buffer.from(domain), 0];
    return Buffer.from([0x04, cmd, port >> 8, port & 0xff, ...ip, ...Buffer.from(userid), 0, ...tail]);
  }

  it('fetches through curl --socks4 (IPv4 target)', async () => {
    fx.proxy = await startProxy();
    const res = await curl(['--socks4', `127.0.0.1:${fx.proxy.port}`, `http://localhost:${fx.origin.port}/hello`]);
    expect(res.stdout.toString()).to.equal('hello\n');
    expect(fx.proxy.connector.requests[0]).to.deep.include({ protocol: 'socks4', target: { host: '127.0.0.1', port: fx.origin.port, kind: 'ipv4' } });
  });

  it('fetches through curl --socks4a (name passed to the proxy)', async () => {
    fx.proxy = await startProxy();
    const res = await curl(['--socks4a', `127.0.0.1:${fx.proxy.port}`, `http://localhost:${fx.origin.port}/hello`]);
    expect(res.stdout.toString()).to.equal('hello\n');
    expect(fx.proxy.connector.requests[0].target).to.deep.equal({ host: 'localhost', port: fx.origin.port, kind: 'domain' });
  });

  it('works with the socks package (SOCKS4a domain)', async () => {
    fx.proxy = await startProxy();
    const { socket } = await SocksClient.createConnection({
      proxy: { host: '127.0.0.1', port: fx.proxy.port, type: 4 },
      command: 'connect',
      destination: { host: 'localhost', port: fx.origin.port },
    });
    socket.end('GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).to.match(/\r\n\r\nhello\n$/);
  });

  it('grants with 0x5A and relays, including data pipelined after the request', async () => {
    const echo = await startTcpOrigin((s) => s.pipe(s));
    try {
      fx.proxy = await startProxy();
      const c = await fx.raw();
      c.send(Buffer.concat([request(0x01, echo.port, [127, 0, 0, 1]), Buffer.from('ping')]));
      const reply = await c.read(8);
      expect(reply[0]).to.equal(0x00);
      expect(reply[1]).to.equal(0x5a);
      expect((await c.read(4)).toString()).to.equal('ping');
    } finally {
      await echo.close();
    }
  });

  it('rejects BIND with 0x5B', async () => {
    fx.proxy = await startProxy();
    const c = await fx.raw();
    c.send(request(0x02, 80, [127, 0, 0, 1]));
    expect([...(await c.readToClose())]).to.deep.equal([0, 0x5b, 0, 0, 0, 0, 0, 0]);
    expect((await fx.proxy.nextRejection()).reason).to.match(/BIND is not supported/);
    expect(fx.proxy.connector.requests).to.have.length(0);
  });

  it('answers 0x5B when the dial fails', async () => {
    fx.proxy = await startProxy();
    const closed = await startTcpOrigin(() => undefined);
    await closed.close();
    const c = await fx.raw();
    c.send(request(0x01, closed.port, [127, 0, 0, 1]));
    expect([...(await c.readToClose())]).to.deep.equal([0, 0x5b, 0, 0, 0, 0, 0, 0]);
  });

  it('rejects an over-long USERID and keeps serving', async () => {
    fx.proxy = await startProxy();
    const c = await fx.raw();
    c.send(request(0x01, 80, [127, 0, 0, 1], 'x'.repeat(300)));
    expect((await c.readToClose())[1]).to.equal(0x5b);
    expect((await fx.proxy.nextRejection()).reason).to.match(/USERID is longer than 255 bytes/);
    const res = await curl(['--socks4a', `127.0.0.1:${fx.proxy.port}`, `${fx.origin.url}/hello`]);
    expect(res.stdout.toString()).to.equal('hello\n');
  });

  it('refuses SOCKS4 when the proxy requires authentication', async () => {
    fx.proxy = await startProxy({ auth: { username: 'u', password: 'p' } });
    const c = await fx.raw();
    c.send(request(0x01, fx.origin.port, [127, 0, 0, 1]));
    expect((await c.readToClose())[1]).to.equal(0x5b);
    expect((await fx.proxy.nextRejection()).reason).to.match(/no authentication/);
    expect(fx.proxy.connector.requests).to.have.length(0);
  });
});
