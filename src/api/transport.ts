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
}
