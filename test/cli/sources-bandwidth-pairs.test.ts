import { expect } from 'chai';
import { BandwidthPairer } from '../../src/cli/bandwidth-pairs';

/** `monitor net` rows: one per node and second, whichever direction a node reports first. */
describe('monitor net: pairing download and upload reports', () => {
  const report = (type: string, bandwidth: number, nodeId = 'n1') => ({ kind: 'bandwidth' as const, nodeId, type, tot: bandwidth * 10, bandwidth });

  it('pairs download then upload (booster order)', () => {
    const p = new BandwidthPairer();
    expect(p.add(report('download', 100))).to.equal(undefined);
    expect(p.add(report('upload', 7))).to.deep.equal({ nodeId: 'n1', down: { tot: 1000, bandwidth: 100 }, up: { tot: 70, bandwidth: 7 } });
  });

  it('pairs upload then download (a 0.3 node) without a spurious ↓ 0 row', () => {
    const p = new BandwidthPairer();
    const rows = [report('upload', 7), report('download', 100), report('upload', 8), report('download', 200)].map((r) => p.add(r)).filter(Boolean);
    expect(rows).to.deep.equal([
      { nodeId: 'n1', down: { tot: 1000, bandwidth: 100 }, up: { tot: 70, bandwidth: 7 } },
      { nodeId: 'n1', down: { tot: 2000, bandwidth: 200 }, up: { tot: 80, bandwidth: 8 } },
    ]);
  });

  it('keeps nodes apart, and a repeated direction replaces the earlier report', () => {
    const p = new BandwidthPairer();
    expect(p.add(report('upload', 1, 'a'))).to.equal(undefined);
    expect(p.add(report('download', 2, 'b'))).to.equal(undefined);
    expect(p.add(report('upload', 3, 'a'))).to.equal(undefined);
    expect(p.add(report('download', 4, 'a'))).to.deep.include({ nodeId: 'a', up: { tot: 30, bandwidth: 3 } });
    expect(p.add(report('upload', 5, 'b'))).to.deep.include({ nodeId: 'b', down: { tot: 20, bandwidth: 2 } });
    expect(p.add(report('sideways', 5, 'b'))).to.equal(undefined);
  });
});
