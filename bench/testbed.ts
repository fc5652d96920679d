/**
 * Issue 8's household scenarios on a namespace testbed (root). Three nodes,
 * each in its own namespace behind its own tbf-shaped uplink, on an unshaped
 * LAN (test/helpers/netns.ts, Testbed); the client (this process) uses node 1,
 * which is wired to the two others. Every job runs with booster's policies,
 * with HAProxy `balance leastconn` in front of microsocks on every node, and
 * through node 1's own link alone; the split over the links is what the
 * origin saw; "% of best" compares with the best per-connection assignment
 * computed from the link rates measured at the start of each scenario.
 *
 *   sudo node dist/bench/testbed.js [--scenario a|b|c|d|all] [--policies all|default,least-busy,...]
 *                                   [--scale 1] [--runs 3] [--no-haproxy]
 */
import 'reflect-metadata';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_SETTINGS } from '../src/core/config';
import { Testbed, netnsUnavailable } from '../test/helpers/netns';
import { bestAssignment, type Assignment } from '../test/testbed/best-assignment';
import { arriving, MB, together, type FileSpec, type JobResult } from '../test/testbed/job';
import { measureLinkRates } from '../test/testbed/link-rates';
import { Origin } from '../test/testbed/origin';
import { haproxyUnavailable } from './lib/haproxy';
import { peerDeath, type DeathOutcome } from './lib/peer-death';
import { fmt, machineLine, percentile, ROOT, runBench, table, Targets } from './lib/rig';
import { freshDataDirs, runSetup, type Household, type Setup } from './lib/testbed-setups';

const argValue = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
};

const SCALE = Number(argValue('scale', '1'));
const RUNS = Number(argValue('runs', '3'));
const size = (bytes: number) => Math.max(1024, Math.round(bytes * SCALE));
const mb = (bytes: number) => `${Number((bytes / MB).toPrecision(3))} MB`;

interface JobDef {
  readonly name: string;
  readonly files: FileSpec[];
}

interface ScenarioDef {
  readonly id: 'a' | 'b' | 'c' | 'd';
  readonly title: string;
  readonly rates: number[];
  readonly runs: number;
  readonly jobs: JobDef[];
}

const bigAndSmall = (): JobDef[] => [
  { name: `6 × ${mb(size(20 * MB))} together`, files: together(6, size(20 * MB)) },
  { name: `20 × ${mb(size(MB))} together`, files: together(20, size(MB)) },
];

const SCENARIOS: ScenarioDef[] = [
  { id: 'a', title: `(a) equal links, 3 × 20 Mbit/s, ${RUNS} consecutive runs on freshly started nodes`, rates: [20, 20, 20], runs: RUNS, jobs: bigAndSmall() },
  {
    id: 'b',
    title: `(b) unequal links, 30 / 10 / 5 Mbit/s, ${RUNS} consecutive runs on freshly started nodes`,
    rates: [30, 10, 5],
    runs: RUNS,
    jobs: bigAndSmall(),
  },
  {
    id: 'c',
    title: '(c) a mixed job on 30 / 10 / 5 Mbit/s',
    rates: [30, 10, 5],
    runs: 1,
    // The arrival window scales with the sizes, so a scaled job keeps its shape.
    jobs: [
      {
        name: `2 × ${mb(size(100 * MB))} + 40 × ${mb(size(MB))} arriving over ${fmt(10 * SCALE)} s`,
        files: [...together(2, size(100 * MB)), ...arriving(40, size(MB), 10_000 * SCALE)],
      },
    ],
  },
  {
    id: 'd',
    title: '(d) a peer (node 2) killed mid-job and brought back, 30 / 10 / 5 Mbit/s',
    rates: [30, 10, 5],
    runs: 1,
    jobs: [{ name: `60 × ${mb(size(MB))} arriving over 24 s; node 2 killed at 8 s, started again at 16 s`, files: arriving(60, size(MB), 24_000) }],
  },
];

