import 'reflect-metadata';
import type { Duplex } from 'node:stream';
import { inject, injectable } from 'tsyringe';
import type { LinkSecurity } from '../api/security';
import type { NodeSettings } from '../api/settings';
import { TOKENS } from '../kernel/tokens';
import { NETWORK_KEY } from './tokens';
import { AddressSet, classifyAddress, type AddressClass } from './addresses';
import { Authenticator } from './auth';
import { httpToken, tokenMatches } from './http-token';
import type { NetworkKey } from './key';
import { PskTls } from './tls';

/**
 * Everything a running node knows about trust: the network key's subkeys
 * (authentication and TLS), and the address lists that admit 0.3 peers and
 * LAN clients without the key. The key itself stays in NetworkKey.
 */
@injectable()
export class NodeSecurity implements LinkSecurity {
  readonly authenticator: Authenticator;
  readonly tls: PskTls;
  readonly legacyPeers: AddressSet;
  readonly clients: AddressSet;
  readonly fingerprint: string;
  private readonly httpToken: string;

  constructor(
    @inject(NETWORK_KEY) key: NetworkKey,
    @inject(TOKENS.Settings) private readonly settings: NodeSettings,
  ) {
    this.authenticator = new Authenticator(key);
    this.tls = new PskTls(key);
    this.legacyPeers = new AddressSet(settings.allowLegacyPeers);
    this.clients = new AddressSet(settings.allowClients);
    this.fingerprint = key.fingerprint;
    this.httpToken = httpToken(key);
  }

  verifyHttpToken(token: string): boolean {
    return tokenMatches(this.httpToken, token);
  }

  classify(address: string): AddressClass {
    return classifyAddress(address, this);
  }

  secureClient(stream: Duplex, signal?: AbortSignal): Promise<Duplex> {
    return this.tls.client(stream, this.settings.limits.authTimeoutMs, signal);
  }

  secureServer(stream: Duplex, signal?: AbortSignal): Promise<Duplex> {
    return this.tls.server(stream, this.settings.limits.authTimeoutMs, signal);
  }
}
