import * as net from 'node:net';
import * as os from 'node:os';

/**
 * What a remote address alone says about a client: this machine, a 0.3 node
 * admitted by --allow-legacy-peers, a LAN client admitted by --allow-clients,
 * or a stranger (who must prove the network key to get anything).
 */
export type AddressClass = 'local' | 'legacy-peer' | 'client' | 'stranger';

export function classifyAddress(address: string, lists: { readonly legacyPeers: AddressSet; readonly clients: AddressSet }): AddressClass {
  if (isLoopback(address)) return 'local';
  if (lists.legacyPeers.has(address)) return 'legacy-peer';
  if (lists.clients.has(address)) return 'client';
  return 'stranger';
}

/** A set of CIDRs ("192.168.1.0/24", "fd00::/8", "10.0.0.7"), matched with Node's BlockList. */
export class AddressSet {
  private readonly list = new net.BlockList();
  readonly size: number;

  constructor(readonly cidrs: readonly string[]) {
    for (const c of cidrs) {
      const [addr, bits] = c.split('/');
      const family = net.isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(addr, family);
      else this.list.addSubnet(addr, Number(bits), family);
    }
    this.size = cidrs.length;
  }

  has(address: string): boolean {
    if (this.size === 0) return false;
    const a = unmapped(address);
    const family = net.isIP(a);
    if (family === 0) return false;
    return this.list.check(a, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/** "::ffff:10.0.0.1" → "10.0.0.1"; zone ids dropped. */
export function unmapped(address: string): string {
  const a = address.replace(/%.*$/, '');
  return a.toLowerCase().startsWith('::ffff:') && net.isIPv4(a.slice(7)) ? a.slice(7) : a;
}

export function isLoopback(address: string): boolean {
  const a = unmapped(address);
  return net.isIPv4(a) ? a.startsWith('127.') : a === '::1';
}

/** Loopback, link-local, unspecified: never a target for a client that is not on this machine. */
const SPECIAL = new AddressSet(['127.0.0.0/8', '::1/128', '169.254.0.0/16', 'fe80::/10', '0.0.0.0/8', '::/128']);

/**
 * Why `address` must not be dialed on behalf of a client that is not on this
 * machine (loopback, link-local, unspecified, or one of this machine's own
 * addresses), or undefined when it may.
 */
export function forbiddenForRemoteClients(address: string): string | undefined {
  const a = unmapped(address);
  if (SPECIAL.has(a)) return `${a} is a loopback, link-local or unspecified address`;
  if (localAddresses().has(a)) return `${a} is an address of this node`;
  return undefined;
}

let cached: { at: number; set: Set<string> } | undefined;
/** This machine's interface addresses (cached for a few seconds: interfaces change rarely). */
function localAddresses(): Set<string> {
  const now = Date.now();
  if (!cached || now - cached.at > 5000) {
    const set = new Set<string>();
    for (const list of Object.values(os.networkInterfaces())) for (const i of list ?? []) set.add(unmapped(i.address));
    cached = { at: now, set };
  }
  return cached.set;
}
