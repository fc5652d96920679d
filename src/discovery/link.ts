import type { RemoteInfo } from 'node:dgram';
import * as net from 'node:net';
import * as os from 'node:os';
import makeMdns from 'multicast-dns';
import type { Disposable } from '../api/disposable';
import { Emitter, type Event } from '../api/event';
import type { Logger } from '../api/logger';

export type MdnsAnswer = makeMdns.ResponseOutgoingPacket['answers'][number];
export type MdnsQuery = makeMdns.QueryPacket;
export type MdnsResponse = makeMdns.ResponsePacket;

/** One local IPv4 address that mDNS runs on (the interface it belongs to, and its subnet). */
export interface LinkAddress {
  readonly interface: string;
  readonly address: string;
  readonly netmask: string;
}

/** A discovery problem a user can act on (cannot open the mDNS port, no interface to use). */
export class DiscoveryError extends Error {
  constructor(
    message: string,
    readonly code: 'no-interface' | 'port' | 'send',
  ) {
    super(message);
    this.name = 'DiscoveryError';
  }
}

/**
 * The addresses mDNS runs on for a node bound to `bind`: none for a loopback
 * address (nothing to announce there), the bound address's interface for a
 * specific address, every non-internal IPv4 address for a wildcard.
 * mDNS here is IPv4 only (224.0.0.251).
 */
export function linkAddresses(bind: string, present: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces()): LinkAddress[] {
  const all = Object.entries(present).flatMap(([name, infos]) =>
    (infos ?? []).filter((i) => i.family === 'IPv4' && !i.internal).map((i) => ({ interface: name, address: i.address, netmask: i.netmask })),
  );
  if (bind === '0.0.0.0' || bind === '::' || bind === '') return all;
  return all.filter((a) => a.address === bind);
}

/** Whether `bind` only reaches this machine. */
export function isLoopbackBind(bind: string): boolean {
  return bind === 'localhost' || bind === '::1' || (net.isIPv4(bind) && bind.startsWith('127.'));
}

/**
 * mDNS on one local address: a multicast-dns socket bound to *:5353 (shared
 * with other responders, SO_REUSEADDR), joined to 224.0.0.251 and sending on
 * this address's interface. Packets from outside the address's subnet are
 * dropped (mDNS is link-local; it also keeps one interface's packets off
 * another's link when a node runs on several).
 */
export class MdnsLink implements Disposable {
  private readonly queries = new Emitter<{ packet: MdnsQuery; from: RemoteInfo }>();
  private readonly responses = new Emitter<{ packet: MdnsResponse; from: RemoteInfo }>();
  readonly onQuery: Event<{ packet: MdnsQuery; from: RemoteInfo }> = this.queries.event;
  readonly onResponse: Event<{ packet: MdnsResponse; from: RemoteInfo }> = this.responses.event;
  private closed = false;
  /** The local subnet (mask and network number), parsed once rather than per packet. */
  private readonly mask: number;
  private readonly subnet: number;

  private constructor(
    readonly local: LinkAddress,
    private readonly mdns: makeMdns.MulticastDNS,
    private readonly log: Logger,
  ) {
    this.mask = ipv4(local.netmask);
    this.subnet = ipv4(local.address) & this.mask;
    mdns.on('query', (packet, from) => {
      if (this.onLink(from.address)) this.queries.fire({ packet, from });
    });
    mdns.on('response', (packet, from) => {
      if (this.onLink(from.address)) this.responses.fire({ packet, from });
    });
  }

  /** Opens the socket; rejects with a DiscoveryError if port 5353 cannot be bound. */
  static open(local: LinkAddress, log: Logger, port = 5353): Promise<MdnsLink> {
    const mdns = makeMdns({ interface: local.address, bind: '0.0.0.0', port, reuseAddr: true });
    // Malformed packets and membership hiccups are the LAN's noise, not our failure.
    mdns.on('warning', (err: Error) => log.debug(`mDNS on ${local.address}: ${err.message}`));
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        mdns.destroy();
        reject(new DiscoveryError(`cannot open mDNS (UDP ${port}) on ${local.interface} ${local.address}: ${err.code ?? err.message}`, 'port'));
      };
      mdns.once('error', onError);
      mdns.once('ready', () => {
        mdns.off('error', onError);
        mdns.on('error', (err: Error) => log.warn(`mDNS on ${local.address}: ${err.message}`));
        resolve(new MdnsLink(local, mdns, log));
      });
    });
  }

  /** Multicasts a response, or sends it to `to` (a legacy unicast querier). */
  respond(packet: { answers: MdnsAnswer[]; additionals?: MdnsAnswer[]; id?: number; questions?: MdnsQuery['questions'] }, to?: RemoteInfo): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      const done = (err: Error | null) => {
        if (err) this.log.debug(`mDNS on ${this.local.address}: cannot send: ${err.message}`);
        resolve();
      };
      if (to) this.mdns.respond(packet, { port: to.port, address: to.address }, done);
      else this.mdns.respond(packet, done);
    });
  }

  query(questions: MdnsQuery['questions']): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      this.mdns.query({ questions }, (err) => {
        if (err) this.log.debug(`mDNS on ${this.local.address}: cannot send a query: ${err.message}`);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.queries.dispose();
    this.responses.dispose();
    return new Promise((resolve) => this.mdns.destroy(() => resolve()));
  }

  dispose(): void {
    void this.close();
  }

  private onLink(address: string): boolean {
    return net.isIPv4(address) && (ipv4(address) & this.mask) === this.subnet;
  }
}

function ipv4(address: string): number {
  return address.split('.').reduce((n, octet) => ((n << 8) | Number(octet)) >>> 0, 0);
}