/** Every policy a built-in plugin declares (package.json booster.contributes.policies), read without running anything. */
function declaredPolicies(): string[] {
  const dir = path.join(ROOT, 'plugins');
  const ids: string[] = [];
  for (const p of fs.readdirSync(dir)) {
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, p, 'package.json'), 'utf8')) as {
        booster?: { contributes?: { policies?: { id: string }[] } };
      };
      ids.push(...(manifest.booster?.contributes?.policies ?? []).map((x) => x.id));
    } catch {
      // not a plugin folder
    }
  }
  return ids.sort();
}

const NO_HAPROXY = process.argv.includes('--no-haproxy') ? '--no-haproxy' : haproxyUnavailable();

function setups(withSingle: boolean): Setup[] {
  const asked = argValue('policies', 'all').split(',').filter(Boolean);
  const names = asked.includes('all') ? ['default', ...declaredPolicies()] : asked;
  const out: Setup[] = [];
  const seen = new Set<string>();
  for (const n of names) {
    const policy = n === 'default' ? undefined : n;
    const effective = policy ?? DEFAULT_SETTINGS.policy;
    if (seen.has(effective)) continue;
    seen.add(effective);
    out.push({ kind: 'booster', label: policy ? `booster ${policy}` : `booster ${effective} (default)`, policy });
  }
  if (!NO_HAPROXY) out.push({ kind: 'haproxy', label: 'HAProxy leastconn + microsocks' });
  if (withSingle) out.push({ kind: 'single', label: "node 1's link alone" });
  return out;
}

interface RowJson {
  readonly setup: string;
  readonly run: number;
  readonly mbps: number;
  readonly pctOfBest: number;
  readonly seconds: number;
  readonly filesPerLink: number[];
  readonly bytesPerLink: number[];
  readonly failed: number;
  readonly smallP50s?: number;
  readonly smallMaxS?: number;
}

const split = (n: readonly number[]) => n.join(' / ');
const mbSplit = (b: readonly number[]) => b.map((x) => fmt(x / MB, 0)).join(' / ');

/** Completion times (s) of the job's small files, for the mixed job. */
function smallTimes(job: JobDef, r: JobResult): { p50: number; max: number } | undefined {
  const biggest = Math.max(...job.files.map((f) => f.bytes));
  const small = r.files.filter((f) => f.bytes < biggest && f.ok).map((f) => (f.endMs - f.startMs) / 1000);
  if (small.length === 0 || small.length === r.files.length) return undefined;
  return { p50: percentile(small, 50), max: Math.max(...small) };
}

async function throughputScenario(h: Household, s: ScenarioDef, rates: number[], targets: Targets): Promise<unknown> {
  const jobs: unknown[] = [];
  const mixed = s.id === 'c';
  const headers = ['job', 'setup', 'run', 'Mbit/s', '% of best', 'files per link', 'MB per link', 's', 'failed', ...(mixed ? ['small files p50 / max s'] : [])];
  const rows: string[][] = [];
  // Each booster setup keeps its nodes' data directories for the whole scenario, as a household would:
  // only its very first run starts cold (no capacity estimate saved yet).
  const dirs = new Map<string, { dirs: string[]; remove: () => void }>();
  try {
    for (const job of s.jobs) {
      const best = bestAssignment(rates, job.files);
      rows.push([
        job.name,
        `best assignment: ${best.method}`,
        '–',
        fmt(best.mbps),
        '100',
        split(best.filesPerLink),
        mbSplit(best.bytesPerLink),
        fmt(best.makespanS),
        '–',
        ...(mixed ? ['–'] : []),
      ]);
      const results: RowJson[] = [];
      for (const setup of setups(true)) {
        const runs = setup.kind === 'single' ? 1 : s.runs;
        console.error(`  ${s.id}: ${job.name} — ${setup.label}, ${runs} run(s)`);
        if (setup.kind === 'booster' && !dirs.has(setup.label)) dirs.set(setup.label, freshDataDirs(h.bed));
        const done = await runSetup(h, setup, job.files, runs, dirs.get(setup.label)?.dirs);
        done.forEach((r, i) => {
          const small = mixed ? smallTimes(job, r) : undefined;
          const row: RowJson = {
            setup: setup.label,
            run: i + 1,
            mbps: r.mbps,
            pctOfBest: (100 * r.mbps) / best.mbps,
            seconds: r.seconds,
            filesPerLink: r.filesPerLink,
            bytesPerLink: r.bytesPerLink,
            failed: r.files.filter((f) => !f.ok).length,
            ...(small ? { smallP50s: small.p50, smallMaxS: small.max } : {}),
          };
          results.push(row);
          rows.push([
            job.name,
            setup.label,
            String(i + 1),
            fmt(row.mbps),
            fmt(row.pctOfBest, 0),
            split(row.filesPerLink),
            mbSplit(row.bytesPerLink),
            fmt(row.seconds),
            String(row.failed),
            ...(mixed ? [small ? `${fmt(small.p50)} / ${fmt(small.max)}` : '–'] : []),
          ]);
        });
      }
      jobTargets(s, job, best, results, targets, job === s.jobs[0]);
      jobs.push({ name: job.name, files: job.files.length, bytes: job.files.reduce((x, f) => x + f.bytes, 0), best, rows: results });
    }
  } finally {
    dirs.forEach((d) => d.remove());
  }
  console.log(`\n### ${s.title}\n\nlinks configured ${s.rates.join(' / ')} Mbit/s, measured ${rates.map((r) => fmt(r)).join(' / ')} Mbit/s\n`);
  console.log(table(headers, rows));
  return { id: s.id, title: s.title, configuredMbps: s.rates, measuredMbps: rates, jobs };
}

