import type { FileSpec } from './job';

/**
 * The best per-connection assignment of a job to links of known rates: each
 * file goes whole over one link, and a link shares its rate equally among the
 * files it carries at the moment (processor sharing, as TCP flows through one
 * bottleneck roughly do). "Best" minimises the makespan: the time from the
 * job's start until its last file is complete, which is what the measured
 * aggregate (bytes × 8 / that time) rewards.
 */
export interface Assignment {
  readonly makespanS: number;
  /** Total bytes × 8 / makespan, Mbit/s. */
  readonly mbps: number;
  /** The link (0-based) of each file, in the job's order. */
  readonly links: readonly number[];
  readonly filesPerLink: readonly number[];
  readonly bytesPerLink: readonly number[];
  /** How it was found: exact enumeration, or which heuristic. */
  readonly method: string;
}

/** Completion times (s) of files sharing one link of `rate` bytes/s, by processor sharing. */
export function sharedLinkFinish(rate: number, files: readonly { bytes: number; atS: number }[]): number[] {
  const order = files.map((_, i) => i).sort((a, b) => files[a].atS - files[b].atS);
  const left = files.map((f) => f.bytes);
  const done = new Array<number>(files.length).fill(NaN);
  const active: number[] = [];
  let t = 0;
  let next = 0;
  while (next < order.length || active.length > 0) {
    const arrival = next < order.length ? files[order[next]].atS : Infinity;
    if (active.length === 0) {
      t = Math.max(t, arrival);
      active.push(order[next++]);
      continue;
    }
    const share = rate / active.length;
    const soonest = Math.min(...active.map((i) => left[i]));
    const completion = t + soonest / share;
    if (completion <= arrival) {
      for (const i of active) left[i] -= soonest;
      t = completion;
      for (let k = active.length - 1; k >= 0; k--) {
        if (left[active[k]] <= 1e-6) {
          done[active[k]] = t;
          active.splice(k, 1);
        }
      }
    } else {
      for (const i of active) left[i] -= (arrival - t) * share;
      t = arrival;
      active.push(order[next++]);
    }
  }
  return done;
}

/** The makespan (s) of an assignment: the last completion over all links. */
export function makespan(ratesBps: readonly number[], files: readonly FileSpec[], links: readonly number[]): number {
  let end = 0;
  ratesBps.forEach((rate, j) => {
    const mine = files.filter((_, i) => links[i] === j).map((f) => ({ bytes: f.bytes, atS: f.atMs / 1000 }));
    if (mine.length > 0) end = Math.max(end, ...sharedLinkFinish(rate, mine));
  });
  return end;
}

/** The best assignment of `files` to links of `ratesMbps` (measured goodputs). */
export function bestAssignment(ratesMbps: readonly number[], files: readonly FileSpec[]): Assignment {
  const rates = ratesMbps.map((r) => (r * 1e6) / 8);
  const allTogether = files.every((f) => f.atMs === 0);
  const found = allTogether ? (exactTogether(rates, files) ?? lpt(rates, files)) : bigExactRestGreedy(rates, files);
  return summarise(rates, files, found.links, found.method);
}

function summarise(rates: readonly number[], files: readonly FileSpec[], links: readonly number[], method: string): Assignment {
  const span = makespan(rates, files, links);
  const total = files.reduce((s, f) => s + f.bytes, 0);
  return {
    makespanS: span,
    mbps: (total * 8) / span / 1e6,
    links,
    filesPerLink: rates.map((_, j) => links.filter((l) => l === j).length),
    bytesPerLink: rates.map((_, j) => files.reduce((s, f, i) => s + (links[i] === j ? f.bytes : 0), 0)),
    method,
  };
}

/**
 * All files start together: a link j ends at (its bytes) / r_j, so only how
 * many files of each size go where matters. Enumerates every split of each
 * group of equal-sized files over the links; undefined when that is too many.
 */
