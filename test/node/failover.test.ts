import { expect } from 'chai';
import type { DialAttempt } from '../../src/api/events';
import type { BoosterNode } from '../../src/core/node';
import { spawnCli, type RunningCli } from '../helpers/cli';
import { startHttpServer, type TestHttpServer } from '../helpers/http';
import { startTestNode } from '../helpers/node';
import { freePort, waitUntil } from '../helpers/ports';
import { getViaSocks } from '../helpers/socks';

/**
 * Failover: dials heading to a peer that is then declared down are cancelled
 * and retried elsewhere at once, instead of waiting out the dial timeout.
 * B is a real child process, frozen with SIGSTOP: its kernel still accepts
 * TCP connections, so dials to it hang until A's heartbeat declares it down.
 */
describe('failover: dials to a peer declared down move on at once', function () {
  this.timeout(60_000);
  const DIAL_TIMEOUT_MS = 30_000;
  let origin: TestHttpServer;
  let a: BoosterNode | undefined;
  let b: RunningCli | undefined;

  before(async () => {
    origin = await startHttpServer();
  });

  after(async () => {
    if (b) {
      b.child.kill('SIGCONT');
      b.kill('SIGKILL');
    }
    await Promise.all([a?.stop(), origin?.close()]);
  });

  it('requests whose dial was heading to a frozen peer succeed through another source, well before the dial timeout', async () => {
    const ports = { pport: await freePort(), bport: await freePort() };
    b = spawnCli(['start', '--pport', String(ports.pport), '--bport', String(ports.bport), '--bind', '127.0.0.1', '--heartbeat', '500']);
    await b.waitFor(/booster endpoint listening/);
    a = await startTestNode({ settings: { policy: 'round-robin', heartbeatMs: 500, reconnectMs: 300, dialTimeoutMs: DIAL_TIMEOUT_MS } });
    const { peer } = await a.network.connect(`127.0.0.1:${ports.bport}`);
    const dials: DialAttempt[] = [];
    const sub = a.events.onDial((d) => dials.push(d));

    b.child.kill('SIGSTOP');
    const started = Date.now();
    // Round-robin alternates direct and B: about half of these dials head to the frozen B.
    const results = await Promise.all(
      Array.from({ length: 6 }, () => getViaSocks(a!.proxyAddress.port, '127.0.0.1', origin.port, '/hello').then((r) => r.status, (e: Error) => e.message)),
    );
    const elapsed = Date.now() - started;
    sub.dispose();

    expect(results).to.deep.equal(Array(6).fill(200));
    const cancelled = dials.filter((d) => d.sourceId === peer.id && !d.ok);
    expect(cancelled.length, JSON.stringify(dials)).to.be.greaterThan(0);
    for (const d of cancelled) expect(d.error).to.match(/went down while dialing/);
    expect(a.network.get(peer.id)?.state).to.equal('down');
    // Declared down by heartbeat (about 1 s with a 500 ms heartbeat), then retried at once: far below the dial timeout.
    expect(elapsed).to.be.below(DIAL_TIMEOUT_MS / 3);
    // The cancelled dials do not count against B's health as failures of its link.
    expect(a.sources.get(peer.id)?.stats.consecutiveFailures).to.equal(0);
  });

  it('when B resumes, it is wired back and used again', async () => {
    b!.child.kill('SIGCONT');
    await waitUntil('B wired back', () => a!.network.list()[0]?.state === 'up', 15_000);
    const used: string[] = [];
    const sub = a!.events.onTunnelOpened((t) => used.push(t.sourceId));
    await Promise.all(Array.from({ length: 4 }, () => getViaSocks(a!.proxyAddress.port, '127.0.0.1', origin.port, '/hello')));
    sub.dispose();
    expect(used).to.include(a!.network.list()[0].id);
  });
});
