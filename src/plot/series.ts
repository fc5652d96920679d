import type { RecordLine } from '../cli/record';

/** One point of a per-source series; `t` is seconds since the recording began. */
export interface SeriesPoint {
  readonly t: number;
  readonly source: string;
  readonly value: number;
}

export interface PlotSeries {
  /** Open connections (tunnels) per source, a step each time one opens or closes. */
  readonly connections: SeriesPoint[];
  /** Download throughput per source in Mbit/s, once a second. */
  readonly throughput: SeriesPoint[];
  /** Seconds from the header to the last line. */
  readonly duration: number;
}

/**
 * Turns a recorded monitor stream into per-source series. A source is a node
 * (this one or a peer), named by its short id and booster endpoint.
 */
export function seriesOf(start: number, lines: readonly RecordLine[]): PlotSeries {
  const names = new Map<string, string>();
  const open = new Map<string, number>();
  const connections: SeriesPoint[] = [];
  const throughput: SeriesPoint[] = [];
  const name = (id: string) => names.get(id) ?? id.slice(0, 8);
  const at = (t: number) => (t - start) / 1000;
  const setOpen = (t: number, id: string, n: number) => {
    open.set(id, Math.max(0, n));
    connections.push({ t: at(t), source: name(id), value: Math.max(0, n) });
  };
  for (const m of lines) {
    switch (m.kind) {
      case 'node-status':
        names.set(m.node.id, `${m.node.id.slice(0, 8)} ${m.node.baddr}`);
        setOpen(
          m.t,
          m.node.id,
          m.node.tunnels.reduce((s, x) => s + x.copies, 0),
        );
        break;
      case 'network-update':
        if (m.node.baddr && !names.has(m.node.id)) names.set(m.node.id, `${m.node.id.slice(0, 8)} ${m.node.baddr}`);
        if (m.operation === 'removed' && open.has(m.node.id)) setOpen(m.t, m.node.id, 0);
        break;
      case 'proxy-update':
        setOpen(m.t, m.nodeId, (open.get(m.nodeId) ?? 0) + (m.operation === 'added' ? 1 : -1));
        break;
      case 'bandwidth':
        if (m.type === 'download') throughput.push({ t: at(m.t), source: name(m.nodeId), value: (m.bandwidth * 8) / 1e6 });
        break;
      default:
        break;
    }
  }
  // Carry every connection series to the end, so a step line shows its last level.
  const last = lines.length ? at(lines[lines.length - 1].t) : 0;
  for (const [id, n] of open) connections.push({ t: last, source: name(id), value: n });
  return { connections, throughput, duration: last };
}
