import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Testbed } from '../helpers/netns';
import { runJob, together } from './job';
import { BoosterCluster } from './nodes';
import type { Origin } from './origin';

/**
 * Measures what each uplink really delivers (tbf goodput is ~95.7 % of the
 * configured rate): every node alone, unwired (its direct link only), with
 * throwaway data directories so nothing it learns reaches the scenario's
 * nodes, downloads 4 files together sized for about `seconds` at the
 * configured rate; all links at once (they are independent). Mbit/s, node 1 first.
 */
export async function measureLinkRates(bed: Testbed, origin: Origin, key: string, seconds = 4): Promise<number[]> {
  const dirs = bed.nodes.map((n) => fs.mkdtempSync(path.join(os.tmpdir(), `bst-calib-${n.index}-`)));
  const cluster = new BoosterCluster(bed, { dataDirs: dirs, key });
  try {
    await cluster.start({ wire: false });
    const jobs = bed.nodes.map((n) => {
      const each = Math.max(64 * 1024, Math.round((n.rateMbit * 1e6 * seconds) / 8 / 4));
      return runJob(cluster.proxyOf(n.index), origin, bed.nodes, together(4, each));
    });
    const results = await Promise.all(jobs);
    results.forEach((r, i) => {
      const failed = r.files.filter((f) => !f.ok);
      if (failed.length > 0) throw new Error(`measuring link ${i + 1}: ${failed.length} download(s) failed: ${failed[0].error}`);
      if (r.filesPerLink[i] !== 4)
        throw new Error(`measuring link ${i + 1}: the downloads went through links ${r.files.map((f) => f.link).join(',')}, not ${i + 1}`);
    });
    return results.map((r) => r.mbps);
  } finally {
    await cluster.stop();
    dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
  }
}
