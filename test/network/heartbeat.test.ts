import { expect } from 'chai';
import * as sinon from 'sinon';
import { ConfigError, DEFAULT_SETTINGS, resolveSettings } from '../../src/core/config';
import { HeartbeatKeeper, heartbeatTiming, type Beat } from '../../src/network/link/heartbeat';
import { PeerWorkload } from '../../src/network/peers/workload';

/**
 * A 0.3 node's heartbeat as docs/protocol.md describes it, on a clock `skewMs`
 * behind ours (our clock is skewMs ahead): it reads ttl as a time on its own
 * clock, rejects (and closes the link on) a beat whose ttl has passed, answers
 * when its clock reaches ttl with hops + 1 and ttl = its now + T (8 s), and
 * drops the link when no beat comes within 2·T of one it sent.
 */
class Node03 {
  closed?: string;
  readonly hops: number[] = [];
  private deadline?: NodeJS.Timeout;
  private reply?: NodeJS.Timeout;
  peer?: HeartbeatKeeper;

  constructor(
    private readonly skewMs: number,
    private readonly periodMs = 8000,
  ) {}

  private now(): number {
    return Date.now() - this.skewMs;
  }

  /** It wired us: it starts. */
  start(): void {
    this.send(1);
  }

  receive(beat: { hops: number; ttl: number }): void {
    if (this.closed) return;
    this.hops.push(beat.hops);
    clearTimeout(this.deadline);
    const wait = beat.ttl - this.now();
    if (wait < 0) return this.close(`ttl ${-wait} ms in the past`);
    this.reply = setTimeout(() => this.send(beat.hops + 1), wait);
  }

  stop(): void {
    clearTimeout(this.deadline);
    clearTimeout(this.reply);
  }

  private send(hops: number): void {
    if (this.closed) return;
    const now = this.now();
    // 10 ms on the wire; sentAt is its own clock.
    setTimeout(() => this.peer?.receive({ hops, ttl: now + this.periodMs, sentAt: now }), 10);
    this.deadline = setTimeout(() => this.close('no heartbeat within 2·T'), 2 * this.periodMs);
  }

  private close(reason: string): void {
    this.closed = reason;
    this.stop();
  }
}

/** Our keeper and a 0.3 node on skewed clocks, beating for `ms`; who gave up, and how many beats each saw. */
function against03(clock: sinon.SinonFakeTimers, skewMs: number, options: { weStart: boolean; timing: { periodMs: number; deadlineMs: number }; ms?: number }) {
  const node = new Node03(skewMs);
  let silence: string | undefined;
  let ours = 0;
  const keeper = new HeartbeatKeeper({
    ...options.timing,
    send: (b) => setTimeout(() => node.receive(b), 10),
    onSilence: (reason) => (silence = reason),
  });
  const receive = keeper.receive.bind(keeper);
  keeper.receive = (b: Beat) => {
    ours++;
    receive(b);
  };
  node.peer = keeper;
  if (options.weStart) keeper.start();
  else {
    keeper.expect();
    node.start();
  }
  clock.tick(options.ms ?? 120_000);
  keeper.dispose();
  node.stop();
  return { silence, closedBy03: node.closed, beatsAt03: node.hops.length, beatsAtUs: ours };
}

describe('heartbeat keeper', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => clock.restore());

  function keeper(periodMs = 1000) {
    const sent: { hops: number; ttl: number }[] = [];
    const silence = sinon.spy();
    const rejected = sinon.spy();
    const k = new HeartbeatKeeper({ periodMs, send: (b) => sent.push(b), onSilence: silence, onRejected: rejected });
    return { k, sent, silence, rejected };
  }

  it('the wiring side sends hops 1 with ttl = now + T', () => {
    const { k, sent } = keeper();
    k.start();
    expect(sent).to.deep.equal([{ hops: 1, ttl: 1_001_000 }]);
    k.dispose();
  });

  it('answers after the wait the sender asked for, measured on the sender clock (skew-proof)', () => {
    const { k, sent } = keeper();
    // Sender's clock is 1 hour ahead; it asks for a 800 ms wait.
    const skewed = Date.now() + 3_600_000;
    k.receive({ hops: 1, sentAt: skewed, ttl: skewed + 800 });
    clock.tick(799);
    expect(sent).to.have.length(0);
    clock.tick(1);
    expect(sent).to.deep.equal([{ hops: 2, ttl: Date.now() + 1000 }]);
    k.dispose();
  });

  it('rejects a beat whose ttl precedes its own send time, and keeps going', () => {
    const { k, sent, rejected } = keeper();
    k.receive({ hops: 1, sentAt: 5000, ttl: 4000 });
    clock.tick(5000);
    expect(sent).to.have.length(0);
    expect(rejected.calledOnce).to.equal(true);
    k.dispose();
  });

  it('reports silence when the other side does not answer within T + grace', () => {
    const { k, silence } = keeper(1000);
    k.start();
    clock.tick(1499);
    expect(silence.called).to.equal(false);
    clock.tick(1);
    expect(silence.calledOnceWith(sinon.match(/no heartbeat for 1500 ms/))).to.equal(true);
  });

  it('keeps a live exchange going without reporting silence, and notices when one side freezes', () => {
    let frozen = false;
    let beats = 0;
    let silencedAt = 0;
    const silenceA = sinon.spy(() => {
      silencedAt = Date.now();
    });
    const deliver = (to: () => HeartbeatKeeper) => (beat: { hops: number; ttl: number }) => {
      beats++;
      const sentAt = Date.now();
      setTimeout(() => !frozen && to().receive({ ...beat, sentAt }), 10);
    };
    const a: HeartbeatKeeper = new HeartbeatKeeper({ periodMs: 1000, send: deliver(() => b), onSilence: silenceA });
    const b: HeartbeatKeeper = new HeartbeatKeeper({ periodMs: 1000, send: deliver(() => a), onSilence: sinon.spy() });
    a.start();
    clock.tick(30_000);
    expect(silenceA.called).to.equal(false);
    expect(beats).to.be.within(25, 31);
    frozen = true;
    const frozeAt = Date.now();
    clock.tick(5000);
    expect(silenceA.calledOnce).to.equal(true);
    // Worst case: we just received a beat (hold T), send, then wait T + grace.
    expect(silencedAt - frozeAt).to.be.at.most(2 * 1000 + 500 + 20);
    a.dispose();
    b.dispose();
  });

  it('caps the wait a peer may ask for', () => {
    const k = new HeartbeatKeeper({ periodMs: 1000, maxWaitMs: 2000, send: sinon.spy(), onSilence: sinon.spy() });
    const send = (k as unknown as { options: { send: sinon.SinonSpy } }).options.send;
    k.receive({ hops: 3, sentAt: 0, ttl: 3_600_000 });
    clock.tick(2000);
    expect(send.calledOnceWith({ hops: 4, ttl: Date.now() + 1000 })).to.equal(true);
    k.dispose();
  });
});

