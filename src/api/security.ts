import type { Duplex } from 'node:stream';

/**
 * What plugins may use of the network key (never the key itself): TLS 1.3
 * with a pre-shared key derived from it. Both sides prove they hold the key,
 * and the stream is encrypted; a side without the key fails the handshake.
 */
export interface LinkSecurity {
  /** Non-secret fingerprint of the network key, for log lines. */
  readonly fingerprint: string;
  /** Secures an established stream that nothing else reads any more, as the TLS client. */
  secureClient(stream: Duplex, signal?: AbortSignal): Promise<Duplex>;
  /** The same, as the TLS server. */
  secureServer(stream: Duplex, signal?: AbortSignal): Promise<Duplex>;
  /**
   * True when `token` is this network's HTTP bearer token (derived from the
   * key; "booster key show --http-token" prints it), compared in constant
   * time. Plugins serving HTTP beyond loopback check requests with it.
   */
  verifyHttpToken(token: string): boolean;
}

/**
 * Checks an address a dialer is about to connect to on behalf of a client:
 * returns why it is forbidden (the client is not on this machine and the
 * address is this node's own, loopback or link-local), or undefined.
 */
export type AddressGuard = (address: string) => string | undefined;
