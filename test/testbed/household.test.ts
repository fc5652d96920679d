import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Testbed, skipUnlessNetns } from '../helpers/netns';
import { TEST_KEY_TEXT } from '../helpers/key';
import { bestAssignment, type Assignment } from './best-assignment';
import { MB, runJob, together, type FileSpec, type JobResult } from './job';
import { measureLinkRates } from './link-rates';
import { BoosterCluster } from './nodes';
import { Origin } from './origin';

/**
 * Issue 8's scenarios (a) and (b), scaled down (bench/testbed.ts runs them in
 * full): three nodes, each in its own namespace behind its own tbf-shaped
 * uplink, on an unshaped LAN; the client uses node 1 (default policy), which
 * is wired to the two others. Asserts how the files were split over the links
 * (seen by the origin) and the aggregate as a share of the best
 * per-connection assignment computed from the link rates measured here.
 */
/**
 * Jobs of half-megabyte files last a few seconds, and each file pays a
 * connection set-up (through a peer: a TLS handshake and two SOCKS
 * exchanges) that a loaded 2-core machine stretches: they must reach 85 % of
 * the best assignment here, the multi-megabyte jobs 90 %. bench/testbed.ts
 * checks the full-size targets.
 */
const SMALL_SHARE = 0.85;

describe('testbed: a household of three nodes with their own uplinks', function () {
  this.timeout(120_000);
  const KEY = process.env.BOOSTER_KEY ?? TEST_KEY_TEXT;
  let bed: Testbed | undefined;
  let origin: Origin | undefined;
  let cluster: BoosterCluster | undefined;
  const dirs: string[] = [];

  before(async function () {
    skipUnlessNetns(this);
    bed = new Testbed([10, 10, 10]);
    bed.create();
    origin = await Origin.start(bed.originAddress);
  });

  after(async () => {
    await cluster?.stop();
    await origin?.close();
    bed?.destroy();
    dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
  });

  /** Fresh data directories, one per node. */
  const freshDirs = () =>
    bed!.nodes.map((n) => {
      const d = fs.mkdtempSync(path.join(os.tmpdir(), `bst-household-${n.index}-`));
      dirs.push(d);
      return d;
    });

  /** Runs a job through node 1, prints one line about it, and checks every file arrived. */
  async function job(label: string, files: FileSpec[], best: Assignment): Promise<JobResult> {
    const r = await runJob(cluster!.proxy, origin!, bed!.nodes, files);
    const pct = (100 * r.mbps) / best.mbps;
    console.log(
      `      ${label}: ${r.mbps.toFixed(1)} Mbit/s = ${pct.toFixed(0)} % of the best ${best.mbps.toFixed(1)} (${best.filesPerLink.join('/')}); files per link ${r.filesPerLink.join('/')}`,
    );
    const failed = r.files.filter((f) => !f.ok);
    expect(
      failed.map((f) => f.error),
      'every download completes',
    ).to.deep.equal([]);
    return r;
  }

  const share = (r: JobResult, i: number) => r.bytesPerLink[i] / r.bytesPerLink.reduce((s, b) => s + b, 0);

  describe('(a) equal links, 3 × 10 Mbit/s, a cold run then runs on restarted nodes', () => {
    const BIG = together(6, 2 * MB);
    const SMALL = together(20, MB / 2);
    let rates: number[];

    before(async function () {
      if (!bed) this.skip();
      rates = await measureLinkRates(bed, origin!, KEY);
      console.log(`      measured links: ${rates.map((r) => r.toFixed(1)).join(' / ')} Mbit/s`);
      cluster = new BoosterCluster(bed, { dataDirs: freshDirs(), key: KEY });
      await cluster.start();
    });

    after(async () => {
      await cluster?.stop();
      cluster = undefined;
    });

    it("run 1 (cold: nothing measured, nothing saved), 6 × 2 MB: at least node 1's link alone", async () => {
      // Equal and unequal links look the same before anything is measured; the cold start must not lose to one link.
      const best = bestAssignment(rates, BIG);
      const r = await job('(a) run 1 (cold), 6 × 2 MB', BIG, best);
      expect(r.mbps, `aggregate ${r.mbps.toFixed(1)}, single link ${rates[0].toFixed(1)} Mbit/s`).to.be.at.least(0.97 * rates[0]);
    });

    it('run 2 (nodes restarted on the same data directories), 6 × 2 MB: 2 ± 1 files per link, aggregate ≥ 90 % of the best', async () => {
      await cluster!.stop();
      await cluster!.start();
      const best = bestAssignment(rates, BIG);
      const r = await job('(a) run 2, 6 × 2 MB', BIG, best);
      for (const n of r.filesPerLink) expect(n, `files per link ${r.filesPerLink.join('/')}`).to.be.within(1, 3);
      expect(r.mbps / best.mbps, `aggregate ${r.mbps.toFixed(1)} of best ${best.mbps.toFixed(1)} Mbit/s`).to.be.at.least(0.9);
    });

    it('20 × 0.5 MB together: each link a third of the bytes ± 0.1, aggregate ≥ 85 % of the best', async () => {
      const best = bestAssignment(rates, SMALL);
      const r = await job('(a) 20 × 0.5 MB', SMALL, best);
      for (let i = 0; i < 3; i++) expect(share(r, i), `files per link ${r.filesPerLink.join('/')}`).to.be.within(1 / 3 - 0.1, 1 / 3 + 0.1);
      expect(r.mbps / best.mbps, `aggregate ${r.mbps.toFixed(1)} of best ${best.mbps.toFixed(1)} Mbit/s`).to.be.at.least(SMALL_SHARE);
    });
  });

  describe('(b) unequal links, 15 / 5 / 2.5 Mbit/s (30 / 10 / 5 scaled), two runs on freshly started nodes', () => {
    const BIG = together(6, 2 * MB);
    const SMALL = together(20, MB / 2);
    let rates: number[];
    let single: number;

    before(async function () {
      if (!bed) this.skip();
      bed.setRates([15, 5, 2.5]);
      rates = await measureLinkRates(bed, origin!, KEY);
      single = rates[0];
      console.log(`      measured links: ${rates.map((r) => r.toFixed(1)).join(' / ')} Mbit/s (node 1's alone is the single-link figure)`);
      cluster = new BoosterCluster(bed, { dataDirs: freshDirs(), key: KEY });
      await cluster.start();
    });

    after(async () => {
      await cluster?.stop();
      cluster = undefined;
    });

    /** The fastest link carries the most bytes, the slowest the least. */
    const expectOrdered = (r: JobResult) => {
      const [fast, mid, slow] = r.bytesPerLink;
      const what = `bytes per link ${r.bytesPerLink.map((b) => (b / MB).toFixed(1)).join(' / ')} MB`;
      expect(fast, what).to.be.at.least(mid);
      expect(mid, what).to.be.at.least(slow);
      expect(fast, what).to.be.greaterThan(slow);
    };

    it('run 1 (cold), 6 × 2 MB: fastest link most, slowest least; aggregate ≥ 90 % of the best, or ≥ the single link', async () => {
      const best = bestAssignment(rates, BIG);
      const r = await job('(b) run 1, 6 × 2 MB', BIG, best);
      expectOrdered(r);
      expect(r.mbps, `aggregate ${r.mbps.toFixed(1)}, best ${best.mbps.toFixed(1)}, single link ${single.toFixed(1)} Mbit/s`).to.be.at.least(
        Math.min(0.9 * best.mbps, single),
      );
    });

    it('run 1, 20 × 0.5 MB: fastest link most, slowest least; aggregate ≥ 85 % of the best', async () => {
      const best = bestAssignment(rates, SMALL);
      const r = await job('(b) run 1, 20 × 0.5 MB', SMALL, best);
      expectOrdered(r);
      expect(r.mbps / best.mbps, `aggregate ${r.mbps.toFixed(1)} of best ${best.mbps.toFixed(1)} Mbit/s`).to.be.at.least(SMALL_SHARE);
    });

    it('run 2 (nodes restarted on the same data directories), 6 × 2 MB: aggregate ≥ 90 % of the best', async () => {
      await cluster!.stop();
      await cluster!.start();
      const best = bestAssignment(rates, BIG);
      const r = await job('(b) run 2, 6 × 2 MB', BIG, best);
      expectOrdered(r);
      expect(r.mbps / best.mbps, `aggregate ${r.mbps.toFixed(1)} of best ${best.mbps.toFixed(1)} Mbit/s`).to.be.at.least(0.9);
      expect(r.mbps, `aggregate ${r.mbps.toFixed(1)}, single link ${single.toFixed(1)} Mbit/s`).to.be.at.least(single);
    });

    it('run 2, 20 × 0.5 MB: aggregate ≥ 85 % of the best', async () => {
      const best = bestAssignment(rates, SMALL);
      const r = await job('(b) run 2, 20 × 0.5 MB', SMALL, best);
      expectOrdered(r);
      expect(r.mbps / best.mbps, `aggregate ${r.mbps.toFixed(1)} of best ${best.mbps.toFixed(1)} Mbit/s`).to.be.at.least(SMALL_SHARE);
    });
  });
});
