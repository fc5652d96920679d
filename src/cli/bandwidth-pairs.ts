/** One NetworkUsageUpdate as the monitor stream decodes it. */
export interface BandwidthReport {
  readonly nodeId: string;
  readonly type: string;
  readonly tot: number;
  readonly bandwidth: number;
}

export interface BandwidthPair {
  readonly nodeId: string;
  readonly down: { readonly tot: number; readonly bandwidth: number };
  readonly up: { readonly tot: number; readonly bandwidth: number };
}

/**
 * Pairs each node's download and upload reports into one row, whichever comes
 * first (booster sends download then upload; a 0.3 node may send upload
 * first). A report of the same direction again before its partner replaces
 * the earlier one, so no row is ever made of one side and a zero.
 */
export class BandwidthPairer {
  private readonly pending = new Map<string, { down?: BandwidthReport; up?: BandwidthReport }>();

  /** A complete row once both directions of a node are in; undefined until then (or for an unknown type). */
  add(report: BandwidthReport): BandwidthPair | undefined {
    const side = report.type === 'download' ? 'down' : report.type === 'upload' ? 'up' : undefined;
    if (!side) return undefined;
    const slot = this.pending.get(report.nodeId) ?? {};
    slot[side] = report;
    if (!slot.down || !slot.up) {
      this.pending.set(report.nodeId, slot);
      return undefined;
    }
    this.pending.delete(report.nodeId);
    return {
      nodeId: report.nodeId,
      down: { tot: slot.down.tot, bandwidth: slot.down.bandwidth },
      up: { tot: slot.up.tot, bandwidth: slot.up.bandwidth },
    };
  }
}
