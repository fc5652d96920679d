import 'reflect-metadata';
import { injectable } from 'tsyringe';
import type { InboundProtocol, TunnelInfo, WorkloadEntry } from '../api/events';
import { formatTarget, type Target } from '../api/target';
import { EventHub } from '../kernel/events';
import { tunnelId } from '../wire';
import type { TunnelHandle } from '../kernel/connector';
import type { SourceMeter } from './sources';

type MutableTunnel = { -readonly [K in keyof TunnelInfo]: TunnelInfo[K] };

/**
 * Every open tunnel, and the node's workload in the 0.3 sense: open tunnels
 * grouped by target, a target opened twice counting as two copies.
 */
@injectable()
export class TunnelTable {
  private readonly open = new Map<number, MutableTunnel>();
  private readonly cutters = new Map<number, (reason: string) => void>();
  private readonly copies = new Map<string, number>();
  private nextId = 1;

  constructor(private readonly events: EventHub) {}

  get size(): number {
    return this.open.size;
  }

  list(): TunnelInfo[] {
    return [...this.open.values()];
  }

  workload(): WorkloadEntry[] {
    return [...this.copies].map(([target, copies]) => ({ id: tunnelId(target), target, copies }));
  }

  /**
   * Cuts every open tunnel through `sourceId` (a peer declared down) with a
   * TCP reset to its client, so that a truncated download does not look
   * complete. Returns how many were cut.
   */
  resetSource(sourceId: string, reason: string): number {
    let cut = 0;
    for (const [id, info] of [...this.open]) {
      const cutter = this.cutters.get(id);
      if (info.sourceId !== sourceId || !cutter) continue;
      this.cutters.delete(id);
      cutter(reason);
      cut++;
    }
    return cut;
  }

  /** Registers a tunnel that has just been dialed; the handle counts its bytes and ends it. */
  add(target: Target, sourceId: string, protocol: InboundProtocol, client: string, meter?: SourceMeter): TunnelHandle {
    const targetAddress = formatTarget(target);
    const info: MutableTunnel = {
      id: this.nextId++,
      target,
      targetAddress,
      sourceId,
      protocol,
      client,
      openedAt: Date.now(),
      bytesUp: 0,
      bytesDown: 0,
    };
    this.open.set(info.id, info);
    this.copies.set(targetAddress, (this.copies.get(targetAddress) ?? 0) + 1);
    this.events.tunnelOpened.fire(info);
    // Per connection: build the event only for a listener (a monitor, a plugin).
    if (this.events.workloadChanged.hasListeners) this.events.workloadChanged.fire({ total: this.open.size, target: targetAddress, operation: 'added' });

    const sink: SourceMeter = meter ?? { bytesUp: 0, bytesDown: 0 };
    let closed = false;
    return {
      info,
      countUp(bytes: number) {
        info.bytesUp += bytes;
        sink.bytesUp += bytes;
      },
      countDown(bytes: number) {
        info.bytesDown += bytes;
        sink.bytesDown += bytes;
      },
      close: (error?: string) => {
        if (closed) return;
        closed = true;
        this.remove(info, error);
      },
      onAbort: (cut: (reason: string) => void) => {
        if (!closed) this.cutters.set(info.id, cut);
      },
    };
  }

  private remove(info: MutableTunnel, error?: string): void {
    this.open.delete(info.id);
    this.cutters.delete(info.id);
    const left = (this.copies.get(info.targetAddress) ?? 1) - 1;
    if (left > 0) this.copies.set(info.targetAddress, left);
    else this.copies.delete(info.targetAddress);
    this.events.tunnelClosed.fire({ tunnel: info, closedAt: Date.now(), error });
    if (this.events.workloadChanged.hasListeners) this.events.workloadChanged.fire({ total: this.open.size, target: info.targetAddress, operation: 'removed' });
  }
}
