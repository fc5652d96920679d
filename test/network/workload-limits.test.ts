import { expect } from 'chai';
import { LimitError } from '../../src/kernel/limit-error';
import { PeerWorkload } from '../../src/network/peers/workload';

describe('peer workload limits', () => {
  it('throws a LimitError on a distinct target beyond maxTargets, and changes nothing', () => {
    const w = new PeerWorkload({ maxTargets: 3, maxTargetLength: 255 });
    for (const t of ['a:1', 'b:1', 'c:1']) w.apply(t, 'added');
    w.apply('a:1', 'added'); // another copy of a known target is not a new target
    let err: unknown;
    try {
      w.apply('d:1', 'added');
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(LimitError);
    expect((err as LimitError).code).to.equal('too-many-peer-targets');
    expect((err as LimitError).setting).to.equal('maxPeerTargets');
    expect((err as Error).message).to.match(/more than 3 distinct open targets.*limits\.maxPeerTargets/);
    expect(w.total).to.equal(4);
    expect(w.entries().map((e) => e.target)).to.deep.equal(['a:1', 'b:1', 'c:1']);
  });

  it('has room again once a target is closed', () => {
    const w = new PeerWorkload({ maxTargets: 1, maxTargetLength: 255 });
    w.apply('a:1', 'added');
    w.apply('a:1', 'removed');
    w.apply('b:1', 'added');
    expect(w.entries()).to.deep.equal([{ target: 'b:1', copies: 1 }]);
  });

  it('throws a LimitError on a target longer than maxTargetLength bytes (UTF-8)', () => {
    const w = new PeerWorkload({ maxTargets: 10, maxTargetLength: 10 });
    w.apply('abcdefghij', 'added');
    expect(() => w.apply('é'.repeat(6), 'added')).to.throw(LimitError, /12-byte target, longer than limits\.maxTargetLength \(10 bytes\)/);
    expect(w.total).to.equal(1);
  });

  it('ignores a removal of a target it does not track, however long', () => {
    const w = new PeerWorkload({ maxTargets: 1, maxTargetLength: 10 });
    w.apply('a:1', 'added');
    w.apply('never-announced:1', 'removed');
    w.apply('x'.repeat(100_000), 'removed');
    expect(w.entries()).to.deep.equal([{ target: 'a:1', copies: 1 }]);
    expect(w.total).to.equal(1);
  });

  it('defaults to limits.maxPeerTargets from the default settings', () => {
    const w = new PeerWorkload();
    for (let i = 0; i < 10_000; i++) w.apply(`t${i}.example:443`, 'added');
    expect(() => w.apply('one-more.example:443', 'added')).to.throw(LimitError);
    expect(w.total).to.equal(10_000);
  });
});
