/** 1536 → "1.5 KiB". */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function clock(d = new Date()): string {
  return d.toISOString().slice(11, 19);
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Rows of cells as lines, columns two spaces apart, each as wide as its widest cell (no trailing spaces). */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]))
      .join('  ')
      .trimEnd(),
  );
}

/** Under a node whose NodeStatus was cut to fit a packet: what its listed targets leave out. */
export function moreTargetsLine(targets: number, tunnels: number): string {
  return `… and ${targets} more target${targets === 1 ? '' : 's'} (${tunnels} tunnel${tunnels === 1 ? '' : 's'}) not listed: only the busiest fit in one status packet`;
}
