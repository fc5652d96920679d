import type { RemoteInfo } from 'node:dgram';
import type { Disposable } from '../api/disposable';
import { Emitter, type Event } from '../api/event';
import type { Logger } from '../api/logger';
import type { PresenceHint } from './hint';
import type { MdnsAnswer, MdnsLink, MdnsResponse } from './link';
import { decodeTxt, isPresence, SERVICE_TYPE, type Presence } from './txt';
import { Timers } from './timers';

/** A booster node seen on the LAN. */
export interface DiscoveredNode extends Presence {
  /** `<instance>._booster._tcp.local`: the key of this entry. */
  readonly instance: string;
  /** Its address: the A record it announced for its SRV target, else where the packet came from. */
  readonly address: string;
  /** Whether its hint was made with our network key; undefined when we have no key to check with. */
  readonly holdsKey: boolean | undefined;
  /** The local address it was seen from. */
  readonly via: string;
  /** Date.now() of the last announcement, and how long it is valid (ms). */
  readonly seenAt: number;
  readonly ttlMs: number;
}

export interface BrowserOptions {
  /** Checks announcements' hints; without it, holdsKey is undefined. */
  readonly hint?: PresenceHint;
  /** Nodes kept at once: announcements beyond are ignored (a LAN cannot make us hold more). */
  readonly maxNodes?: number;
  /** When the first queries go out, in ms after start (ascending); then one every queryEveryMs. */
  readonly querySchedule?: readonly number[];
  readonly queryEveryMs?: number;
}

/** An answer that is a resource record (not the EDNS OPT pseudo-record). */
type ResourceRecord = Exclude<MdnsAnswer, { type: 'OPT' }>;

function isRecord(rr: MdnsAnswer): rr is ResourceRecord {
  return rr.type !== 'OPT';
}

const DEFAULT_SCHEDULE = [0, 1_000, 3_000, 9_000, 27_000];
const QUERY_EVERY_MS = 60_000;
const EXPIRY_CHECK_MS = 5_000;

/**
 * Browses `_booster._tcp` on some links: queries at growing intervals (then
 * every minute), takes every answer and unsolicited announcement, and keeps
 * the nodes seen until they say goodbye or their records expire. Bounded:
 * at most maxNodes entries, malformed announcements ignored.
 */
export class Browser implements Disposable {
  private readonly nodes = new Map<string, DiscoveredNode>();
  private readonly up = new Emitter<DiscoveredNode>();
  private readonly down = new Emitter<DiscoveredNode>();
  private readonly subscriptions: Disposable[] = [];
  private readonly timers = new Timers();
  private full = false;
  /** A node appeared, or came back with another address, ports or nonce (a restart). */
  readonly onUp: Event<DiscoveredNode> = this.up.event;
  readonly onDown: Event<DiscoveredNode> = this.down.event;

  constructor(
    private readonly links: readonly MdnsLink[],
    private readonly log: Logger,
    private readonly options: BrowserOptions = {},
  ) {}

  list(): DiscoveredNode[] {
    return [...this.nodes.values()];
  }

  start(): void {
    for (const link of this.links) {
      this.subscriptions.push(link.onResponse(({ packet, from }) => this.take(link, packet, from)));
    }
    const schedule = this.options.querySchedule ?? DEFAULT_SCHEDULE;
    const every = this.options.queryEveryMs ?? QUERY_EVERY_MS;
    const query = (i: number) => {
      this.links.forEach((l) => void l.query([{ name: SERVICE_TYPE, type: 'PTR' }]));
      this.timers.later(i + 1 < schedule.length ? schedule[i + 1] - schedule[i] : every, () => query(i + 1));
    };
    this.timers.later(schedule[0] ?? 0, () => query(0));
    const expire = setInterval(() => this.expire(), EXPIRY_CHECK_MS);
    expire.unref();
    this.subscriptions.push({ dispose: () => clearInterval(expire) });
  }

  dispose(): void {
    this.timers.dispose();
    this.subscriptions.splice(0).forEach((s) => s.dispose());
    this.up.dispose();
    this.down.dispose();
  }

  private take(link: MdnsLink, packet: MdnsResponse, from: RemoteInfo): void {
    const records = [...(packet.answers ?? []), ...(packet.additionals ?? [])].filter(isRecord);
    const type = SERVICE_TYPE.toLowerCase();
    for (const ptr of records) {
      if (ptr.type !== 'PTR' || ptr.name.toLowerCase() !== type || typeof ptr.data !== 'string') continue;
      const instance = ptr.data.toLowerCase();
      if (!instance.endsWith(`.${type}`)) continue;
      if ((ptr.ttl ?? 0) === 0) {
        this.remove(instance, 'said goodbye');
        continue;
      }
      this.add(link, instance, records, from, (ptr.ttl ?? 0) * 1000);
    }
  }

  private add(link: MdnsLink, instance: string, records: readonly ResourceRecord[], from: RemoteInfo, ttlMs: number): void {
    const named = (rr: ResourceRecord, t: string) => rr.type === t && rr.name.toLowerCase() === instance;
    const srv = records.find((rr) => named(rr, 'SRV'));
    const txt = records.find((rr) => named(rr, 'TXT'));
    if (!srv || !txt) return; // booster nodes always send all three; anything else is not one of ours
    const decoded = decodeTxt(Array.isArray(txt.data) ? txt.data : [txt.data as Buffer | string]);
    if (!isPresence(decoded)) {
      this.log.debug(`ignoring ${instance} from ${from.address}: its TXT record is not a booster one (${decoded.error})`);
      return;
    }
    const srvData = srv.data as { target: string; port: number };
    if (srvData.port !== decoded.bport) return;
    const target = String(srvData.target).toLowerCase();
    const a = records.find((rr) => rr.type === 'A' && rr.name.toLowerCase() === target && typeof rr.data === 'string');
    const node: DiscoveredNode = {
      ...decoded,
      instance,
      address: (a?.data as string | undefined) ?? from.address,
      holdsKey: this.options.hint?.holds(decoded),
      via: link.local.address,
      seenAt: Date.now(),
      ttlMs,
    };
    const known = this.nodes.get(instance);
    if (!known && this.nodes.size >= (this.options.maxNodes ?? 256)) {
      if (!this.full) this.log.warn(`discovery: ignoring new nodes beyond ${this.nodes.size} (the LAN announces more booster nodes than a household has)`);
      this.full = true;
      return;
    }
    this.nodes.set(instance, node);
    if (!known || known.address !== node.address || known.bport !== node.bport || known.pport !== node.pport || known.nonce !== node.nonce) this.up.fire(node);
  }

  private remove(instance: string, why: string): void {
    const node = this.nodes.get(instance);
    if (!node) return;
    this.nodes.delete(instance);
    this.full = false;
    this.log.debug(`${instance} (${node.address}) ${why}`);
    this.down.fire(node);
  }

  private expire(): void {
    const now = Date.now();
    for (const node of [...this.nodes.values()]) if (node.seenAt + node.ttlMs < now) this.remove(node.instance, 'expired');
  }
}
