import { Command, Flags } from '@oclif/core';
import { BoosterClient, ClientError, DEFAULT_NODE } from '../client/client';
import { parseHostPort } from '../network/errors';
import { isLoopback } from '../security/addresses';
import { Authenticator } from '../security/auth';
import type { NetworkKey } from '../security/key';
import { keyLocationFlags } from './key-flags';
import { findNetworkKey } from './runtime';
import { cliTransport } from './transport';

/** A command that talks to a node's booster endpoint: one clear line and exit 1 on failure. */
export abstract class NodeCommand extends Command {
  static override baseFlags = {
    timeout: Flags.integer({ description: 'how long to wait for the node, in ms', default: 5000, min: 1 }),
    ...keyLocationFlags('network key file, to talk to a node on another machine [default: $BOOSTER_KEY, then DIR/network.key]'),
  };

  /**
   * A node on this machine is talked to in the clear (it trusts its own
   * machine); any other node over TLS, proving we hold the network key.
   */
  protected async openClient(address: string | undefined, timeoutMs: number): Promise<BoosterClient> {
    const target = address ?? DEFAULT_NODE;
    const { host } = parseHostPort(target, 4884);
    if (host === 'localhost' || isLoopback(host)) {
      return BoosterClient.open(await cliTransport(this.config, 'tcp'), target, timeoutMs);
    }
    const key = await this.networkKey();
    if (!key) {
      throw new ClientError(`node ${target} is on another machine: talking to it needs the network key ("booster key show" on one of your nodes, then BOOSTER_KEY=... or --key-file here)`);
    }
    return BoosterClient.open(await cliTransport(this.config, 'tls', key), target, timeoutMs, new Authenticator(key));
  }

  private async networkKey(): Promise<NetworkKey | undefined> {
    const { flags } = await this.parse(this.constructor as typeof NodeCommand);
    const f = flags as { 'key-file'?: string; 'data-dir'?: string };
    return findNetworkKey({ keyFile: f['key-file'], dataDir: f['data-dir'] }, (w) => this.warn(w));
  }

  /** Opens a client to the node, runs `fn`, and always closes the client. */
  protected async withClient<T>(address: string | undefined, timeoutMs: number, fn: (client: BoosterClient) => Promise<T>): Promise<T> {
    const client = await this.openClient(address, timeoutMs);
    try {
      return await fn(client);
    } finally {
      client.close();
    }
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: unknown }): Promise<unknown> {
    if (err.oclif) return super.catch(err);
    this.logToStderr(`booster: ${err.message}`);
    this.exit(1);
  }
}