describe('heartbeats with 0.3 nodes whose clock is skewed against ours', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => clock.restore());

  const legacy = heartbeatTiming(true, DEFAULT_SETTINGS);

  it('asks 0.3 for its own 8 s and gives it twice that to answer; booster.v1 peers keep the fast period', () => {
    expect(legacy).to.deep.equal({ periodMs: 8000, deadlineMs: 16_000 });
    expect(heartbeatTiming(false, DEFAULT_SETTINGS)).to.deep.equal({ periodMs: 1000, deadlineMs: 1500 });
    expect(() => resolveSettings({ legacyHeartbeatMs: 0 })).to.throw(ConfigError, /legacyHeartbeatMs must be a positive number of milliseconds/);
  });

  for (const skewMs of [-5000, -1200, 0, 700, 5000]) {
    for (const weStart of [true, false]) {
      it(`holds the link over many beats with our clock ${skewMs > 0 ? '+' : ''}${skewMs} ms against the 0.3 node (${weStart ? 'we wired it' : 'it wired us'})`, () => {
        const r = against03(clock, skewMs, { weStart, timing: legacy });
        expect(r.silence, 'we gave up on it').to.equal(undefined);
        expect(r.closedBy03, 'it gave up on us').to.equal(undefined);
        // A round is 2·T + skew: 16 s ± 5 s.
        expect(r.beatsAt03).to.be.at.least(5);
        expect(r.beatsAtUs).to.be.at.least(5);
      });
    }
  }

  it('(what went wrong before) the fast booster period drops a 0.3 node 0.7 s behind us, and is refused by one 1.2 s ahead', () => {
    const fast = heartbeatTiming(false, DEFAULT_SETTINGS);
    expect(against03(clock, 700, { weStart: true, timing: fast, ms: 10_000 }).silence).to.match(/no heartbeat for 1500 ms/);
    expect(against03(clock, -1200, { weStart: true, timing: fast, ms: 10_000 }).closedBy03).to.match(/ttl 2\d\d ms in the past/);
  });

  it('a booster.v1 peer is read by duration: 5 s of skew holds, and a frozen one is noticed in under 3 s', () => {
    const timing = heartbeatTiming(false, DEFAULT_SETTINGS);
    let frozen = false;
    const silenced: number[] = [];
    const link = (to: () => HeartbeatKeeper, skewMs: number) => (beat: { hops: number; ttl: number }) => {
      // The sender's clock is skewMs off ours: both its ttl and its sentAt.
      const b = { hops: beat.hops, ttl: beat.ttl + skewMs, sentAt: Date.now() + skewMs };
      setTimeout(() => !frozen && to().receive(b), 10);
    };
    const us: HeartbeatKeeper = new HeartbeatKeeper({ ...timing, send: link(() => them, 0), onSilence: () => silenced.push(Date.now()) });
    const them: HeartbeatKeeper = new HeartbeatKeeper({ ...timing, send: link(() => us, 5000), onSilence: sinon.spy() });
    us.start();
    clock.tick(20_000);
    expect(silenced).to.deep.equal([]);
    frozen = true;
    const frozeAt = Date.now();
    clock.tick(5000);
    expect(silenced).to.have.length(1);
    expect(silenced[0] - frozeAt).to.be.below(3000);
    us.dispose();
    them.dispose();
  });
});

describe('peer workload from ProxyUpdate', () => {
  it('counts copies per target', () => {
    const w = new PeerWorkload();
    w.apply('a:1', 'added');
    w.apply('a:1', 'added');
    w.apply('b:2', 'added');
    w.apply('a:1', 'removed');
    expect(w.total).to.equal(2);
    expect(w.entries()).to.deep.equal([
      { target: 'a:1', copies: 1 },
      { target: 'b:2', copies: 1 },
    ]);
  });

  it('ignores removals of tunnels it never saw (no negative or phantom load)', () => {
    const w = new PeerWorkload();
    w.apply('x:1', 'removed');
    expect(w.total).to.equal(0);
    w.apply('x:1', 'added');
    w.reset();
    w.apply('x:1', 'removed');
    expect(w.total).to.equal(0);
  });
});
