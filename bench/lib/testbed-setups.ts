/**
 * The ways bench/testbed.ts puts a job through a testbed household: booster
 * with a policy (node 1 wired to the others), HAProxy leastconn in front of
 * microsocks on every node, and node 1's own link alone. Each is started
 * fresh, runs the job `runs` times and is stopped; booster nodes are
 * restarted between runs on the same data directories, which the caller keeps
 * for a whole scenario (a household keeps its state; only its first run is cold).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Testbed } from '../../test/helpers/netns';
import { runJob, type FileSpec, type JobResult } from '../../test/testbed/job';
import { BoosterCluster } from '../../test/testbed/nodes';
import type { Origin } from '../../test/testbed/origin';
import { HaproxyLeastconn } from './haproxy';

export type Setup =
  | { readonly kind: 'booster'; readonly label: string; readonly policy?: string }
  | { readonly kind: 'haproxy'; readonly label: string }
  | { readonly kind: 'single'; readonly label: string };

export interface Household {
  readonly bed: Testbed;
  readonly origin: Origin;
  readonly key: string;
}

/** Fresh data directories, one per node, removed by the returned function. */
export function freshDataDirs(bed: Testbed): { dirs: string[]; remove: () => void } {
  const dirs = bed.nodes.map((n) => fs.mkdtempSync(path.join(os.tmpdir(), `bst-testbed-${n.index}-`)));
  return { dirs, remove: () => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })) };
}

/**
 * Runs `files` `runs` times with `setup`, each run on freshly started processes;
 * the results in order. Booster nodes use `dataDirs` (fresh ones, removed
 * after, when not given).
 */
export async function runSetup(h: Household, setup: Setup, files: readonly FileSpec[], runs: number, dataDirs?: readonly string[]): Promise<JobResult[]> {
  const out: JobResult[] = [];
  if (setup.kind === 'haproxy') {
    const hp = new HaproxyLeastconn(h.bed);
    try {
      for (let r = 0; r < runs; r++) {
        await hp.start();
        try {
          out.push(await runJob(hp.proxy, h.origin, h.bed.nodes, files));
        } finally {
          await hp.stop();
        }
      }
    } finally {
      hp.dispose();
    }
    return out;
  }
  const data = dataDirs ? { dirs: [...dataDirs], remove: () => undefined } : freshDataDirs(h.bed);
  const cluster = new BoosterCluster(h.bed, { dataDirs: data.dirs, key: h.key, policy: setup.kind === 'booster' ? setup.policy : undefined });
  try {
    for (let r = 0; r < runs; r++) {
      // The single link: node 1 unwired, so its direct link is its only source.
      await cluster.start({ wire: setup.kind === 'booster' });
      try {
        out.push(await runJob(cluster.proxy, h.origin, h.bed.nodes, files));
      } finally {
        await cluster.stop();
      }
    }
  } finally {
    data.remove();
  }
  return out;
}
