import type { Duplex } from 'node:stream';
import type { Disposable } from './disposable';

export interface TransportAddress {
  readonly host: string;
  readonly port: number;
}

export interface TransportListener extends Disposable {
  readonly address: TransportAddress;
}

/**
 * Gives the booster link a byte stream. The framing codec runs over any Duplex,
 * so plain TCP and an authenticated, encrypted stream are interchangeable.
 */
export interface Transport {
  readonly id: string;
  connect(address: TransportAddress, signal?: AbortSignal): Promise<Duplex>;
  listen(address: TransportAddress, onConnection: (stream: Duplex, remote: TransportAddress) => void): Promise<TransportListener>;
  /**
   * Optional: secures an established link in place. Booster links start in the
   * clear with the 0.3 Hello (so 0.3 nodes can still talk to us); when both
   * sides speak booster.v1, the client asks for StartTls and both call this on
   * the raw stream. Absent (plain `tcp`): the link stays as it is.
   */
  secure?(stream: Duplex, role: 'client' | 'server', signal?: AbortSignal): Promise<Duplex>;
}