function exactTogether(rates: readonly number[], files: readonly FileSpec[]): { links: number[]; method: string } | undefined {
  const groups = new Map<number, number[]>();
  files.forEach((f, i) => groups.set(f.bytes, [...(groups.get(f.bytes) ?? []), i]));
  const options = [...groups.entries()].map(([bytes, members]) => ({ bytes, members, splits: compositions(members.length, rates.length) }));
  if (options.reduce((n, o) => n * o.splits.length, 1) > 2_000_000) return undefined;
  let best = { span: Infinity, choice: [] as number[][] };
  const walk = (g: number, loads: number[], choice: number[][]) => {
    if (g === options.length) {
      const span = Math.max(...loads.map((l, j) => l / rates[j]));
      if (span < best.span - 1e-12) best = { span, choice: [...choice] };
      return;
    }
    for (const split of options[g].splits)
      walk(
        g + 1,
        loads.map((l, j) => l + split[j] * options[g].bytes),
        [...choice, split],
      );
  };
  walk(
    0,
    rates.map(() => 0),
    [],
  );
  const links = new Array<number>(files.length);
  options.forEach((o, g) => {
    let k = 0;
    best.choice[g].forEach((count, j) => {
      for (let c = 0; c < count; c++) links[o.members[k++]] = j;
    });
  });
  return { links, method: 'exact (every split enumerated)' };
}

/** Every way to write n as an ordered sum of k non-negative parts. */
function compositions(n: number, k: number): number[][] {
  if (k === 1) return [[n]];
  const out: number[][] = [];
  for (let first = n; first >= 0; first--) for (const rest of compositions(n - first, k - 1)) out.push([first, ...rest]);
  return out;
}

/** Longest file first, each to the link where it would end soonest. */
function lpt(rates: readonly number[], files: readonly FileSpec[]): { links: number[]; method: string } {
  const loads = rates.map(() => 0);
  const links = new Array<number>(files.length);
  for (const i of files.map((_, i) => i).sort((a, b) => files[b].bytes - files[a].bytes)) {
    const j = loads.map((l, j) => (l + files[i].bytes) / rates[j]).reduce((b, v, j, a) => (v < a[b] ? j : b), 0);
    loads[j] += files[i].bytes;
    links[i] = j;
  }
  return { links, method: 'longest file first to the soonest-ending link (heuristic)' };
}

/**
 * Files arriving over time: every placement of the large files (each ≥ 10 %
 * of the job's bytes, at most 6) is tried; for each, the other files are
 * placed in arrival order, each on the link that keeps the makespan smallest
 * (then ends it soonest), simulated by processor sharing. An approximation:
 * the small files are placed greedily, not jointly.
 */
function bigExactRestGreedy(rates: readonly number[], files: readonly FileSpec[]): { links: number[]; method: string } {
  const total = files.reduce((s, f) => s + f.bytes, 0);
  const big = files
    .map((_, i) => i)
    .filter((i) => files[i].bytes >= total / 10)
    .sort((a, b) => files[b].bytes - files[a].bytes)
    .slice(0, 6);
  const rest = files
    .map((_, i) => i)
    .filter((i) => !big.includes(i))
    .sort((a, b) => files[a].atMs - files[b].atMs || files[b].bytes - files[a].bytes);
  let best = { span: Infinity, links: [] as number[] };
  const placements = rates.length ** big.length;
  for (let p = 0; p < placements; p++) {
    const links = new Array<number>(files.length).fill(-1);
    big.forEach((i, k) => (links[i] = Math.floor(p / rates.length ** k) % rates.length));
    for (const i of rest) {
      let choice = { span: Infinity, own: Infinity, j: 0 };
      for (let j = 0; j < rates.length; j++) {
        links[i] = j;
        const placed = files.map((_, x) => x).filter((x) => links[x] >= 0);
        const span = makespan(
          rates,
          placed.map((x) => files[x]),
          placed.map((x) => links[x]),
        );
        const mine = placed.filter((x) => links[x] === j);
        const own = sharedLinkFinish(
          rates[j],
          mine.map((x) => ({ bytes: files[x].bytes, atS: files[x].atMs / 1000 })),
        )[mine.indexOf(i)];
        if (span < choice.span - 1e-9 || (Math.abs(span - choice.span) <= 1e-9 && own < choice.own)) choice = { span, own, j };
      }
      links[i] = choice.j;
    }
    const span = makespan(rates, files, links);
    if (span < best.span) best = { span, links };
  }
  return { links: best.links, method: `large files (${big.length}) placed every way, the ${rest.length} others greedily in arrival order (approximation)` };
}
