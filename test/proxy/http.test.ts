import { expect } from 'chai';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DialFailure, Socks5Reply } from '../../src/kernel/connector-errors';
import type { DispatchRequest, OpenedUpstream } from '../../src/kernel/connector';
import { MAX_HEAD } from '../../src/proxy/http';
import { curl, DirectConnector, sha256, startOrigin, startProxy, startTcpOrigin, useProxyFixture } from './harness';
import { expectPoolSettled, markPool, READ_PATHS } from './read-paths';

describe('proxy: HTTP', function () {
  this.timeout(10_000);
  const fx = useProxyFixture({ origin: startOrigin });

  /** Sends `text` on a fresh connection and returns everything the proxy answers until it closes. */
  async function exchange(text: string | Buffer): Promise<string> {
    const c = await fx.raw();
    c.send(text);
    return (await c.readToClose()).toString('latin1');
  }

  // Over both upstream read paths: the fake's 'data' events and the direct dialer's pooled onread buffers.
  for (const readPath of READ_PATHS)
    describe(`absolute-URI forwarding (${readPath} read path)`, () => {
      const start = () => startProxy({}, new DirectConnector(readPath));

      it('fetches with curl --proxy (plain GET)', async () => {
        fx.proxy = await start();
        const res = await curl(['--proxy', `http://127.0.0.1:${fx.proxy.port}`, `http://localhost:${fx.origin.port}/hello`]);
        expect(res.stderr).to.equal('');
        expect(res.stdout.toString()).to.equal('hello\n');
        expect(fx.proxy.connector.requests[0]).to.deep.include({
          protocol: 'http-forward',
          target: { host: 'localhost', port: fx.origin.port, kind: 'domain' },
        });
      });

      it('downloads a multi-MB file intact', async () => {
        const pool = markPool();
        fx.proxy = await start();
        const res = await curl(['--proxy', `http://127.0.0.1:${fx.proxy.port}`, `${fx.origin.url}/blob`]);
        expect(sha256(res.stdout)).to.equal(fx.origin.blobSha256);
        await fx.proxy.connector.tunnels[0].closed;
        await expectPoolSettled(readPath, pool);
      });

      it('forwards a POST body (2 MB, with Expect: 100-continue)', async () => {
        fx.proxy = await start();
        const body = crypto.randomBytes(2 * 1024 * 1024);
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'booster-proxy-')), 'body');
        fs.writeFileSync(file, body);
        try {
          const res = await curl(['--proxy', `http://127.0.0.1:${fx.proxy.port}`, '--data-binary', `@${file}`, `${fx.origin.url}/echo`]);
          expect(sha256(res.stdout)).to.equal(sha256(body));
        } finally {
          fs.rmSync(path.dirname(file), { recursive: true, force: true });
        }
      });

      it('rewrites the request to origin form, drops hop-by-hop headers and asks for Connection: close', async () => {
        fx.proxy = await start();
        const response = await exchange(
          `GET http://user:pw@127.0.0.1:${fx.origin.port}/headers?x=1 HTTP/1.1\r\nHost: wrong.example\r\nProxy-Connection: keep-alive\r\n` +
            'Keep-Alive: timeout=5\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nX-Keep: yes\r\nTE: trailers\r\n\r\n',
        );
        expect(response).to.match(/^HTTP\/1\.1 200 OK\r\n/);
        const seen = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as { url: string; headers: Record<string, string> };
        expect(seen.url).to.equal('/headers?x=1');
        expect(seen.headers).to.deep.equal({ host: `127.0.0.1:${fx.origin.port}`, 'x-keep': 'yes', connection: 'close' });
      });

      it('defaults to port 80 and a "/" path', async () => {
        fx.proxy = await startProxy(undefined, new RefusingConnector(Socks5Reply.ConnectionRefused));
        const response = await exchange('GET http://example.test HTTP/1.1\r\nHost: example.test\r\n\r\n');
        expect(response).to.match(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
        expect(fx.proxy.connector.requests[0].target).to.deep.equal({ host: 'example.test', port: 80, kind: 'domain' });
      });
    });

  describe('CONNECT', () => {
    for (const readPath of READ_PATHS)
      it(`tunnels with curl -p (proxytunnel), ${readPath} read path`, async () => {
        const pool = markPool();
        fx.proxy = await startProxy({}, new DirectConnector(readPath));
        const res = await curl(['-p', '--proxy', `http://127.0.0.1:${fx.proxy.port}`, `${fx.origin.url}/blob`]);
        expect(sha256(res.stdout)).to.equal(fx.origin.blobSha256);
        expect(fx.proxy.connector.requests[0]).to.deep.include({ protocol: 'http-connect', target: { host: '127.0.0.1', port: fx.origin.port, kind: 'ipv4' } });
        await fx.proxy.connector.tunnels[0].closed;
        await expectPoolSettled(readPath, pool);
      });

    it('tunnels to an IPv6 literal ([::1]:port), relaying data sent with the request', async () => {
      const echo6 = await startTcpOrigin((s) => s.pipe(s), '::1');
      try {
        fx.proxy = await startProxy();
        const c = await fx.raw();
        c.send(`CONNECT [::1]:${echo6.port} HTTP/1.1\r\nHost: [::1]:${echo6.port}\r\n\r\npipelined`);
        const established = 'HTTP/1.1 200 Connection established\r\n\r\n';
        expect((await c.read(established.length)).toString()).to.equal(established);
        expect((await c.read(9)).toString()).to.equal('pipelined');
        expect(fx.proxy.connector.requests[0].target).to.deep.equal({ host: '::1', port: echo6.port, kind: 'ipv6' });
      } finally {
        await echo6.close();
      }
    });

    it('answers 502 when the dial is refused and 504 when it times out', async () => {
      fx.proxy = await startProxy(undefined, new RefusingConnector(Socks5Reply.ConnectionRefused));
      expect(await exchange('CONNECT 127.0.0.1:1 HTTP/1.1\r\n\r\n')).to.match(/^HTTP\/1\.1 502 Bad Gateway\r\n[\s\S]*refused for the test/);
      await fx.proxy.server.close(0);
      fx.proxy = await startProxy(undefined, new RefusingConnector(Socks5Reply.TtlExpired));
      expect(await exchange('CONNECT 127.0.0.1:1 HTTP/1.1\r\n\r\n')).to.match(/^HTTP\/1\.1 504 Gateway Timeout\r\n/);
    });
  });

  describe('bad requests', () => {
    const cases: { name: string; text: string; status: number; reason: RegExp }[] = [
      { name: 'a malformed request line', text: 'GET\r\n\r\n', status: 400, reason: /malformed HTTP request line "GET"/ },
      {
        name: 'an origin-form request (proxy used as a web server)',
        text: 'GET /hello HTTP/1.1\r\nHost: x\r\n\r\n',
        status: 400,
        reason: /not an absolute URI/,
      },
      { name: 'an https:// URI', text: 'GET https://example.test/ HTTP/1.1\r\n\r\n', status: 400, reason: /scheme "https"/ },
      { name: 'an ftp:// URI', text: 'GET ftp://example.test/ HTTP/1.1\r\n\r\n', status: 400, reason: /scheme "ftp"/ },
      { name: 'a CONNECT without a port', text: 'CONNECT example.test HTTP/1.1\r\n\r\n', status: 400, reason: /not host:port/ },
      { name: 'a CONNECT to port 0', text: 'CONNECT example.test:0 HTTP/1.1\r\n\r\n', status: 400, reason: /not host:port/ },
      {
        name: 'a header without a colon',
        text: 'GET http://example.test/ HTTP/1.1\r\nbroken header\r\n\r\n',
        status: 400,
        reason: /malformed HTTP header line/,
      },
      {
        name: 'a header name with a space before the colon',
        text: 'GET http://example.test/ HTTP/1.1\r\nHost : x\r\n\r\n',
        status: 400,
        reason: /malformed HTTP header line/,
      },
      { name: 'HTTP/2 in the request line', text: 'GET http://example.test/ HTTP/2.0\r\n\r\n', status: 400, reason: /malformed HTTP request line/ },
    ];
    for (const tc of cases) {
      it(`answers ${tc.status} to ${tc.name}, and keeps serving`, async () => {
        fx.proxy = await startProxy();
        expect(await exchange(tc.text)).to.match(new RegExp(`^HTTP/1\\.1 ${tc.status} `));
        expect((await fx.proxy.nextRejection()).reason).to.match(tc.reason);
        expect(fx.proxy.connector.requests).to.have.length(0);
        const res = await curl(['--proxy', `http://127.0.0.1:${fx.proxy.port}`, `${fx.origin.url}/hello`]);
        expect(res.stdout.toString()).to.equal('hello\n');
      });
    }

    it(`answers 431 to a header block over ${MAX_HEAD} bytes`, async () => {
      fx.proxy = await startProxy();
      const c = await fx.raw();
      c.send(`GET http://example.test/ HTTP/1.1\r\n`);
      for (let i = 0; i < 70; i++) c.send(`X-Filler-${i}: ${'a'.repeat(1000)}\r\n`);
      expect((await c.readToClose()).toString()).to.match(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
      expect((await fx.proxy.nextRejection()).reason).to.match(/larger than 65536 bytes/);
    });

    it('accepts a header block just under the limit', async () => {
      fx.proxy = await startProxy();
      const start = `GET http://127.0.0.1:${fx.origin.port}/hello HTTP/1.1\r\nX-Big: `;
      const text = `${start}${'b'.repeat(MAX_HEAD - start.length - 4)}\r\n\r\n`;
      expect(text.length).to.equal(MAX_HEAD);
      expect(await exchange(text)).to.match(/^HTTP\/1\.1 200 OK\r\n[\s\S]*hello\n$/);
    });
  });

  describe('authentication', () => {
    const auth = { username: 'alice', password: 's3cret' };

    it('answers 407 with Proxy-Authenticate without credentials', async () => {
      fx.proxy = await startProxy({ auth });
      const response = await exchange(`GET ${fx.origin.url}/hello HTTP/1.1\r\n\r\n`);
      expect(response).to.match(/^HTTP\/1\.1 407 Proxy Authentication Required\r\n/);
      expect(response).to.match(/\r\nProxy-Authenticate: Basic realm="booster"\r\n/);
      expect(fx.proxy.connector.requests).to.have.length(0);
    });

    it('accepts good Basic credentials (GET and CONNECT), refuses bad ones', async () => {
      fx.proxy = await startProxy({ auth });
      const good = await curl(['--proxy', `http://127.0.0.1:${fx.proxy.port}`, '--proxy-user', 'alice:s3cret', `${fx.origin.url}/hello`]);
      expect(good.stdout.toString()).to.equal('hello\n');
      const tunnel = await curl(['-p', '--proxy', `http://127.0.0.1:${fx.proxy.port}`, '--proxy-user', 'alice:s3cret', `${fx.origin.url}/hello`]);
      expect(tunnel.stdout.toString()).to.equal('hello\n');
      const bad = await curl([
        '--proxy',
        `http://127.0.0.1:${fx.proxy.port}`,
        '--proxy-user',
        'alice:nope',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `${fx.origin.url}/hello`,
      ]);
      expect(bad.stdout.toString()).to.equal('407');
    });

    it('does not forward Proxy-Authorization to the origin', async () => {
      fx.proxy = await startProxy({ auth });
      const creds = Buffer.from('alice:s3cret').toString('base64');
      const response = await exchange(`GET ${fx.origin.url}/headers HTTP/1.1\r\nProxy-Authorization: Basic ${creds}\r\n\r\n`);
      const seen = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string> };
      expect(seen.headers).to.not.have.property('proxy-authorization');
    });
  });
});

/** Fails every dial with the given reply, recording the request. */
class RefusingConnector extends DirectConnector {
  constructor(private readonly reply: Socks5Reply) {
    super();
  }

  override open(request: DispatchRequest): Promise<OpenedUpstream> {
    this.requests.push(request);
    return Promise.reject(new DialFailure(`${request.target.host}:${request.target.port} refused for the test`, this.reply));
  }
}
