import { expect } from 'chai';
import { SocksClient } from 'socks';
import { DEFAULT_LIMITS } from '../../src/core/config';
import { AuthThrottle, MAX_FAILURE_DELAY_MS, throttleKey } from '../../src/proxy/auth-throttle';
import { CapturingLogger, curl, DirectConnector, startOrigin, startProxy, useProxyFixture } from './harness';

const limits = { authFailuresBeforeLockout: 5, authFailureDelayMs: 100, authLockoutMs: 60_000 };

describe('proxy: login throttling', function () {
  this.timeout(15_000);

  describe('AuthThrottle', () => {
    let now = 1_000_000;
    const clock = () => now;

    it('delays the k-th failure by base × 2^(k-1), capped, and locks the address out after the allowed failures', () => {
      const t = new AuthThrottle({ ...limits, authFailuresBeforeLockout: 8, authFailureDelayMs: 250 }, clock);
      const verdicts = Array.from({ length: 8 }, () => t.failed('10.0.0.9'));
      expect(verdicts.map((v) => v.delayMs)).to.deep.equal([
        250,
        500,
        1000,
        2000,
        MAX_FAILURE_DELAY_MS,
        MAX_FAILURE_DELAY_MS,
        MAX_FAILURE_DELAY_MS,
        MAX_FAILURE_DELAY_MS,
      ]);
      expect(verdicts.map((v) => v.lockedOut)).to.deep.equal([false, false, false, false, false, false, false, true]);
      expect(t.lockedFor('10.0.0.9')).to.equal(60_000);
      expect(t.lockedFor('10.0.0.10'), 'other addresses are not affected').to.equal(0);
      now += 59_999;
      expect(t.lockedFor('10.0.0.9')).to.equal(1);
      now += 1;
      expect(t.lockedFor('10.0.0.9')).to.equal(0);
      expect(t.failed('10.0.0.9').delayMs, 'after the lockout, the count starts over').to.equal(250);
    });

    it('a success clears the address; old failures are forgotten after a lockout period', () => {
      const t = new AuthThrottle(limits, clock);
      t.failed('a');
      t.failed('a');
      t.succeeded('a');
      expect(t.failed('a').delayMs).to.equal(100);
      now += 60_000;
      expect(t.failed('a').delayMs).to.equal(100);
    });

    it('counts an IPv4 client by its address (mapped or not) and an IPv6 client by its /64', () => {
      expect(throttleKey('10.0.0.9')).to.equal('10.0.0.9');
      expect(throttleKey('::ffff:10.0.0.9')).to.equal('10.0.0.9');
      expect(throttleKey('2001:db8:1:2:aaaa::1')).to.equal('2001:db8:1:2::/64');
      expect(throttleKey('2001:db8:1:2:bbbb:cccc:dddd:9')).to.equal('2001:db8:1:2::/64');
      expect(throttleKey('2001:db8:1:3::1')).to.equal('2001:db8:1:3::/64');
    });

    it('remembers at most maxTracked addresses, forgetting the least recently failed', () => {
      const t = new AuthThrottle({ ...limits, authFailuresBeforeLockout: 1 }, clock, 3);
      for (const a of ['a', 'b', 'c', 'd']) t.failed(a);
      expect(t.tracked).to.equal(3);
      expect(t.lockedFor('a'), 'a was dropped').to.equal(0);
      expect(t.lockedFor('d')).to.be.greaterThan(0);
    });
  });

  describe('on a running proxy', () => {
    const fx = useProxyFixture({ origin: startOrigin });

    const socks5Login = async (password: string): Promise<number[]> => {
      const c = await fx.clients.connect(fx.proxy!.port);
      const pass = Buffer.from(password);
      c.send([0x05, 0x01, 0x02, 0x01, 5, ...Buffer.from('alice'), pass.length, ...pass]);
      return [...(await c.readToClose())];
    };

    it('answers a wrong password late, more so each time', async () => {
      fx.proxy = await startProxy({ auth: { username: 'alice', password: 's3cret' }, limits: { ...DEFAULT_LIMITS, ...limits, authFailureDelayMs: 200 } });
      const started = Date.now();
      expect(await socks5Login('nope')).to.deep.equal([0x05, 0x02, 0x01, 0x01]);
      const first = Date.now() - started;
      expect(await socks5Login('nope')).to.deep.equal([0x05, 0x02, 0x01, 0x01]);
      const both = Date.now() - started;
      // Lower bounds only: a timer never fires early.
      expect(first, 'first failure held back 200 ms').to.be.at.least(195);
      expect(both, 'second held back 400 ms more').to.be.at.least(595);
    });

    it('locks an address out: even the right password is refused at once, in SOCKS5 and HTTP, and it is logged', async () => {
      const log = new CapturingLogger();
      fx.proxy = await startProxy(
        { auth: { username: 'alice', password: 's3cret' }, limits: { ...DEFAULT_LIMITS, ...limits, authFailureDelayMs: 1 } },
        new DirectConnector(),
        log,
      );
      for (let i = 0; i < limits.authFailuresBeforeLockout; i++) expect(await socks5Login(`guess${i}`)).to.deep.equal([0x05, 0x02, 0x01, 0x01]);
      expect(await socks5Login('s3cret')).to.deep.equal([0x05, 0x02, 0x01, 0x01]);
      const http = await curl(['--proxy', `http://127.0.0.1:${fx.proxy.port}`, '--proxy-user', 'alice:s3cret', '-w', '%{http_code}', `${fx.origin.url}/hello`]);
      expect(http.stdout.toString()).to.match(/too many failed logins from this address; try again later\n407$/);
      const attempt = SocksClient.createConnection({
        proxy: { host: '127.0.0.1', port: fx.proxy.port, type: 5, userId: 'alice', password: 's3cret' },
        command: 'connect',
        destination: { host: '127.0.0.1', port: fx.origin.port },
      });
      expect(
        await attempt.then(
          () => 'connected',
          (e: Error) => e.message,
        ),
      ).to.match(/authentication/i);
      expect(fx.proxy.connector.requests).to.have.length(0);
      expect(log.matching('warn', /^limit: proxy locked out 127\.0\.0\.1 after repeated failed logins/)).to.have.length(1);
      expect(log.matching('warn', /^limit: proxy refuses logins from 127\.0\.0\.1 for 60 s more/)).to.have.length(1);
      expect(fx.proxy.rejections.filter((r) => /too many failed logins/.test(r.reason))).to.have.length(3);
    });

    it('HTTP: a wrong password counts, a missing one does not', async () => {
      fx.proxy = await startProxy({
        auth: { username: 'alice', password: 's3cret' },
        limits: { ...DEFAULT_LIMITS, ...limits, authFailuresBeforeLockout: 2, authFailureDelayMs: 1 },
      });
      const code = async (args: string[]) =>
        (
          await curl(['--proxy', `http://127.0.0.1:${fx.proxy!.port}`, ...args, '-o', '/dev/null', '-w', '%{http_code}', `${fx.origin.url}/hello`])
        ).stdout.toString();
      for (let i = 0; i < 5; i++) expect(await code([])).to.equal('407');
      expect(await code(['--proxy-user', 'alice:s3cret'])).to.equal('200');
      expect(await code(['--proxy-user', 'alice:wrong'])).to.equal('407');
      expect(await code(['--proxy-user', 'alice:s3cret']), 'a success in between clears the count').to.equal('200');
      expect(await code(['--proxy-user', 'alice:wrong'])).to.equal('407');
      expect(await code(['--proxy-user', 'alice:wrong'])).to.equal('407');
      expect(await code(['--proxy-user', 'alice:s3cret']), 'locked out now').to.equal('407');
    });
  });
});
