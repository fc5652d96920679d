import { expect } from 'chai';
import { SocksClient } from 'socks';
import { DEFAULT_LIMITS } from '../../src/core/config';
import type { AddressClass, ProxyAccess } from '../../src/proxy/access';
import { NOT_ALLOWED } from '../../src/proxy/access';
import { CapturingLogger, curl, DirectConnector, startOrigin, startProxy, useProxyFixture } from './harness';

/** Every client of these tests connects from 127.0.0.1; the classifier decides what the proxy takes it for. */
function as(addressClass: AddressClass, openProxy = false): ProxyAccess {
  return { classify: () => addressClass, openProxy };
}

const SOCKS4A_REQUEST = [0x04, 0x01, 0x00, 0x50, 0, 0, 0, 1, 0x00, ...Buffer.from('example.com'), 0x00];
const HAS_CONTROL = /[\x00-\x1f\x7f-\x9f]/;

describe('proxy: who may use it', function () {
  this.timeout(10_000);
  const fx = useProxyFixture({ origin: startOrigin });
  const socks5h = () => ['--socks5-hostname', `127.0.0.1:${fx.proxy!.port}`, `${fx.origin.url}/hello`];

  describe('a stranger', () => {
    it('gets [05 FF] for SOCKS5, whatever methods it offers, and nothing is dialed', async () => {
      fx.proxy = await startProxy({ access: as('stranger') });
      for (const greeting of [
        [0x05, 0x01, 0x00],
        [0x05, 0x02, 0x00, 0x02],
        [0x05, 0x01, 0x86],
      ]) {
        const c = await fx.raw();
        c.send(greeting);
        expect([...(await c.readToClose())], `reply to ${greeting}`).to.deep.equal([0x05, 0xff]);
        expect((await fx.proxy.nextRejection()).reason).to.match(/SOCKS5 client not allowed: this proxy serves local applications/);
      }
      expect(fx.proxy.connector.requests).to.have.length(0);
    });

    it('gets 0x5B for SOCKS4 and SOCKS4a', async () => {
      fx.proxy = await startProxy({ access: as('stranger') });
      const c = await fx.raw();
      c.send(SOCKS4A_REQUEST);
      expect([...(await c.readToClose())]).to.deep.equal([0x00, 0x5b, 0, 0, 0, 0, 0, 0]);
      expect((await fx.proxy.nextRejection()).reason).to.match(/SOCKS4 client not allowed/);
      const viaCurl = await curl(['--socks4a', `127.0.0.1:${fx.proxy.port}`, `${fx.origin.url}/hello`]);
      expect(viaCurl.code, viaCurl.stderr).to.not.equal(0);
      expect(fx.proxy.connector.requests).to.have.length(0);
    });

    it('gets 403 Forbidden for HTTP GET and CONNECT, with a body that says why', async () => {
      fx.proxy = await startProxy({ access: as('stranger') });
      const get = await curl(['--proxy', `http://127.0.0.1:${fx.proxy.port}`, '-w', '%{http_code}', `${fx.origin.url}/hello`]);
      expect(get.stdout.toString()).to.equal(`403 Forbidden: ${NOT_ALLOWED}\n403`);
      const tunnel = await curl(['-p', '--proxy', `http://127.0.0.1:${fx.proxy.port}`, `${fx.origin.url}/hello`]);
      expect(tunnel.code).to.not.equal(0);
      expect(tunnel.stderr).to.match(/403/);
      expect(fx.proxy.connector.requests).to.have.length(0);
    });

    it('is served on an open proxy, as a restricted client', async () => {
      fx.proxy = await startProxy({ access: as('stranger', true) });
      expect((await curl(socks5h())).stdout.toString()).to.equal('hello\n');
      expect(fx.proxy.connector.requests[0].restricted).to.equal(true);
    });

    it('with the right credentials is served (SOCKS5, HTTP), restricted; SOCKS4 cannot carry them', async () => {
      fx.proxy = await startProxy({ access: as('stranger'), auth: { username: 'alice', password: 's3cret' } });
      const { socket } = await SocksClient.createConnection({
        proxy: { host: '127.0.0.1', port: fx.proxy.port, type: 5, userId: 'alice', password: 's3cret' },
        command: 'connect',
        destination: { host: '127.0.0.1', port: fx.origin.port },
      });
      socket.destroy();
      const http = await curl(['--proxy', `http://127.0.0.1:${fx.proxy.port}`, '--proxy-user', 'alice:s3cret', `${fx.origin.url}/hello`]);
      expect(http.stdout.toString()).to.equal('hello\n');
      expect(fx.proxy.connector.requests.map((r) => r.restricted)).to.deep.equal([true, true]);
      const c = await fx.raw();
      c.send(SOCKS4A_REQUEST);
      expect((await c.readToClose())[1]).to.equal(0x5b);
      expect(fx.proxy.rejections.at(-1)?.reason).to.match(/SOCKS4 has no authentication/);
    });
  });

  for (const addressClass of ['client', 'legacy-peer'] as const) {
    it(`a ${addressClass} is served without credentials (even when the proxy has some), as a restricted client`, async () => {
      fx.proxy = await startProxy({ access: as(addressClass), auth: { username: 'alice', password: 's3cret' } });
      expect((await curl(socks5h())).stdout.toString()).to.equal('hello\n');
      expect((await curl(['--socks4', `127.0.0.1:${fx.proxy.port}`, `${fx.origin.url}/hello`])).stdout.toString()).to.equal('hello\n');
      expect((await curl(['--proxy', `http://127.0.0.1:${fx.proxy.port}`, `${fx.origin.url}/hello`])).stdout.toString()).to.equal('hello\n');
      expect(fx.proxy.connector.requests.map((r) => r.restricted)).to.deep.equal([true, true, true]);
    });
  }

  it('an application on this machine is served unrestricted (the default access)', async () => {
    fx.proxy = await startProxy();
    expect((await curl(socks5h())).stdout.toString()).to.equal('hello\n');
    expect(fx.proxy.connector.requests[0].restricted).to.equal(false);
  });

  describe('log lines', () => {
    it('one info line per refusal; past 20 in an interval, a counted summary instead', async () => {
      const log = new CapturingLogger();
      fx.proxy = await startProxy({ access: as('stranger') }, new DirectConnector(), log);
      for (let i = 0; i < 25; i++) {
        const c = await fx.raw();
        c.send('GET http://example.com/ HTTP/1.1\r\n\r\n');
        await c.readToClose();
        c.destroy();
      }
      expect(log.matching('info', /^rejected 127\.0\.0\.1:\d+: HTTP client not allowed/)).to.have.length(20);
      expect(log.matching('warn', /^limit: proxy turned away more than 20 clients within 10 s/)).to.have.length(1);
    });

    it('client input in log lines is escaped: user names, header lines, target names', async () => {
      const log = new CapturingLogger();
      const connector = new DirectConnector();
      fx.proxy = await startProxy({ auth: { username: 'alice', password: 's3cret' }, limits: { ...DEFAULT_LIMITS, authFailureDelayMs: 1 } }, connector, log);
      const user = Buffer.from('ev\x1b[2J\nil');
      const c1 = await fx.raw();
      c1.send([0x05, 0x01, 0x02, 0x01, user.length, ...user, 1, 0x78]);
      await c1.readToClose();
      const c2 = await fx.raw();
      c2.send('GET http://x/ HTTP/1.1\r\nX-\x1b[31m: red\r\n\r\n');
      await c2.readToClose();
      const creds = Buffer.from('alice:s3cret').toString('base64');
      const c3 = await fx.raw();
      c3.send(`CONNECT bad\x1bX\x07.invalid:80 HTTP/1.1\r\nProxy-Authorization: Basic ${creds}\r\n\r\n`);
      await c3.readToClose();
      const lines = log.lines.map((l) => l.message);
      expect(lines.find((l) => /authentication failed for user/.test(l))).to.include('ev\\x1b[2J\\x0ail');
      expect(lines.find((l) => /malformed HTTP header line/.test(l))).to.include('X-\\x1b[31m');
      expect(lines.find((l) => /http-connect .* failed/.test(l))).to.include('bad\\x1bX\\x07.invalid:80');
      expect(lines.filter((l) => HAS_CONTROL.test(l))).to.deep.equal([]);
    });
  });
});
