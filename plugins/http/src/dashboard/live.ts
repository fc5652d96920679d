import type { Disposable, Logger, MonitorApi } from 'booster';
import { WebSocket } from 'ws';
import { snapshot } from './snapshot';

/** Events push an update this soon (coalesced), instead of waiting for the next tick. */
const EVENT_PUSH_MS = 50;

/**
 * The WebSocket side: one JSON snapshot per tick and on the events that
 * change what the page shows (source health, peers, policy, sources). Clients
 * are bounded by the server; a client that stops reading is dropped once its
 * backlog passes maxBufferedBytes, so a stalled browser cannot grow the node's memory.
 */
export class LiveUpdates implements Disposable {
  private readonly clients = new Set<WebSocket>();
  private readonly timer: NodeJS.Timeout;
  private soon?: NodeJS.Timeout;
  private readonly subscriptions: Disposable[];

  constructor(
    private readonly api: MonitorApi,
    private readonly log: Logger,
    private readonly limits: { readonly pushMs: number; readonly maxBufferedBytes: number },
  ) {
    this.timer = setInterval(() => this.push(), limits.pushMs);
    this.timer.unref();
    const soon = () => this.pushSoon();
    this.subscriptions = [api.onSourceHealthChanged(soon), api.onSourceChanged(soon), api.onPeerChanged(soon), api.onPolicyChanged(soon)];
  }

  get size(): number {
    return this.clients.size;
  }

  add(ws: WebSocket): void {
    this.clients.add(ws);
    ws.on('close', () => this.clients.delete(ws));
    ws.on('error', () => ws.terminate());
    // The page only listens; anything it sends is ignored (maxPayload bounds it).
    ws.on('message', () => {});
    this.send(ws, JSON.stringify(snapshot(this.api)));
  }

  dispose(): void {
    clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    for (const d of this.subscriptions.splice(0)) d.dispose();
    for (const ws of this.clients) ws.terminate();
    this.clients.clear();
  }

  private pushSoon(): void {
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.push();
    }, EVENT_PUSH_MS);
    this.soon.unref();
  }

  private push(): void {
    if (this.clients.size === 0) return;
    const message = JSON.stringify(snapshot(this.api));
    for (const ws of this.clients) this.send(ws, message);
  }

  private send(ws: WebSocket, message: string): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > this.limits.maxBufferedBytes) {
      this.log.warn(
        `dashboard: dropped a WebSocket client that is not reading (${ws.bufferedAmount} bytes unsent, dashboardMaxBufferedBytes ${this.limits.maxBufferedBytes})`,
      );
      this.clients.delete(ws);
      ws.terminate();
      return;
    }
    ws.send(message);
  }
}
