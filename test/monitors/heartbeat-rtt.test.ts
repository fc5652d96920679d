import { expect } from 'chai';
import { HeartbeatKeeper } from '../../src/network/link/heartbeat';

describe('heartbeat RTT (for booster_peer_heartbeat_rtt_seconds)', () => {
  it('is the time to the answer minus the wait we asked for, smoothed; unknown for answers without a send time (0.3)', () => {
    let t = 1_000_000;
    const sent: { hops: number; ttl: number }[] = [];
    const keeper = new HeartbeatKeeper({ periodMs: 1000, send: (b) => sent.push(b), onSilence: () => {}, now: () => t });
    try {
      keeper.start();
      expect(keeper.rttMs).to.equal(undefined);
      // A 0.3 answer (no sentAt): the other side's hold time is unknown, so no sample.
      t += 1030;
      keeper.receive({ hops: 2, ttl: t + 1000 });
      expect(keeper.rttMs).to.equal(undefined);
      keeper.dispose();

      const v1 = new HeartbeatKeeper({ periodMs: 1000, send: (b) => sent.push(b), onSilence: () => {}, now: () => t });
      v1.start();
      t += 1030;
      v1.receive({ hops: 2, ttl: t + 1000, sentAt: t });
      expect(v1.rttMs).to.equal(30);
      // The next sample (10 ms) is averaged in, not taken alone.
      (v1 as unknown as { beat(h: number): void }).beat(3);
      t += 1010;
      v1.receive({ hops: 4, ttl: t + 1000, sentAt: t });
      expect(v1.rttMs).to.be.closeTo(0.7 * 30 + 0.3 * 10, 1e-9);
      v1.dispose();
    } finally {
      keeper.dispose();
    }
  });
});
