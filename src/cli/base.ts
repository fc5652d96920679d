import { Command, Flags } from '@oclif/core';
import { BoosterClient, DEFAULT_NODE } from '../client/client';
import { cliTransport } from './transport';

/** A command that talks to a node's booster endpoint: one clear line and exit 1 on failure. */
export abstract class NodeCommand extends Command {
  static override baseFlags = {
    timeout: Flags.integer({ description: 'how long to wait for the node, in ms', default: 5000, min: 1 }),
  };

  protected async openClient(address: string | undefined, timeoutMs: number): Promise<BoosterClient> {
    const transport = await cliTransport(this.config);
    return BoosterClient.open(transport, address ?? DEFAULT_NODE, timeoutMs);
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
