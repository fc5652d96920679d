import { alignColumns, bytes, shortId } from '../cli/format';
import type { JobRun } from './runner';
import type { SourceUse } from './source-tally';

/** A job run with what each source carried (absent with --direct). */
export interface JobReport extends JobRun {
  readonly sources?: readonly SourceUse[];
}

/** The human table for one job run. */
export function renderJob(r: JobReport, rounds: number): string {
  const title = `job ${r.id} (${r.sync ? 'sync' : 'parallel'}${rounds > 1 ? `, round ${r.round} of ${rounds}` : ''})`;
  const rows: [string, string][] = [
    ['files', `${r.done}/${r.files} done${r.failures.length ? `, ${r.failures.length} failed` : ''}`],
    ['bytes', `${bytes(r.bytes)} (${r.bytes})`],
    ['wall time', `${(r.wallMs / 1000).toFixed(2)} s`],
    ['throughput', `${r.mbps.toFixed(2)} Mbit/s`],
  ];
  const lines = [title, ...rows.map(([k, v]) => `  ${k.padEnd(11)}${v}`)];
  for (const f of r.failures) lines.push(`  failed     ${f.url}: ${f.reason}`);
  if (r.sources) {
    lines.push('  sources');
    const table = alignColumns([
      ['node', 'endpoint', 'tunnels', 'bytes'],
      ...r.sources.map((s) => [
        `${shortId(s.id)}${s.self ? ' (this node)' : ''}`,
        s.address ?? '-',
        String(s.tunnels),
        s.bytes === undefined ? '-' : bytes(s.bytes),
      ]),
    ]);
    for (const row of table) lines.push(`    ${row}`);
  }
  return lines.join('\n');
}
