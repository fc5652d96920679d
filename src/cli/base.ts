import { Command, Flags } from '@oclif/core';
import { BoosterClient, ClientError, DEFAULT_NODE } from '../client/client';
import { parseHostPort } from '../network/link/errors';
import { isLoopback } from '../security/addresses';
import { Authenticator } from '../security/auth';
import type { NetworkKey } from '../security/key';
import { keyLocationFlags } from './key-flags';
import { findNetworkKey } from './runtime';
import { cliTransport } from './transport';

/** Exit codes: 1 for a failure, 2 for a command line that cannot be run as given. */
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

/** An error in how the command was called (flags, arguments): exit 2. */
export class UsageError extends Error {
  readonly code = 'usage';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Every booster command: a failure is one line on stderr (`booster: …`) and a
 * non-zero exit; with `--json`, it is `{ "error": { "code", "message" } }` on
 * stdout instead, so a script always gets JSON back.
 */
export abstract class BoosterCommand extends Command {
  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number }; code?: unknown }): Promise<unknown> {
    // oclif's own exits (this.exit(0), --help, --version) pass through.
    if (err.oclif && (err.oclif.exit === 0 || err.code === 'EEXIT')) return super.catch(err);
    const usage = err instanceof UsageError || isParseError(err) || err.oclif?.exit === EXIT_USAGE;
    const message = usage ? usageLine(err.message) : err.message;
    const exit = usage ? EXIT_USAGE : typeof err.oclif?.exit === 'number' && err.oclif.exit > 0 ? err.oclif.exit : EXIT_FAILURE;
    if (this.argv.includes('--json')) {
      const code = usage ? 'usage' : typeof err.code === 'string' ? err.code.toLowerCase() : 'failed';
      process.stdout.write(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
    } else {
      this.logToStderr(`booster: ${message}${usage ? ` (see: booster ${this.id?.replace(/:/g, ' ') ?? ''} --help)` : ''}`);
    }
    this.exit(exit);
  }
}

/** oclif's parser errors (unknown flag, missing argument, bad option), whatever their class. */
function isParseError(err: Error & { oclif?: unknown; parse?: unknown }): boolean {
  return (
    err.parse !== undefined || /Nonexistent flag|Unexpected argument|Missing required|Expected .* to be one of|Parsing --|flag .* expects/i.test(err.message)
  );
}

/** The first meaningful line of a parser message (oclif appends help text to some). */
function usageLine(message: string): string {
  const line =
    message
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? message;
  return line.replace(/^Error:\s*/, '').replace(/\s*See more help with --help$/, '');
}

/**
 * A command that talks to a node's booster endpoint. The node is named the
 * same way everywhere: `-n/--node HOST:PORT`, else `$BOOSTER_NODE`, else
 * localhost:4884. The 0.3 positional form (`status HOST:PORT`) is kept where it
 * is unambiguous, and `-t/--target` stays as an alias of `--node`.
 */
export abstract class NodeCommand extends BoosterCommand {
  static override baseFlags = {
    node: Flags.string({
      char: 'n',
      aliases: ['target'],
      charAliases: ['t'],
      description: "the node's booster endpoint, HOST:PORT [default: $BOOSTER_NODE, then localhost:4884]",
    }),
    timeout: Flags.integer({ description: 'how long to wait for the node, in ms', default: 5000, min: 1 }),
    ...keyLocationFlags('network key file, to talk to a node on another machine [default: $BOOSTER_KEY, then DIR/network.key]'),
  };

  /**
   * The node this command talks to: `--node`, or the 0.3 positional form, or
   * $BOOSTER_NODE, or localhost:4884. Naming it both ways, differently, is a
   * usage error rather than a guess.
   */
  protected nodeAddress(flagValue: string | undefined, positional?: string): string {
    if (flagValue !== undefined && positional !== undefined && flagValue !== positional) {
      throw new UsageError(`the node is named twice: --node ${flagValue} and ${positional}; give one`);
    }
    const env = process.env.BOOSTER_NODE?.trim();
    return flagValue ?? positional ?? (env ? env : DEFAULT_NODE);
  }

  /**
   * A node on this machine is talked to in the clear (it trusts its own
   * machine); any other node over TLS, proving we hold the network key.
   */
  protected async openClient(address: string | undefined, timeoutMs: number): Promise<BoosterClient> {
    const target = address ?? this.nodeAddress(undefined);
    let host: string;
    try {
      ({ host } = parseHostPort(target, 4884));
    } catch (err) {
      throw new UsageError(`bad node address "${target}": ${(err as Error).message}`);
    }
    if (host === 'localhost' || isLoopback(host)) {
      return BoosterClient.open(await cliTransport(this.config, 'tcp'), target, timeoutMs);
    }
    const key = await this.networkKey();
    if (!key) {
      throw new ClientError(
        `node ${target} is on another machine: talking to it needs the network key ("booster key show" on one of your nodes, then BOOSTER_KEY=... or --key-file here)`,
      );
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
}
