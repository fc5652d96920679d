/**
 * The original work's evaluation set-ups for bench/thesis.ts: a household
 * computer alone, with a Raspberry Pi, and with a phone, each device a
 * testbed node behind its own shaped uplink; and the job file every scenario
 * runs, in the original format (`[{ "id", "urls", "sync" }]`).
 */
import type { Job } from '../../src/speedtest/job';

/** One device of a scenario: its role (how tables and figures name it) and its uplink. */
export interface Device {
  readonly role: string;
  /** Download rate of its uplink (tbf), Mbit/s. */
  readonly mbit: number;
  /** What the rate stands for, for the report. */
  readonly link: string;
}

export interface Scenario {
  readonly id: 'alone' | 'pi' | 'phone';
  readonly title: string;
  /** Node 1 (the computer, whose proxy the speed test uses) first. */
  readonly devices: readonly Device[];
}

/**
 * Rates mirroring a household: the computer on an ordinary home line
 * (10 Mbit/s, a basic DSL plan), a Raspberry Pi wired to a second line of the
 * same kind, a phone sharing its 4G data (20 Mbit/s, a typical 4G download
 * rate, faster than the home line as it often is).
 */
const COMPUTER: Device = { role: 'computer', mbit: 10, link: 'home line (DSL-like)' };
const PI: Device = { role: 'raspberry-pi', mbit: 10, link: 'second wired line' };
const PHONE: Device = { role: 'phone', mbit: 20, link: '4G' };

export const SCENARIOS: readonly Scenario[] = [
  { id: 'alone', title: 'computer alone', devices: [COMPUTER] },
  { id: 'pi', title: 'computer + Raspberry Pi', devices: [COMPUTER, PI] },
  { id: 'phone', title: 'computer + phone', devices: [COMPUTER, PHONE] },
];

/** The scenarios named by `--scenario a,b` (ids), or all of them; throws on an unknown id. */
export function chooseScenarios(asked: string): Scenario[] {
  if (asked === 'all') return [...SCENARIOS];
  const ids = asked.split(',').filter(Boolean);
  const unknown = ids.filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (ids.length === 0 || unknown.length > 0) throw new Error(`--scenario ${asked}: expected all or a list of ${SCENARIOS.map((s) => s.id).join(', ')}`);
  return SCENARIOS.filter((s) => ids.includes(s.id));
}

export interface JobShape {
  /** Files of the parallel job. */
  readonly parallelFiles: number;
  /** Files of the sync job (downloaded one at a time). */
  readonly syncFiles: number;
  /** Size of every file, bytes. */
  readonly fileBytes: number;
}

/**
 * The job file: a parallel job, then a sync job, every URL a sized file of the
 * testbed origin. Each URL carries a tag (`f=`), unique within the file, so
 * the origin can say which uplink served it.
 */
export function jobFile(originUrl: string, shape: JobShape, tagPrefix: string): Job[] {
  const urls = (job: string, n: number) => Array.from({ length: n }, (_, i) => `${originUrl}/bytes/${shape.fileBytes}?f=${tagPrefix}-${job}-${i + 1}`);
  return [
    { id: 'parallel', urls: urls('parallel', shape.parallelFiles), sync: false },
    { id: 'sync', urls: urls('sync', shape.syncFiles), sync: true },
  ];
}
