import { expect } from 'chai';
import { CapacityEstimator, DEFAULT_CAPACITY, effectiveCapacity, type CapacityEstimatorOptions } from '../../src/dispatch/capacity';

const MBIT = 1e6 / 8;
/** The default rate window, in seconds: a sample needs that long of busy time. */
const W = DEFAULT_CAPACITY.rateWindowMs / 1000;

/**
 * Drives an estimator tick by tick (250 ms by default) over a synthetic trace:
 * `rateAt(t)` is what the link delivers at second t (bytes/s) while busy.
 */
class Trace {
  readonly estimator: CapacityEstimator;
  t = 0;
  bytes = 0;
  constructor(readonly options: CapacityEstimatorOptions = DEFAULT_CAPACITY) {
    this.estimator = new CapacityEstimator(options);
  }
  /** Runs `seconds` of ticks; `rate(t)` bytes/s are delivered while busy. Returns the estimate at the end. */
  run(seconds: number, busy: boolean, rate: (t: number, tick: number) => number = () => 0): number {
    const tick = this.options.tickMs;
    const ticks = Math.round((seconds * 1000) / tick);
    for (let i = 0; i < ticks; i++) {
      this.t += tick;
      this.bytes += (rate(this.t / 1000, i) * tick) / 1000;
      this.estimator.sample(this.t, this.bytes, busy);
    }
    return this.estimator.capacity;
  }
}

