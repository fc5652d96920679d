/**
 * The original work's figures, end to end with the real CLI (root): "open
 * connections over time" per source for a computer alone, a computer with a
 * Raspberry Pi and a computer with a phone. Each scenario is a namespace
 * testbed (a node per device behind its own shaped uplink, one LAN); the
 * computer's node runs `booster speedtest JOB --record` through its proxy,
 * then `booster plot` draws the recording (bench/lib/thesis-run.ts).
 *
 *   sudo node dist/bench/thesis.js [--scenario all|alone,pi,phone] [--file-mb 2]
 *                                  [--parallel-files 12] [--sync-files 4] [--parallel 8] [--repeat 1]
 */
import 'reflect-metadata';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { netnsUnavailable } from '../test/helpers/netns';
import { fmt, machineLine, numberArg, ROOT, runBench, table } from './lib/rig';
import { runScenario, type ScenarioOutcome } from './lib/thesis-run';
import { chooseScenarios, type JobShape } from './lib/thesis-scenarios';

const argValue = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
};

/** A positive whole number from the command line, or a clear error. */
function count(name: string, def: number, max: number): number {
  const n = numberArg(name, def);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be a whole number from 1 to ${max}`);
  return n;
}

const mb = (bytes: number) => fmt(bytes / 1e6, 1);

/** The Markdown rows of one scenario: a row per job. */
function rows(o: ScenarioOutcome): string[][] {
  const per = (f: (d: ScenarioOutcome['jobs'][number]['perDevice'][number]) => string, j: ScenarioOutcome['jobs'][number]) =>
    j.perDevice.map((d) => `${d.role} ${f(d)}`).join(', ');
  return o.jobs.map((j) => [
    o.title,
    o.devices.map((d) => `${d.role} ${d.mbit}`).join(' + '),
    `${j.id} (${j.files} files)${j.round > 1 || o.jobs.some((x) => x.round > 1) ? `, round ${j.round}` : ''}`,
    fmt(j.wallS, 2),
    fmt(j.mbps, 2),
    per((d) => `${mb(d.bytes)} (${d.files})`, j),
    per((d) => String(d.tunnels), j) + (j.otherTunnels ? `, other ${j.otherTunnels}` : ''),
    j.failures.length ? `${j.failures.length}: ${j.failures[0].reason}` : '0',
    path.relative(ROOT, o.svg),
  ]);
}

async function main(): Promise<boolean> {
  const why = netnsUnavailable();
  if (why) throw new Error(why);
  const scenarios = chooseScenarios(argValue('scenario', 'all'));
  const fileMb = numberArg('file-mb', 2);
  if (!(fileMb > 0 && fileMb <= 1000)) throw new Error('--file-mb must be a number of MB above 0 and at most 1000');
  const shape: JobShape = { parallelFiles: count('parallel-files', 12, 1000), syncFiles: count('sync-files', 4, 1000), fileBytes: Math.round(fileMb * 1e6) };
  const parallel = count('parallel', 8, 256);
  const repeat = count('repeat', 1, 100);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = path.join(ROOT, 'bench', 'results', `thesis-${stamp}`);
  fs.mkdirSync(outDir, { recursive: true });
  // The slowest link alone must fit the whole job in the speed test's time, with room to spare.
  const jobBits = (shape.parallelFiles + shape.syncFiles) * shape.fileBytes * 8;
  const timeoutMs = Math.max(120_000, (4 * jobBits) / (Math.min(...scenarios.flatMap((s) => s.devices.map((d) => d.mbit))) * 1e3));
  const key = crypto.randomBytes(32).toString('hex');

  console.log(`# Thesis figures — ${machineLine()}`);
  console.log(
    `jobs: parallel ${shape.parallelFiles} × ${mb(shape.fileBytes)} MB (speedtest --parallel ${parallel}${repeat > 1 ? ` --repeat ${repeat}` : ''}), then sync ${shape.syncFiles} × ${mb(shape.fileBytes)} MB; fresh nodes per scenario (cold start)\n`,
  );
  const outcomes: ScenarioOutcome[] = [];
  for (const s of scenarios) {
    console.error(`${s.title}: ${s.devices.map((d) => `${d.role} ${d.mbit} Mbit/s (${d.link})`).join(', ')}`);
    const o = await runScenario(s, { shape, parallel, repeat, outDir, key, timeoutMs: timeoutMs * repeat });
    for (const j of o.jobs) console.error(`  ${j.id} round ${j.round}: ${fmt(j.wallS, 2)} s, ${fmt(j.mbps, 2)} Mbit/s, ${j.failures.length} failed`);
    outcomes.push(o);
  }
  console.log(
    table(
      ['scenario', 'uplinks (Mbit/s)', 'job', 'wall s', 'Mbit/s', 'MB (files) per device, at the origin', 'tunnels per node (CLI)¹', 'failed', 'figure'],
      outcomes.flatMap(rows),
    ),
  );
  console.log(
    "\n¹ as `booster speedtest` reports them: the computer's count is every connection its proxy accepted, those it handed to the peer included; the peer's is those it carried.",
  );
  const file = path.join(ROOT, 'bench', 'results', `thesis-${stamp}.json`);
  fs.writeFileSync(file, JSON.stringify({ machine: machineLine(), argv: process.argv.slice(2), shape, parallel, repeat, scenarios: outcomes }, null, 2));
  console.log(`\nresults: ${path.relative(ROOT, file)}\nfigures, job files and recordings: ${path.relative(ROOT, outDir)}/`);
  return outcomes.every((o) => o.jobs.every((j) => j.failures.length === 0));
}

runBench('thesis', main, 30 * 60_000);
