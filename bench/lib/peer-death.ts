/**
 * Scenario (d) of bench/testbed.ts: a job of downloads arriving steadily
 * while node 2 (a peer) is killed with SIGKILL and, later, started again on
 * the same data directory and ports. For booster, node 1's log tells when it
 * noticed the death ("peer … is down") and when it wired the peer again
 * ("… is back"); every download issued after the death was noticed must
 * succeed, and the job must finish. HAProxy gets the same treatment (its
 * microsocks on node 2 is killed and restarted); it has no such log here.
 */
import { runJob, type FileSpec, type JobResult } from '../../test/testbed/job';
import { BoosterCluster, BPORT } from '../../test/testbed/nodes';
import { HaproxyLeastconn } from './haproxy';
import { freshDataDirs, type Household, type Setup } from './testbed-setups';

export interface DeathOutcome {
  readonly setup: string;
  readonly job: JobResult;
  /** ms after the job started. */
  readonly killedMs: number;
  readonly detectedMs?: number;
  readonly restartedMs: number;
  readonly backMs?: number;
  readonly requests: number;
  readonly ok: number;
  /** Failed downloads issued before the kill (in flight through the victim, most likely). */
  readonly failedBeforeKill: number;
  /** Failed downloads issued after the kill but before it was noticed. */
  readonly failedBeforeDetection: number;
  /** Failed downloads issued after the death was noticed (target: 0). */
  readonly failedAfterDetection: number;
  /** Downloads that hung until the stall timeout. */
  readonly stalled: number;
  /** Successful downloads through node 2's link issued after it was wired again. */
  readonly viaVictimAfterBack: number;
  readonly errors: readonly string[];
}

export async function peerDeath(h: Household, setup: Setup, files: readonly FileSpec[], killAtMs: number, restartAtMs: number): Promise<DeathOutcome> {
  const victimNode = h.bed.nodes[1];
  const data = freshDataDirs(h.bed);
  let cluster: BoosterCluster | undefined;
  let hp: HaproxyLeastconn | undefined;
  const at = { killed: NaN, detected: undefined as number | undefined, restarted: NaN, back: undefined as number | undefined };
  try {
    let proxy: { host: string; port: number };
    let kill: () => Promise<void>;
    let restart: () => Promise<void>;
    if (setup.kind === 'haproxy') {
      const started = new HaproxyLeastconn(h.bed);
      hp = started;
      await started.start();
      proxy = started.proxy;
      kill = () => started.socks[1].kill();
      restart = () => started.socks[1].start();
    } else {
      const started = new BoosterCluster(h.bed, { dataDirs: data.dirs, key: h.key, policy: setup.kind === 'booster' ? setup.policy : undefined });
      cluster = started;
      await started.start();
      proxy = started.proxy;
      const first = started.nodes[0];
      const victim = started.nodes[1];
      const address = `${victimNode.lanAddress}:${BPORT}`.replace(/\./g, '\\.');
      kill = async () => {
        first.onNextLine(new RegExp(`peer ${address} is down`), () => (at.detected ??= performance.now() - t0));
        await victim.kill();
      };
      restart = async () => {
        first.onNextLine(new RegExp(`peer ${address} is back`), () => (at.back ??= performance.now() - t0));
        await victim.start();
      };
    }
    const t0 = performance.now();
    const timers: Promise<void>[] = [];
    const after = (ms: number, fn: () => Promise<void>) =>
      timers.push(new Promise<void>((resolve, reject) => setTimeout(() => void fn().then(resolve, reject), ms)));
    after(killAtMs, async () => {
      at.killed = performance.now() - t0;
      await kill();
    });
    after(restartAtMs, async () => {
      at.restarted = performance.now() - t0;
      await restart();
    });
    const job = await runJob(proxy, h.origin, h.bed.nodes, files);
    await Promise.all(timers);
    const failed = job.files.filter((f) => !f.ok);
    const noticed = at.detected ?? Infinity;
    return {
      setup: setup.label,
      job,
      killedMs: at.killed,
      detectedMs: at.detected,
      restartedMs: at.restarted,
      backMs: at.back,
      requests: job.files.length,
      ok: job.files.length - failed.length,
      failedBeforeKill: failed.filter((f) => f.startMs < at.killed).length,
      failedBeforeDetection: failed.filter((f) => f.startMs >= at.killed && f.startMs < noticed).length,
      failedAfterDetection: failed.filter((f) => f.startMs >= noticed).length,
      stalled: failed.filter((f) => f.error?.startsWith('stalled')).length,
      viaVictimAfterBack: job.files.filter((f) => f.ok && f.link === victimNode.index && f.startMs >= (at.back ?? at.restarted)).length,
      errors: [...new Set(failed.map((f) => f.error ?? '?'))],
    };
  } finally {
    await cluster?.stop();
    await hp?.stop();
    hp?.dispose();
    data.remove();
  }
}
