/**
 * One scenario of bench/thesis.ts, end to end with the real CLI: a testbed
 * with a node per device (node 1, the computer, wired to the others), the job
 * file written to disk, `booster speedtest JOB --record REC --json` through
 * the computer's proxy, then `booster plot REC -o OUT.svg`. What each uplink
 * carried is measured at the origin (the address a request came from is a
 * device's uplink), independently of what the CLI reports.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from '../../test/helpers/exec';
import { Testbed } from '../../test/helpers/netns';
import { BoosterCluster, BPORT } from '../../test/testbed/nodes';
import { Origin } from '../../test/testbed/origin';
import type { JobReport } from '../../src/speedtest/report';
import { BIN, sleep } from './rig';
import { freshDataDirs } from './testbed-setups';
import { jobFile, type JobShape, type Scenario } from './thesis-scenarios';

export interface RunSettings {
  readonly shape: JobShape;
  /** The speed test's --parallel (most downloads at once in the parallel job). */
  readonly parallel: number;
  /** The speed test's --repeat: rounds of the job file on the same nodes (later rounds start warm). */
  readonly repeat: number;
  /** Where the job file, the recording and the SVG go. */
  readonly outDir: string;
  /** The network key every node shares; the CLI uses it to reach node 1's endpoint. */
  readonly key: string;
  /** Longest the speed test may take, ms. */
  readonly timeoutMs: number;
}

/** What one device carried during one job. */
export interface DeviceShare {
  readonly role: string;
  /** Tunnels the CLI says the device's node opened (its monitor stream's ProxyUpdates). */
  readonly tunnels: number;
  /** Files and bytes the origin served to the device's uplink. */
  readonly files: number;
  readonly bytes: number;
}

export interface JobOutcome {
  readonly id: string;
  readonly round: number;
  readonly sync: boolean;
  readonly files: number;
  readonly done: number;
  readonly bytes: number;
  readonly wallS: number;
  readonly mbps: number;
  readonly failures: readonly { url: string; reason: string }[];
  readonly perDevice: readonly DeviceShare[];
  /** Tunnels the CLI attributed to no device of the scenario (should be none). */
  readonly otherTunnels: number;
}

export interface ScenarioOutcome {
  readonly id: string;
  readonly title: string;
  readonly devices: readonly { role: string; mbit: number; link: string }[];
  readonly commands: readonly string[];
  readonly jobFile: string;
  readonly recording: string;
  readonly svg: string;
  /** What `booster plot --json` said it drew. */
  readonly plotted: { duration: number; connections: string[]; throughput: string[] };
  /** The speed test command from start to exit, s. */
  readonly cliWallS: number;
  readonly jobs: readonly JobOutcome[];
}

/** The JSON `booster speedtest --json` prints. */
interface SpeedtestJson {
  jobs: JobReport[];
}

/** Runs `bin/run args`; returns stdout, or throws with the command's own words when it printed nothing usable. */
async function cli(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeoutMs });
  if (r.code !== 0 && !r.stdout.trim().startsWith('{')) throw new Error(`booster ${args[0]} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(-2000)}`);
  return r;
}

export async function runScenario(s: Scenario, settings: RunSettings): Promise<ScenarioOutcome> {
  const bed = new Testbed(s.devices.map((d) => d.mbit));
  bed.create();
  const data = freshDataDirs(bed);
  let origin: Origin | undefined;
  let cluster: BoosterCluster | undefined;
  try {
    origin = await Origin.start(bed.originAddress);
    cluster = new BoosterCluster(bed, { dataDirs: data.dirs, key: settings.key });
    await cluster.start();
    // `connect` returns once node 1 has dialled; give the peers' first workload and capacity reports a moment to land.
    if (s.devices.length > 1) await sleep(2000);

    const base = path.join(settings.outDir, s.id);
    const jobPath = `${base}.job.json`;
    const recording = `${base}.jsonl`;
    const svg = `${base}.svg`;
    fs.writeFileSync(jobPath, `${JSON.stringify(jobFile(`http://${origin.host}:${origin.port}`, settings.shape, s.id), null, 2)}\n`);

    const node = `${bed.nodes[0].lanAddress}:${BPORT}`;
    const speedArgs = [
      'speedtest',
      jobPath,
      '--node',
      node,
      '--record',
      recording,
      '--json',
      '--parallel',
      String(settings.parallel),
      '--repeat',
      String(settings.repeat),
    ];
    const started = performance.now();
    const st = await cli(speedArgs, { BOOSTER_KEY: settings.key }, settings.timeoutMs);
    const cliWallS = (performance.now() - started) / 1000;
    fs.writeFileSync(`${base}.speedtest.json`, st.stdout);
    let report: SpeedtestJson;
    try {
      report = JSON.parse(st.stdout) as SpeedtestJson;
    } catch (err) {
      throw new Error(`booster speedtest printed no JSON (${(err as Error).message}): ${st.stderr.slice(-2000)}`);
    }

    const title = `${s.title}: ${s.devices.map((d) => `${d.role} ${d.mbit} Mbit/s`).join(', ')}`;
    const plotArgs = ['plot', recording, '-o', svg, '--json', '--title', title];
    const pl = await cli(plotArgs, {}, 60_000);
    if (pl.code !== 0) throw new Error(`booster plot exited ${pl.code}: ${pl.stderr}`);
    const plotted = JSON.parse(pl.stdout) as ScenarioOutcome['plotted'];

    // Every round asks for the same URLs, one round after the other: a tag's k-th request belongs to round k.
    const seen = new Map<string, number>();
    const served = origin.log().map((x) => {
      const round = (seen.get(x.tag) ?? 0) + 1;
      seen.set(x.tag, round);
      return { ...x, round };
    });
    const jobs = report.jobs.map((j): JobOutcome => {
      const perDevice = bed.nodes.map((n, i) => {
        const mine = served.filter((x) => x.tag.startsWith(`${s.id}-${j.id}-`) && x.round === j.round && bed.nodeByUplink(x.remoteAddress) === n);
        const tunnels = (j.sources ?? []).filter((src) => src.address === `${n.lanAddress}:${BPORT}`).reduce((t, src) => t + src.tunnels, 0);
        return { role: s.devices[i].role, tunnels, files: mine.length, bytes: mine.reduce((b, x) => b + x.bytes, 0) };
      });
      const attributed = perDevice.reduce((t, d) => t + d.tunnels, 0);
      const allTunnels = (j.sources ?? []).reduce((t, src) => t + src.tunnels, 0);
      return {
        id: j.id,
        round: j.round,
        sync: j.sync,
        files: j.files,
        done: j.done,
        bytes: j.bytes,
        wallS: j.wallMs / 1000,
        mbps: j.mbps,
        failures: j.failures,
        perDevice,
        otherTunnels: allTunnels - attributed,
      };
    });
    const shown = (args: string[]) => `BOOSTER_KEY=… booster ${args.join(' ')}`;
    return {
      id: s.id,
      title: s.title,
      devices: s.devices.map((d) => ({ ...d })),
      commands: [shown(speedArgs), shown(plotArgs)],
      jobFile: jobPath,
      recording,
      svg,
      plotted,
      cliWallS,
      jobs,
    };
  } finally {
    await cluster?.stop();
    await origin?.close();
    bed.destroy();
    data.remove();
  }
}
