import { expect } from 'chai';
import * as sinon from 'sinon';
import { HeartbeatKeeper } from '../../src/network/heartbeat';
import { PeerWorkload } from '../../src/network/workload';

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
    let a: HeartbeatKeeper;
    let b: HeartbeatKeeper;
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
    a = new HeartbeatKeeper({ periodMs: 1000, send: deliver(() => b), onSilence: silenceA });
    b = new HeartbeatKeeper({ periodMs: 1000, send: deliver(() => a), onSilence: sinon.spy() });
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

describe('peer workload from ProxyUpdate', () => {
  it('counts copies per target', () => {
    const w = new PeerWorkload();
    w.apply('a:1', 'added');
    w.apply('a:1', 'added');
    w.apply('b:2', 'added');
    w.apply('a:1', 'removed');
    expect(w.total).to.equal(2);
    expect(w.entries()).to.deep.equal([{ target: 'a:1', copies: 1 }, { target: 'b:2', copies: 1 }]);
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
