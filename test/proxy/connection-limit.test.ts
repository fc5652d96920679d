import { expect } from 'chai';
import { DEFAULT_LIMITS } from '../../src/core/config';
import type { AddressClass } from '../../src/proxy/access';
import { openFilesLimit, proxyConnectionLimit } from '../../src/proxy/fd-limit';
import { CapturingLogger, DirectConnector, eventually, socks5Open, startProxy, startTcpOrigin, useProxyFixture } from './harness';

const LIMITS_TEXT = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            %SOFT%               524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('proxy: connection limit', function () {
  this.timeout(10_000);

  describe('from RLIMIT_NOFILE', () => {
    it('reads the soft "Max open files" of /proc/self/limits', () => {
      expect(openFilesLimit(() => LIMITS_TEXT.replace('%SOFT%', '4096'))).to.equal(4096);
      expect(openFilesLimit(() => LIMITS_TEXT.replace('%SOFT%', 'unlimited'))).to.equal(65536);
      expect(openFilesLimit(() => 'garbage')).to.equal(1024);
      expect(
        openFilesLimit(() => {
          throw Object.assign(new Error('no /proc here'), { code: 'ENOENT' });
        }),
      ).to.equal(1024);
    });

    it('this process: a positive number', () => {
      expect(openFilesLimit()).to.be.a('number').and.greaterThan(0);
    });

    it('maxProxyConnections wins; 0 derives (open files − fdReserve) / 2', () => {
      expect(proxyConnectionLimit({ maxProxyConnections: 100, fdReserve: 64 }, 1024)).to.equal(100);
      expect(proxyConnectionLimit({ maxProxyConnections: 0, fdReserve: 64 }, 1024)).to.equal(480);
      expect(proxyConnectionLimit({ maxProxyConnections: 0, fdReserve: 64 }, 65536)).to.equal(32736);
      expect(proxyConnectionLimit({ maxProxyConnections: 0, fdReserve: 64 }, 50), 'never below one').to.equal(1);
    });
  });

  describe('a running proxy', () => {
    const fx = useProxyFixture();

    it('destroys connections over the limit at once, logs it once with a count, and serves again below it', async () => {
      const log = new CapturingLogger();
      fx.proxy = await startProxy({ limits: { ...DEFAULT_LIMITS, maxProxyConnections: 3 } }, new DirectConnector(), log);
      expect(fx.proxy.server.connectionLimit).to.equal(3);
      const echo = await startTcpOrigin((s) => s.pipe(s));
      fx.cleanup.push(() => echo.close());
      const held = await Promise.all([0, 1, 2].map(() => fx.clients.connect(fx.proxy!.port)));
      for (const c of held) await socks5Open(c, '127.0.0.1', echo.port);

      for (let i = 0; i < 2; i++) {
        const over = await fx.clients.connect(fx.proxy.port);
        over.send([0x05, 0x01, 0x00]);
        expect((await over.readToClose()).length, 'no reply at all').to.equal(0);
      }
      expect(fx.proxy.server.openConnections).to.equal(3);
      expect(log.matching('warn', /limit: proxy at its connection limit 3 \(limits\.maxProxyConnections \/ ulimit -n\); refused 1$/)).to.have.length(1);
      expect(
        log.lines.filter((l) => /connection limit/.test(l.message)),
        'the second refusal is counted, not logged',
      ).to.have.length(1);

      held[0].destroy();
      await eventually(() => fx.proxy!.server.openConnections === 2, 'the proxy to see a client leave');
      await socks5Open(await fx.clients.connect(fx.proxy.port), '127.0.0.1', echo.port);
    });

    it('keeps a quarter of the limit (at most 16) for applications on this machine', async () => {
      // All test clients come from 127.0.0.1: the classifier calls the first seven strangers.
      const classes: AddressClass[] = ['stranger', 'stranger', 'stranger', 'stranger', 'stranger', 'stranger', 'stranger', 'local', 'local', 'local'];
      const log = new CapturingLogger();
      fx.proxy = await startProxy(
        { access: { classify: () => classes.shift() ?? 'local', openProxy: true }, limits: { ...DEFAULT_LIMITS, maxProxyConnections: 8 } },
        new DirectConnector(),
        log,
      );
      const greeted = async () => {
        const c = await fx.clients.connect(fx.proxy!.port);
        c.send([0x05, 0x01, 0x00]);
        return [...(await c.read(2))];
      };
      for (let i = 0; i < 6; i++) expect(await greeted()).to.deep.equal([0x05, 0x00]);
      const seventhStranger = await fx.clients.connect(fx.proxy.port);
      expect((await seventhStranger.readToClose()).length).to.equal(0);
      expect(
        log.matching(
          'warn',
          /connection limit 8 \(limits\.maxProxyConnections \/ ulimit -n; the last 2 are kept for applications on this machine\); refused 1$/,
        ),
      ).to.have.length(1);
      expect(await greeted()).to.deep.equal([0x05, 0x00]);
      expect(await greeted()).to.deep.equal([0x05, 0x00]);
      const ninthLocal = await fx.clients.connect(fx.proxy.port);
      expect((await ninthLocal.readToClose()).length).to.equal(0);
      expect(fx.proxy.server.openConnections).to.equal(8);
    });

    it('defaults to the limit derived from this process’s open-files limit', async () => {
      fx.proxy = await startProxy();
      expect(fx.proxy.server.connectionLimit).to.equal(proxyConnectionLimit(DEFAULT_LIMITS));
    });
  });
});
