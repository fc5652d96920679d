import type { SourceReport } from '../network/control/source-report';

/** bytes/s → "12.4" (Mbit/s). */
export function mbits(bytesPerSecond: number): string {
  const v = (bytesPerSecond * 8) / 1e6;
  return v === 0 ? '0' : v < 0.01 ? '<0.01' : v < 10 ? v.toFixed(2) : v.toFixed(1);
}

/** Local wall time, HH:MM:SS. */
function wallClock(d: Date): string {
  return d.toTimeString().slice(0, 8);
}

/**
 * A source's state in words: "up", "probing (…)", "ejected until 17:03:12 (…)",
 * "down: heartbeat: no heartbeat for 1500 ms".
 */
export function stateText(s: SourceReport, now = Date.now()): string {
  switch (s.state) {
    case 'ejected':
      return `ejected until ${wallClock(new Date(now + s.ejectedForMs))}${s.reason ? ` (${s.reason})` : ''}`;
    case 'down':
      return `down${s.reason ? `: ${s.reason}` : ''}`;
    case 'probing':
      return `probing${s.reason ? ` (${s.reason})` : ''}`;
    default:
      return 'up';
  }
}

/** "8 connections open: 5 direct, 3 via peer 10.0.0.2:4884" (tunnels this node has open, by where they left from). */
export function connectionSummary(sources: readonly SourceReport[]): string {
  const total = sources.reduce((n, s) => n + s.openTunnels, 0);
  const parts = sources.filter((s) => s.openTunnels > 0).map((s) => `${s.openTunnels} ${s.kind === 'direct' ? 'direct' : `via ${s.label}`}`);
  const dials = sources.reduce((n, s) => n + s.pendingDials, 0);
  const head = `${total} connection${total === 1 ? '' : 's'} open`;
  return `${head}${parts.length ? `: ${parts.join(', ')}` : ''}${dials ? ` (${dials} more being dialed)` : ''}`;
}

function preference(s: SourceReport): string {
  if (s.rank === undefined) return '-';
  return `#${s.rank}${s.note ? ` ${s.note}` : ''}`;
}

/** One table of sources, then each source's state when it is not plainly up. */
export function sourceTable(sources: readonly SourceReport[], now = Date.now()): string[] {
  const header = ['SOURCE', 'KIND', 'STATE', 'TUNNELS', 'DIALS', 'DOWN Mbit/s', 'UP Mbit/s', 'CAPACITY Mbit/s', 'LATENCY', 'FAILURES', 'PREFERENCE'];
  const rows = sources.map((s) => [
    s.label + (s.kind === 'peer' && s.address ? ` (proxy ${s.address})` : ''),
    s.kind,
    s.state,
    String(s.openTunnels),
    String(s.pendingDials),
    mbits(s.throughputDown),
    mbits(s.throughputUp),
    s.capacity > 0 ? `${mbits(s.capacity)} (${s.capacitySource})` : 'unknown',
    s.connectLatencyMs > 0 ? `${s.connectLatencyMs} ms` : '-',
    `${s.recentFailures} recent, ${s.consecutiveFailures} in a row`,
    preference(s),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [line(header)];
  sources.forEach((s, i) => {
    out.push(line(rows[i]));
    if (s.state !== 'up') out.push(`    ${s.label}: ${stateText(s, now)}`);
  });
  return out;
}