/** The targets for the default policy (its figures are for full-size files: --scale 1). */
function jobTargets(s: ScenarioDef, job: JobDef, best: Assignment, rows: readonly RowJson[], targets: Targets, coldFirst: boolean): void {
  const mine = rows.filter((r) => r.setup.endsWith('(default)'));
  const single = rows.find((r) => r.setup.startsWith("node 1's link"));
  if (mine.length === 0) return;
  const big = job.files.length === 6;
  const runs = (f: (r: RowJson) => string) => mine.map(f).join(', ');
  // The first run of a scenario's first job is the household's cold start (nothing measured, nothing saved):
  // the issue lets it be at least the single link instead. Within 1 %, as for (c): equal must not read as worse.
  const coldOk = (r: RowJson) => coldFirst && r.run === 1 && single !== undefined && r.mbps >= 0.99 * single.mbps;
  const also = coldFirst ? `; run 1 (cold) may instead be ≥ the single link, ${fmt(single?.mbps ?? NaN)}` : '';
  if (s.id === 'a' || s.id === 'b') {
    const want = s.id === 'a' ? (big ? 56 : 53) : big ? 31 : 38;
    const ok = mine.every((r) => r.mbps >= want || coldOk(r));
    targets.check(
      `(${s.id}) ${job.name}, every run ≥ ${want} Mbit/s${coldFirst ? ' (run 1: or ≥ single link)' : ''}`,
      ok,
      `${runs((r) => fmt(r.mbps))} (best ${fmt(best.mbps)}${also})`,
    );
  } else if (s.id === 'c' && single) {
    const r = mine[0];
    // "No worse" within 1 %: two setups that end up equal must not be told apart by noise.
    targets.check(
      `(c) no worse than the single link (within 1 %)`,
      r.mbps >= 0.99 * single.mbps,
      `${fmt(r.mbps)} vs ${fmt(single.mbps)} Mbit/s: gain ${fmt((100 * (r.mbps - single.mbps)) / single.mbps, 0)} %`,
    );
  }
}

