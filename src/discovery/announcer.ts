import type { RemoteInfo } from 'node:dgram';
import type { Disposable } from '../api/disposable';
import type { Logger } from '../api/logger';
import type { MdnsAnswer, MdnsLink, MdnsQuery } from './link';
import { encodeTxt, SERVICE_ENUMERATION, SERVICE_TYPE, type Presence } from './txt';
import { Timers } from './timers';

/** Record TTL (s): a node that vanishes without a goodbye drops out of browsers' lists within this. */
export const RECORD_TTL_S = 120;
/** Unsolicited announcements after start (RFC 6762 §8.3: at least two, a second apart). */
const ANNOUNCE_AT_MS = [0, 1_000, 3_000];
/** At most one multicast answer per link per second (RFC 6762 §6), however many queries arrive. */
const ANSWER_INTERVAL_MS = 1_000;
/** Legacy unicast answers (queries from a port other than 5353), per second over all links. */
const UNICAST_PER_SECOND = 20;

/**
 * Announces one node on its links and answers queries for `_booster._tcp`:
 * PTR, SRV (the endpoint port), TXT (Presence) and one A record, the link's
 * own address, so nothing about the machine's other interfaces is told.
 * The instance and host names are random per run (`booster-<8 hex>`), never
 * the machine's hostname. stop() says goodbye (TTL 0).
 */
export class Announcer implements Disposable {
  private readonly timers = new Timers();
  private readonly subscriptions: Disposable[] = [];
  private readonly lastAnswer = new Map<MdnsLink, number>();
  private readonly pending = new Set<MdnsLink>();
  private unicast = { second: 0, count: 0 };
  private stopped = false;

  constructor(
    private readonly links: readonly MdnsLink[],
    private readonly presence: Presence,
    private readonly instance: string,
    private readonly log: Logger,
  ) {}

  get fqdn(): string {
    return `${this.instance}.${SERVICE_TYPE}`;
  }

  private get host(): string {
    return `${this.instance}.local`;
  }

  start(): void {
    for (const link of this.links) {
      this.subscriptions.push(link.onQuery(({ packet, from }) => this.answer(link, packet, from)));
    }
    for (const at of ANNOUNCE_AT_MS) this.timers.later(at, () => this.links.forEach((l) => this.multicast(l)));
    this.log.info(
      `announcing this node on the LAN as ${this.fqdn} (${this.links.map((l) => `${l.local.interface} ${l.local.address}`).join(', ')}); --no-announce to stop`,
    );
  }

  /** Says goodbye on every link (TTL 0), then stops answering. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.dispose();
    await Promise.all(this.links.map((l) => l.respond({ answers: this.records(l, 0) })));
  }

  dispose(): void {
    this.stopped = true;
    this.timers.dispose();
    this.subscriptions.splice(0).forEach((s) => s.dispose());
  }

  /** PTR, SRV, TXT, A, with `ttl` seconds (0: goodbye). */
  records(link: MdnsLink, ttl = RECORD_TTL_S): MdnsAnswer[] {
    const p = this.presence;
    return [
      { name: SERVICE_TYPE, type: 'PTR', ttl, data: this.fqdn },
      { name: this.fqdn, type: 'SRV', ttl, flush: ttl > 0, data: { target: this.host, port: p.bport, priority: 0, weight: 0 } },
      { name: this.fqdn, type: 'TXT', ttl, flush: ttl > 0, data: encodeTxt(p) },
      { name: this.host, type: 'A', ttl, flush: ttl > 0, data: link.local.address },
    ];
  }

  private answer(link: MdnsLink, query: MdnsQuery, from: RemoteInfo): void {
    if (this.stopped) return;
    const ours = new Set([SERVICE_TYPE, this.fqdn, this.host].map((n) => n.toLowerCase()));
    const questions = query.questions ?? [];
    const asked = questions.some((q) => ours.has(q.name.toLowerCase()));
    const enumerated = questions.some((q) => q.name.toLowerCase() === SERVICE_ENUMERATION && (q.type === 'PTR' || String(q.type) === 'ANY'));
    if (!asked && !enumerated) return;
    const answers = [
      ...(enumerated ? [{ name: SERVICE_ENUMERATION, type: 'PTR' as const, ttl: RECORD_TTL_S, data: SERVICE_TYPE }] : []),
      ...(asked ? this.records(link) : []),
    ];
    if (from.port !== 5353) {
      // A legacy unicast query (RFC 6762 §6.7), e.g. from a one-shot resolver: answered to its port, within a budget.
      const second = Math.floor(Date.now() / 1000);
      if (this.unicast.second !== second) this.unicast = { second, count: 0 };
      if (++this.unicast.count > UNICAST_PER_SECOND) return;
      void link.respond({ id: query.id, questions, answers: answers.map((a) => ({ ...a, ttl: 10, flush: false }) as MdnsAnswer) }, from);
      return;
    }
    this.multicast(link, enumerated && !asked ? answers : undefined);
  }

  /** Multicasts our records on `link` now, or once a second after the last answer there. */
  private multicast(link: MdnsLink, answers?: MdnsAnswer[]): void {
    if (this.stopped || this.pending.has(link)) return;
    const wait = (this.lastAnswer.get(link) ?? 0) + ANSWER_INTERVAL_MS - Date.now();
    if (wait > 0) {
      this.pending.add(link);
      this.timers.later(wait, () => {
        this.pending.delete(link);
        this.multicast(link);
      });
      return;
    }
    this.lastAnswer.set(link, Date.now());
    void link.respond({ answers: answers ?? this.records(link) });
  }
}
