import { expect } from 'chai';
import type { DialAttempt } from '../../src/api/events';
import { useNodes } from '../helpers/cluster';
import { waitUntil } from '../helpers/ports';
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
  // Nodes per test (stopped after it), so each test stands alone.
  const nodes = useNodes();

  /** A wired to B (a child process), and an origin. */
  async function aWiredToB() {
    const origin = await nodes.origin();
    const b = await nodes.child(['--heartbeat', '500']);
    const a = await nodes.node({ settings: { policy: 'round-robin', heartbeatMs: 500, reconnectMs: 300, dialTimeoutMs: DIAL_TIMEOUT_MS } });
    const { peer } = await a.network.connect(b.address);
    return { origin, a, b, peer };
  }

  it('requests whose dial was heading to a frozen peer succeed through another source, well before the dial timeout', async () => {
    const { origin, a, b, peer } = await aWiredToB();
    const dials: DialAttempt[] = [];
    const sub = a.events.onDial((d) => dials.push(d));

    b.cli.child.kill('SIGSTOP');
    const started = Date.now();
    // Round-robin alternates direct and B: about half of these dials head to the frozen B.
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        getViaSocks(a.proxyAddress.port, '127.0.0.1', origin.port, '/hello').then(
          (r) => r.status,
          (e: Error) => e.message,
        ),
      ),
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

  it('when a frozen B resumes, it is wired back and used again', async () => {
    const { origin, a, b, peer } = await aWiredToB();
    b.cli.child.kill('SIGSTOP');
    try {
      await waitUntil('frozen B declared down', () => a.network.get(peer.id)?.state === 'down', 10_000);
    } finally {
      b.cli.child.kill('SIGCONT');
    }
    await waitUntil('B wired back', () => a.network.get(peer.id)?.state === 'up', 15_000);
    const used: string[] = [];
    const sub = a.events.onTunnelOpened((t) => used.push(t.sourceId));
    await Promise.all(Array.from({ length: 4 }, () => getViaSocks(a.proxyAddress.port, '127.0.0.1', origin.port, '/hello')));
    sub.dispose();
    expect(used).to.include(peer.id);
  });
});