async function deathScenario(h: Household, s: ScenarioDef, targets: Targets): Promise<unknown> {
  const job = s.jobs[0];
  const outcomes: DeathOutcome[] = [];
  for (const setup of setups(false)) {
    console.error(`  d: ${setup.label}`);
    outcomes.push(await peerDeath(h, setup, job.files, 8_000, 16_000));
  }
  const ms = (x: number | undefined) => (x === undefined ? '–' : fmt(x, 0));
  console.log(`\n### ${s.title}\n\n${job.name}\n`);
  console.log(
    table(
      [
        'setup',
        'requests',
        'ok',
        'failed: issued before the kill',
        'failed: after the kill, before detection',
        'failed: after detection',
        'detected (ms after kill)',
        'wired again (ms after restart)',
        'via node 2 after that',
        'stalled',
        'job s',
        'errors',
      ],
      outcomes.map((o) => [
        o.setup,
        String(o.requests),
        String(o.ok),
        String(o.failedBeforeKill),
        String(o.failedBeforeDetection),
        o.detectedMs === undefined ? '– (not observed)' : String(o.failedAfterDetection),
        o.detectedMs === undefined ? '–' : ms(o.detectedMs - o.killedMs),
        o.backMs === undefined ? '–' : ms(o.backMs - o.restartedMs),
        String(o.viaVictimAfterBack),
        String(o.stalled),
        fmt(o.job.seconds),
        o.errors.join('; ') || '–',
      ]),
    ),
  );
  const mine = outcomes.find((o) => o.setup.endsWith('(default)'));
  if (mine) {
    targets.check(
      '(d) death noticed',
      mine.detectedMs !== undefined,
      mine.detectedMs === undefined ? 'node 1 never logged the peer down' : `${fmt(mine.detectedMs - mine.killedMs, 0)} ms after the kill`,
    );
    targets.check(
      '(d) every request issued after detection succeeds',
      mine.detectedMs !== undefined && mine.failedAfterDetection === 0,
      `${mine.failedAfterDetection} failed`,
    );
    targets.check('(d) the job finishes', mine.stalled === 0, `${mine.ok}/${mine.requests} ok, ${mine.stalled} stalled, ${fmt(mine.job.seconds)} s`);
  }
  return {
    id: s.id,
    title: s.title,
    job: job.name,
    outcomes: outcomes.map(({ job: j, ...o }) => ({
      ...o,
      seconds: j.seconds,
      files: j.files.map((f) => ({ startMs: f.startMs, endMs: f.endMs, ok: f.ok, link: f.link, error: f.error })),
    })),
  };
}

async function main(): Promise<boolean> {
  const why = netnsUnavailable();
  if (why) throw new Error(why);
  const which = argValue('scenario', 'all');
  const chosen = SCENARIOS.filter((s) => which === 'all' || which.split(',').includes(s.id));
  if (chosen.length === 0) throw new Error(`--scenario ${which}: expected a, b, c, d or all`);
  console.log(`# Testbed — ${machineLine()}`);
  if (NO_HAPROXY) console.log(`HAProxy comparison skipped: ${NO_HAPROXY}`);
  console.log(
    `scale ${SCALE}${SCALE !== 1 ? " (file sizes scaled: the issue's absolute targets are for --scale 1)" : ''}; default policy ${DEFAULT_SETTINGS.policy}`,
  );
  const key = crypto.randomBytes(32).toString('hex');
  const bed = new Testbed(chosen[0].rates);
  bed.create();
  const origin = await Origin.start(bed.originAddress);
  const h: Household = { bed, origin, key };
  const targets = new Targets();
  const results: unknown[] = [];
  const measured = new Map<string, number[]>();
  try {
    for (const s of chosen) {
      bed.setRates(s.rates);
      // Measured once per set of rates, twice, keeping each link's better figure (noise on a shared machine only lowers it).
      const known = measured.get(s.rates.join('/'));
      const rates = known ?? (await measureLinkRates(bed, origin, key, 6));
      if (!known) {
        const again = await measureLinkRates(bed, origin, key, 6);
        rates.forEach((r, i) => (rates[i] = Math.max(r, again[i])));
        measured.set(s.rates.join('/'), rates);
      }
      console.error(`${s.title}: links measured ${rates.map((r) => fmt(r)).join(' / ')} Mbit/s`);
      results.push(
        s.id === 'd' ? { ...((await deathScenario(h, s, targets)) as object), measuredMbps: rates } : await throughputScenario(h, s, rates, targets),
      );
    }
  } finally {
    await origin.close();
    bed.destroy();
  }
  console.log(`\n### Targets (default policy)\n\n${targets.checks.length ? targets.report() : 'none measured'}`);
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `testbed-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        machine: machineLine(),
        argv: process.argv.slice(2),
        scale: SCALE,
        defaultPolicy: DEFAULT_SETTINGS.policy,
        scenarios: results,
        targets: targets.checks,
      },
      null,
      2,
    ),
  );
  console.log(`\nresults: ${path.relative(ROOT, file)}`);
  return targets.ok;
}

runBench('testbed', main, 3 * 3600_000);