/** Deterministic pseudo-random in [0, 1), seeded. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

describe('capacity estimator', () => {
  it('is unknown (0) before any busy second', () => {
    const trace = new Trace();
    expect(trace.run(30, false)).to.equal(0);
    expect(trace.estimator.measuredAt).to.equal(undefined);
  });

  it('one flow at 10 Mbit/s: right within 2 busy seconds', () => {
    const trace = new Trace();
    expect(trace.run(2, true, () => 10 * MBIT)).to.be.closeTo(10 * MBIT, 0.01 * 10 * MBIT);
  });

  it("many flows: the capacity is what they move together, not one flow's rate", () => {
    const trace = new Trace();
    // Eight flows, each with its own share of a 30 Mbit/s link (unequal shares, as TCP gives).
    const shares = [0.3, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05, 0.05];
    const est = trace.run(3, true, () => shares.reduce((sum, s) => sum + s * 30 * MBIT, 0));
    expect(est).to.be.closeTo(30 * MBIT, 0.01 * 30 * MBIT);
  });

  it('keeps the estimate while the link idles (an hour), and while it only trickles (keep-alives)', () => {
    const trace = new Trace();
    trace.run(5, true, () => 20 * MBIT);
    const before = trace.estimator.capacity;
    const at = trace.estimator.measuredAt;
    trace.run(3600, false);
    expect(trace.estimator.capacity).to.equal(before);
    // Tunnels open, but a few hundred bytes a second: not evidence.
    trace.run(600, true, () => 300);
    expect(trace.estimator.capacity).to.equal(before);
    expect(trace.estimator.measuredAt).to.equal(at);
  });

  it('follows a link whose rate halves within 10 busy seconds (busyWindowMs) plus two rate windows', () => {
    const trace = new Trace();
    trace.run(30, true, () => 20 * MBIT);
    expect(trace.estimator.capacity).to.be.closeTo(20 * MBIT, 0.2 * MBIT);
    // Halved; a long idle pause in the middle of the slower period does not count.
    trace.run(4, true, () => 10 * MBIT);
    expect(trace.estimator.capacity, 'not before most of the window has turned over').to.be.closeTo(20 * MBIT, 0.2 * MBIT);
    trace.run(600, false);
    // After the pause the first window is not busy end to end: one more rate window before evidence.
    trace.run(7 + 2 * (W - 1), true, () => 10 * MBIT);
    expect(trace.estimator.capacity).to.be.closeTo(10 * MBIT, 0.1 * MBIT);
  });

  it('rises at once when the link gets faster', () => {
    const trace = new Trace();
    trace.run(20, true, () => 5 * MBIT);
    // Within one rate window and 2.5 s of busy time (the top quarter of the samples).
    trace.run(W + 2.5, true, () => 25 * MBIT);
    expect(trace.estimator.capacity).to.be.closeTo(25 * MBIT, 0.25 * MBIT);
  });

  it('slow-start ramp: the low first seconds do not hold the estimate down', () => {
    const trace = new Trace();
    // TCP slow start on a 30 Mbit/s link with 100 ms RTT: the rate doubles every RTT from 10 kB/s.
    // The first samples include the ramp; within 5 busy seconds the upper quarter is clean.
    const est = trace.run(5, true, (t) => Math.min(30 * MBIT, 10_000 * 2 ** (t / 0.1)));
    expect(est).to.be.closeTo(30 * MBIT, 0.01 * 30 * MBIT);
  });

  it('bursty samples: jittery delivery and token-bucket bursts stay within 10 % of the true rate', () => {
    const trace = new Trace();
    const random = rng(42);
    // ±20 % per tick around 10 Mbit/s, and every 12 s a burst of 64 kB in one tick (a tbf bucket refilled).
    const est = trace.run(120, true, (t, i) => 10 * MBIT * (0.8 + 0.4 * random()) + (i % 48 === 0 ? (64 * 1024 * 1000) / DEFAULT_CAPACITY.tickMs : 0));
    expect(est).to.be.within(10 * MBIT * 0.95, 10 * MBIT * 1.1);
  });

  it('idle time in the window does not dilute the rate; a busy stretch counts once it lasts 3/4 of a second', () => {
    const trace = new Trace();
    // Idle, then busy at 40 Mbit/s: half a second is too short to say anything.
    trace.run(5, false);
    trace.run(0.5, true, () => 40 * MBIT);
    expect(trace.estimator.capacity).to.equal(0);
    // 0.75 s busy: the rate over the busy stretch only, not diluted by the idle part of the window.
    trace.run(0.25, true, () => 40 * MBIT);
    expect(trace.estimator.capacity).to.be.closeTo(40 * MBIT, 0.4 * MBIT);
  });

  it('a short download (2 MB on 10 Mbit/s, 1.7 s) is evidence, though shorter than the rate window', () => {
    const trace = new Trace();
    trace.run(1.75, true, () => 10 * MBIT);
    trace.run(5, false);
    expect(trace.estimator.capacity).to.be.closeTo(10 * MBIT, 0.1 * MBIT);
  });

  it('a delivery that stalls and then bursts (backpressure downstream) is averaged out by the default window', () => {
    const trace = new Trace();
    // 2.4 Mbit/s link, read in bunches: every 8 s, 1 s of nothing, then that second's bytes in one tick (as measured on the testbed).
    const link = 2.4 * MBIT;
    const tickS = DEFAULT_CAPACITY.tickMs / 1000;
    const est = trace.run(40, true, (t, i) => {
      const phase = (i % 32) * tickS;
      if (phase < 1) return 0;
      return phase < 1 + tickS ? link + link / tickS : link;
    });
    expect(est).to.be.within(link * 0.95, link * 1.12);
  });

  it('other tick and window sizes: a 500 ms tick with a 2 s window', () => {
    const trace = new Trace({ ...DEFAULT_CAPACITY, tickMs: 500, rateWindowMs: 2000, busyWindowMs: 6000 });
    trace.run(3, true, () => 8 * MBIT);
    expect(trace.estimator.capacity).to.be.closeTo(8 * MBIT, 0.08 * MBIT);
    // Follows within percentile × busyWindowMs + rateWindowMs busy seconds.
    trace.run(7.5, true, () => 4 * MBIT);
    expect(trace.estimator.capacity).to.be.closeTo(4 * MBIT, 0.04 * MBIT);
  });
});

describe('effective capacity (what policies see)', () => {
  const o = { freshMs: 600_000, busyShare: 0.2, minAvailableShare: 0.1 };
  const now = 1_000_000;

  it('nothing known: unknown, 0', () => {
    expect(effectiveCapacity({ ourThroughput: 0 }, now, o)).to.deep.equal({ capacity: 0, source: 'unknown' });
  });

  it('a peer: its advertised capacity until we measure it; our fresh measurement wins', () => {
    const advertised = { capacity: 2e6, throughput: 0 };
    expect(effectiveCapacity({ advertised, ourThroughput: 0 }, now, o)).to.deep.equal({ capacity: 2e6, source: 'advertised' });
    // We get less than it advertises (its LAN is the bottleneck): ours counts.
    expect(effectiveCapacity({ advertised, measured: { capacity: 1e6, at: now - 1000 }, ourThroughput: 0 }, now, o)).to.deep.equal({
      capacity: 1e6,
      source: 'measured',
    });
    // Ours is old: the advertisement (current) counts again.
    expect(effectiveCapacity({ advertised, measured: { capacity: 1e6, at: now - 700_000 }, ourThroughput: 0 }, now, o)).to.deep.equal({
      capacity: 2e6,
      source: 'advertised',
    });
    // A peer that does not know its capacity (0): our old measurement is better than nothing.
    expect(
      effectiveCapacity({ advertised: { capacity: 0, throughput: 0 }, measured: { capacity: 1e6, at: now - 700_000 }, ourThroughput: 0 }, now, o).source,
    ).to.equal('measured');
  });

  it('persisted only until something better exists; probe vs measurement: the more recent', () => {
    const persisted = { capacity: 3e6, at: now - 3_600_000 };
    expect(effectiveCapacity({ persisted, ourThroughput: 0 }, now, o)).to.deep.equal({ capacity: 3e6, source: 'persisted' });
    expect(effectiveCapacity({ persisted, advertised: { capacity: 1e6, throughput: 0 }, ourThroughput: 0 }, now, o).source).to.equal('advertised');
    expect(effectiveCapacity({ persisted, measured: { capacity: 2e6, at: now - 700_000 }, ourThroughput: 0 }, now, o).source).to.equal('measured');
    expect(
      effectiveCapacity({ persisted, probe: { capacity: 4e6, at: now - 10 }, measured: { capacity: 2e6, at: now - 20 }, ourThroughput: 0 }, now, o),
    ).to.deep.equal({ capacity: 4e6, source: 'probe' });
    expect(effectiveCapacity({ probe: { capacity: 4e6, at: now - 30 }, measured: { capacity: 2e6, at: now - 20 }, ourThroughput: 0 }, now, o)).to.deep.equal({
      capacity: 2e6,
      source: 'measured',
    });
  });

  it('utilisation: a peer busy with its own users offers only what is left, never less than minAvailableShare', () => {
    const cap = 10e6;
    // Its link carries 6 MB/s, of which our tunnels move 1: others use 5, we can count on 5.
    expect(effectiveCapacity({ advertised: { capacity: cap, throughput: 6e6 }, ourThroughput: 1e6 }, now, o)).to.deep.equal({
      capacity: 5e6,
      source: 'advertised',
    });
    // Others below busyShare (20 %): noise, the full capacity counts.
    expect(effectiveCapacity({ advertised: { capacity: cap, throughput: 2.5e6 }, ourThroughput: 1e6 }, now, o).capacity).to.equal(cap);
    // All of it taken by others: the floor.
    expect(effectiveCapacity({ advertised: { capacity: cap, throughput: 10e6 }, ourThroughput: 0 }, now, o).capacity).to.equal(1e6);
    // Our own measurement is lower than what is left: ours.
    expect(
      effectiveCapacity({ advertised: { capacity: cap, throughput: 6e6 }, measured: { capacity: 3e6, at: now }, ourThroughput: 1e6 }, now, o),
    ).to.deep.equal({ capacity: 3e6, source: 'measured' });
    // Our own traffic is most of it: not busy.
    expect(
      effectiveCapacity({ advertised: { capacity: cap, throughput: 9e6 }, measured: { capacity: 9e6, at: now }, ourThroughput: 9e6 }, now, o).capacity,
    ).to.equal(9e6);
  });
});
