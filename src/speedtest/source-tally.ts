import type { WireMessage } from '../network/link/protocol';

/** What one source (a node: this one, or a peer) carried during a job. */
export interface SourceUse {
  readonly id: string;
  /** Its booster endpoint, when the stream named it. */
  readonly address?: string;
  readonly self: boolean;
  /** Tunnels it opened (ProxyUpdate "added"). */
  readonly tunnels: number;
  /**
   * Bytes downloaded through it. The monitor stream reports this node's total
   * only (NetworkUsageUpdate), so peers have none.
   */
  readonly bytes?: number;
}

export interface TallyMark {
  readonly tunnels: ReadonlyMap<string, number>;
  readonly bytes?: number;
}

/**
 * Counts, from a node's monitor streams (node and net), the tunnels each node
 * opened and the bytes this node moved; `mark()` and `since()` cut out one job.
 */
export class SourceTally {
  private selfId?: string;
  private readonly addresses = new Map<string, string>();
  private readonly tunnels = new Map<string, number>();
  private downloadTotal?: number;
  private ticks: (() => void)[] = [];

  observe(m: WireMessage): void {
    if (m.kind === 'node-status') {
      this.selfId ??= m.node.id;
      this.addresses.set(m.node.id, m.node.baddr);
    } else if (m.kind === 'network-update') {
      if (m.node.baddr) this.addresses.set(m.node.id, m.node.baddr);
    } else if (m.kind === 'proxy-update' && m.operation === 'added') {
      this.tunnels.set(m.nodeId, (this.tunnels.get(m.nodeId) ?? 0) + 1);
    } else if (m.kind === 'bandwidth' && m.type === 'download' && (this.selfId === undefined || m.nodeId === this.selfId)) {
      this.downloadTotal = m.tot;
      const waiting = this.ticks;
      this.ticks = [];
      waiting.forEach((w) => w());
    }
  }

  mark(): TallyMark {
    return { tunnels: new Map(this.tunnels), bytes: this.downloadTotal };
  }

  /** Resolves at the next throughput report (they come once a second), or after `timeoutMs`. */
  nextReport(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.ticks.push(done);
    });
  }

  /** Per source since `mark`: this node first, then peers by tunnels carried. */
  since(mark: TallyMark): SourceUse[] {
    const ids = new Set([...(this.selfId ? [this.selfId] : []), ...this.tunnels.keys()]);
    const uses = [...ids].map((id): SourceUse => {
      const self = id === this.selfId;
      const bytes = self && this.downloadTotal !== undefined ? this.downloadTotal - (mark.bytes ?? this.downloadTotal) : undefined;
      return {
        id,
        address: this.addresses.get(id),
        self,
        tunnels: (this.tunnels.get(id) ?? 0) - (mark.tunnels.get(id) ?? 0),
        ...(bytes !== undefined ? { bytes } : {}),
      };
    });
    return uses.filter((u) => u.self || u.tunnels > 0).sort((a, b) => Number(b.self) - Number(a.self) || b.tunnels - a.tunnels);
  }
}
