import { expect } from 'chai';
import * as net from 'node:net';
import * as os from 'node:os';
import { DirectDialer } from '../../plugins/local/src/dialer';
import { forbiddenForRemoteClients } from '../../src/security/addresses';
import type { ProxyAccess } from '../../src/proxy/access';
import { curl, startProxy, TableConnector, useProxyFixture } from './harness';

const direct = { id: 'direct', kind: 'direct' as const, label: 'direct', dialer: 'direct', local: true };

/** A listener on every address of this machine (dual stack), counting who reaches it. */
async function listenEverywhere(): Promise<{ port: number; accepted: () => number; close(): Promise<void> }> {
  let accepted = 0;
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    accepted++;
    sockets.push(s);
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '::', ipv6Only: false }, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    close: () =>
      new Promise((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}

function ownAddress(): string | undefined {
  return Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && !i.internal && i.family === 'IPv4')?.address;
}

describe('proxy: clients that are not on this machine cannot reach it (SSRF)', function () {
  this.timeout(10_000);
  const fx = useProxyFixture({ origin: listenEverywhere });

  const dial = (host: string, guard: ((address: string) => string | undefined) | undefined = forbiddenForRemoteClients) =>
    new DirectDialer().dial({
      target: { host, port: fx.origin.port, kind: net.isIP(host) === 4 ? 'ipv4' : net.isIP(host) === 6 ? 'ipv6' : 'domain' },
      source: direct,
      signal: new AbortController().signal,
      guard,
    });

  describe('the direct dialer with a guard', () => {
    const spellings = ['127.0.0.1', '127.1', '2130706433', '0x7f.0.0.1', 'localhost', '::1', '::ffff:127.0.0.1', '0.0.0.0', '::', '0'];
    for (const host of spellings) {
      it(`refuses "${host}" with reply 2, before connecting`, async () => {
        const before = fx.origin.accepted();
        const err = await dial(host).then(
          () => undefined,
          (e: Error & { socksReply?: number }) => e,
        );
        expect(err?.message).to.match(
          /not allowed: .*(loopback, link-local or unspecified|address of this node).*off limits to clients that are not on this machine/,
        );
        expect(err?.socksReply).to.equal(2);
        await new Promise((r) => setTimeout(r, 20));
        expect(fx.origin.accepted() - before).to.equal(0);
      });
    }

    it('refuses this machine’s own LAN address', async function () {
      const own = ownAddress();
      if (!own) this.skip();
      const err = await dial(own).then(
        () => undefined,
        (e: Error & { socksReply?: number }) => e,
      );
      expect(err?.message).to.match(/is an address of this node/);
      expect(err?.socksReply).to.equal(2);
    });

    it('refuses a bracketed "[::ffff:127.0.0.1]" (as a SOCKS5 name) without connecting', async () => {
      const before = fx.origin.accepted();
      expect(
        await dial('[::ffff:127.0.0.1]').then(
          () => 'connected',
          () => 'failed',
        ),
      ).to.equal('failed');
      expect(fx.origin.accepted() - before).to.equal(0);
    });

    it('without a guard the same spellings connect (the test can fail)', async () => {
      for (const host of ['127.1', '2130706433', 'localhost', '0.0.0.0']) {
        const { socket } = await dial(host, () => undefined);
        socket.destroy();
      }
    });
  });

  describe('through the proxy', () => {
    const lanClient: ProxyAccess = { classify: () => 'client', openProxy: false };

    it('SOCKS5 (address and name), SOCKS4 and HTTP all get "not allowed"', async () => {
      const before = fx.origin.accepted();
      const connector = new TableConnector();
      fx.proxy = await startProxy({ access: lanClient }, connector as never);
      const url = `http://127.0.0.1:${fx.origin.port}/`;
      const socks5 = await curl(['--socks5', `127.0.0.1:${fx.proxy.port}`, url]);
      expect(socks5.stderr).to.match(/not allowed|\(2\)/i);
      const socks5h = await curl(['--socks5-hostname', `127.0.0.1:${fx.proxy.port}`, `http://localhost:${fx.origin.port}/`]);
      expect(socks5h.stderr).to.match(/not allowed|\(2\)/i);
      const socks4 = await curl(['--socks4', `127.0.0.1:${fx.proxy.port}`, url]);
      expect(socks4.code).to.not.equal(0);
      const http = await curl(['--proxy', `http://127.0.0.1:${fx.proxy.port}`, '-w', '%{http_code}', url]);
      expect(http.stdout.toString()).to.match(/^403 Forbidden: .*connection to 127\.0\.0\.1 not allowed[^]*403$/);
      expect(fx.origin.accepted() - before).to.equal(0);
      expect(connector.requests.every((r) => r.restricted)).to.equal(true);
    });
  });
});
