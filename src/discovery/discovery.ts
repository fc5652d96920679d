import 'reflect-metadata';
import * as crypto from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import type { Logger } from '../api/logger';
import type { NodeSettings } from '../api/settings';
import { EventHub } from '../kernel/events';
import { TOKENS } from '../kernel/tokens';
import { Network } from '../network/peers/network';
import { NetworkKey } from '../security/key';
import { NETWORK_KEY } from '../security/tokens';
import { Announcer } from './announcer';
import { AutoConnector } from './auto-connect';
import { Browser, type DiscoveredNode } from './browser';
import { PresenceHint } from './hint';
import { DiscoveryError, isLoopbackBind, linkAddresses, MdnsLink, type LinkAddress } from './link';

/** The node as it announces itself: its id and bound ports. */
export interface SelfAnnouncement {
  readonly id: string;
  readonly bport: number;
  readonly pport: number;
}

/**
 * LAN discovery of one running node (README "Finding nodes on the LAN"):
 * announces it over mDNS/DNS-SD when it listens on a non-loopback address
 * (unless `announce` is off) and, with `autoConnect`, browses and wires the
 * nodes that hold the same key. Never fails the node: a LAN where mDNS
 * cannot run is logged, and the node runs without discovery.
 */
@injectable()
export class NodeDiscovery {
  private links: readonly MdnsLink[] = [];
  private announcer?: Announcer;
  private browser?: Browser;
  private connector?: AutoConnector;
  private readonly log: Logger;

  constructor(
    @inject(TOKENS.Settings) private readonly settings: Pick<NodeSettings, 'bind' | 'discovery'>,
    @inject(NETWORK_KEY) private readonly key: NetworkKey,
    private readonly network: Network,
    private readonly events: EventHub,
    @inject(TOKENS.Logger) logger: Logger,
  ) {
    this.log = logger.child('discovery');
  }

  /** Starts announcing and browsing as the settings say; called once, after the node is bound (`self` holds the bound ports). */
  async start(self: SelfAnnouncement): Promise<void> {
    const log = this.log;
    const { announce, autoConnect } = this.settings.discovery;
    const bind = this.settings.bind;
    const announceOn = announce && !isLoopbackBind(bind) ? linkAddresses(bind) : [];
    if (announce && announceOn.length === 0) {
      log.debug(isLoopbackBind(bind) ? `not announcing: this node listens on ${bind} only` : `not announcing: no IPv4 LAN address to announce ${bind} on`);
    }
    // A node bound to loopback can still wire others (it dials out): it browses on every LAN address.
    const browseOn = autoConnect ? linkAddresses(isLoopbackBind(bind) ? '0.0.0.0' : bind) : [];
    const wanted = uniqueAddresses([...announceOn, ...browseOn]);
    if (wanted.length === 0) return;
    const links = await openLinks(wanted, log);
    this.links = links;
    const on = (list: readonly LinkAddress[]) => links.filter((l) => list.some((a) => a.address === l.local.address));
    const hint = new PresenceHint(this.key);
    const nonce = PresenceHint.nonce();
    const presence = { id: self.id, bport: self.bport, pport: self.pport, nonce };
    this.announcer =
      on(announceOn).length > 0
        ? new Announcer(on(announceOn), { ...presence, hint: hint.sign(presence) }, `booster-${crypto.randomBytes(4).toString('hex')}`, log)
        : undefined;
    this.browser = autoConnect && on(browseOn).length > 0 ? new Browser(on(browseOn), log, { hint }) : undefined;
    this.connector = this.browser
      ? new AutoConnector({ nodes: this.browser, network: this.network, onPeerChanged: this.events.onPeerChanged, log, selfNonce: nonce })
      : undefined;
    this.announcer?.start();
    this.browser?.start();
    this.connector?.start();
    if (autoConnect && !this.browser) log.warn('auto-connect is on, but mDNS could not run on any LAN address: nothing will be found');
  }

  /** Says goodbye, stops browsing and wiring, closes the sockets (bounded: goodbyes are one datagram each). */
  async stop(): Promise<void> {
    this.connector?.dispose();
    this.browser?.dispose();
    await this.announcer?.stop();
    await Promise.all(this.links.map((l) => l.close()));
    this.links = [];
  }
}

/**
 * `booster discover`: browses every IPv4 LAN address for `timeoutMs` and
 * returns the nodes that answered; with `key`, each says whether it holds it.
 */
export async function browseLan(options: { timeoutMs: number; key?: NetworkKey; log: Logger }): Promise<{ nodes: DiscoveredNode[]; on: LinkAddress[] }> {
  const on = linkAddresses('0.0.0.0');
  if (on.length === 0) throw new DiscoveryError('no IPv4 network interface other than loopback: there is no LAN to look on', 'no-interface');
  const links = await openLinks(on, options.log, true);
  const browser = new Browser(links, options.log, { hint: options.key ? new PresenceHint(options.key) : undefined, querySchedule: [0, 1_000, 2_000] });
  try {
    browser.start();
    await new Promise((resolve) => setTimeout(resolve, options.timeoutMs));
    return { nodes: browser.list(), on };
  } finally {
    browser.dispose();
    await Promise.all(links.map((l) => l.close()));
  }
}

/** Opens one link per address; an address that cannot be used is logged and skipped (or, with `strict`, all of them failing throws). */
async function openLinks(addresses: readonly LinkAddress[], log: Logger, strict = false): Promise<MdnsLink[]> {
  const opened = await Promise.allSettled(addresses.map((a) => MdnsLink.open(a, log)));
  const links = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const errors = opened.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (strict && links.length === 0 && errors.length > 0) throw errors[0];
  for (const err of errors) log.warn(`LAN discovery: ${err.message}`);
  return links;
}

function uniqueAddresses(list: readonly LinkAddress[]): LinkAddress[] {
  return list.filter((a, i) => list.findIndex((b) => b.address === a.address) === i);
}
