import type { Duplex } from 'node:stream';
import { classifyAddress, isLoopback, type AddressClass, type AddressSet } from '../security/addresses';

export type { AddressClass };
/** `peer`: a client that proved it holds the network key (SOCKS5 method 0x86, then TLS). */
export type ClientClass = AddressClass | 'peer';

/** Who may use the proxy. */
export interface ProxyAccess {
  classify(remoteAddress: string): AddressClass;
  /** Serve strangers too (they still may not reach this node's own addresses). */
  readonly openProxy: boolean;
  /**
   * Runs the server side of TLS with the network key over a client socket that
   * chose SOCKS5 method 0x86 (NodeSecurity.secureServer). Without it, 0x86 is
   * never chosen.
   */
  readonly secureServer?: (stream: Duplex, signal?: AbortSignal) => Promise<Duplex>;
}

/** What a stranger is told (HTTP 403 body) and what the log says about it. */
export const NOT_ALLOWED = 'this proxy serves local applications and authenticated booster peers only (see --allow-clients / --open-proxy)';

/** The proxy's access when nothing else is configured: applications on this machine only. */
export const LOOPBACK_ONLY: ProxyAccess = { classify: (address) => (isLoopback(address) ? 'local' : 'stranger'), openProxy: false };

/** Classes by address: loopback, then the 0.3 peers' CIDRs, then the LAN clients' CIDRs. */
export function addressClassifier(lists: { readonly legacyPeers: AddressSet; readonly clients: AddressSet }): (address: string) => AddressClass {
  return (address) => classifyAddress(address, lists);
}

/**
 * Whether a client of this class is served without credentials. Peers, 0.3
 * peers and listed LAN clients always are (none of them can carry the user's
 * password); applications on this machine are unless the proxy has
 * credentials set; strangers only on an open proxy without credentials.
 */
export function admittedWithoutCredentials(clientClass: ClientClass, openProxy: boolean, hasCredentials: boolean): boolean {
  switch (clientClass) {
    case 'peer':
    case 'legacy-peer':
    case 'client':
      return true;
    case 'local':
      return !hasCredentials;
    case 'stranger':
      return openProxy && !hasCredentials;
  }
}

/** What a node's security offers the proxy (NodeSecurity). */
export interface ProxySecurity {
  readonly legacyPeers: AddressSet;
  readonly clients: AddressSet;
  secureServer(stream: Duplex, signal?: AbortSignal): Promise<Duplex>;
}

/** A node's proxy access: its address lists and settings.openProxy; booster peers prove the network key with TLS. */
export function nodeProxyAccess(security: ProxySecurity, openProxy: boolean): ProxyAccess {
  return { classify: addressClassifier(security), openProxy, secureServer: (stream, signal) => security.secureServer(stream, signal) };
}
