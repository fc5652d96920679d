import type { Disposable } from '../api/disposable';
import type { Event } from '../api/event';
import type { PeerEvent } from '../api/events';
import type { Logger } from '../api/logger';
import { formatHostPort, PeerError } from '../network/link/errors';
import type { ConnectResult } from '../network/peers/network';
import { nodeIdOf } from '../network/link/protocol';
import type { DiscoveredNode } from './browser';

/** What auto-connect uses: the browser's view, and the network it wires into. */
export interface AutoConnectComponents {
  readonly nodes: { list(): DiscoveredNode[]; readonly onUp: Event<DiscoveredNode> };
  readonly network: { connect(target: string): Promise<ConnectResult>; get(id: string): unknown };
  readonly onPeerChanged: Event<PeerEvent>;
  readonly log: Logger;
  /** Our own announcement's nonce: the node that has it is this one. */
  readonly selfNonce?: string;
}

export interface AutoConnectOptions {
  /** How often the discovered nodes are looked over (besides on each new one). */
  readonly scanMs?: number;
  /** After a failure that is not about the key (unreachable, timeout), the wait before the next try; doubles, at most maxRetryMs. */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
}

interface Attempts {
  failures: number;
  notBefore: number;
  /** Never again for this announcement (wrong key, a 0.3 node, this node itself). */
  never: boolean;
}

/**
 * Wires every discovered node whose hint says it holds our key; the wiring
 * itself authenticates (TLS-PSK and the challenge-response), so a forged hint
 * gets a failed connect, logged once, and is not tried again until that node
 * announces a new nonce (restarts). One connect at a time. Skipped: this
 * node, nodes already wired (the network reconnects those), and nodes
 * removed from the network during this run (`booster disconnect`, or dropped
 * for breaking a limit): those are wired again only by hand.
 */
export class AutoConnector implements Disposable {
  private readonly attempts = new Map<string, Attempts>();
  private readonly removed = new Set<string>();
  private readonly subscriptions: Disposable[] = [];
  private timer?: NodeJS.Timeout;
  private busy = false;
  private disposed = false;

  constructor(
    private readonly c: AutoConnectComponents,
    private readonly options: AutoConnectOptions = {},
  ) {}

  start(): void {
    this.subscriptions.push(this.c.nodes.onUp(() => this.scan()));
    this.subscriptions.push(
      this.c.onPeerChanged((e) => {
        if (e.change !== 'removed') return;
        this.removed.add(e.nodeId);
        if (this.removed.size > 1024) this.removed.delete(this.removed.values().next().value as string);
      }),
    );
    this.timer = setInterval(() => this.scan(), this.options.scanMs ?? 5_000);
    this.timer.unref();
    this.scan();
  }

  dispose(): void {
    this.disposed = true;
    clearInterval(this.timer);
    this.subscriptions.splice(0).forEach((s) => s.dispose());
  }

  /** Starts the next due connect, if none is under way. */
  private scan(): void {
    if (this.busy || this.disposed) return;
    const nodes = this.c.nodes.list();
    const live = new Set(nodes.map(attemptKey));
    for (const key of this.attempts.keys()) if (!live.has(key)) this.attempts.delete(key);
    const now = Date.now();
    const next = nodes.find((n) => {
      if (n.holdsKey !== true || n.nonce === this.c.selfNonce) return false;
      const id = nodeIdOf(n.address, n.bport, n.pport);
      if (this.c.network.get(id) !== undefined || this.removed.has(id)) return false;
      const a = this.attempts.get(attemptKey(n));
      return !a || (!a.never && a.notBefore <= now);
    });
    if (next) void this.wire(next);
  }

  private async wire(n: DiscoveredNode): Promise<void> {
    this.busy = true;
    const target = formatHostPort(n.address, n.bport);
    const key = attemptKey(n);
    try {
      const { already } = await this.c.network.connect(target);
      if (!already) this.c.log.info(`wired ${target}, found on the LAN (${n.instance})`);
      this.attempts.delete(key);
    } catch (err) {
      const a = this.attempts.get(key) ?? { failures: 0, notBefore: 0, never: false };
      a.failures++;
      const code = err instanceof PeerError ? err.code : undefined;
      const message = err instanceof Error ? err.message : String(err);
      if (code === 'auth' || code === 'legacy' || code === 'self') {
        a.never = true;
        if (code !== 'self') this.c.log.warn(`not wiring ${target} (${n.instance}), found on the LAN: ${message}; not trying it again until it restarts`);
      } else {
        const retry = Math.min((this.options.retryMs ?? 30_000) * 2 ** (a.failures - 1), this.options.maxRetryMs ?? 600_000);
        a.notBefore = Date.now() + retry;
        const say = `cannot wire ${target} (${n.instance}), found on the LAN: ${message}; next try in ${Math.round(retry / 1000)} s`;
        if (a.failures === 1) this.c.log.warn(say);
        else this.c.log.debug(say);
      }
      this.attempts.set(key, a);
    } finally {
      this.busy = false;
    }
    if (!this.disposed) setImmediate(() => this.scan());
  }
}

/** One announcement of one node: a restart brings a new nonce, so a new chance. */
function attemptKey(n: DiscoveredNode): string {
  return `${n.address}|${n.bport}|${n.pport}|${n.nonce}`;
}
