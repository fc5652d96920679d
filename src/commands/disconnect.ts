import { Args } from '@oclif/core';
import { NodeCommand, UsageError } from '../cli/base';
import { ownIdOf } from '../cli/peer-ids';
import { transientFlag } from '../cli/transient-flag';
import type { BoosterClient } from '../client/client';
import { ClientError } from '../client/client';
import { parseHostPort } from '../network/link/errors';
import type { NodeStatusView } from '../network/link/protocol';

const NODE_ID = /^[0-9a-f]{40}$/i;

export default class Disconnect extends NodeCommand {
  static override description = `Tell a node (--node, default $BOOSTER_NODE or localhost:4884) to drop one of its peers (no reconnection)

PEER is the peer's id as the node knows it, the id the peer gives itself, its booster address (HOST:PORT) as "booster status" lists it, or the name it was given (connect --name).
The node also forgets a peer it saved in its state file, unless --transient (a peer from the config file comes back at the next start).`;
  static override examples = [
    '<%= config.bin %> disconnect bb920fad7e153358a9459f57993bfef2090b6ca7',
    '<%= config.bin %> disconnect 192.168.1.20:4884',
    '<%= config.bin %> disconnect phone --transient',
    '<%= config.bin %> disconnect -n 192.168.1.10:4884 192.168.1.20:4884',
  ];
  static override enableJsonFlag = true;
  static override args = {
    first: Args.string({ description: 'PEER; or, in the 0.3 form "disconnect NODE PEER", the node', required: true }),
    second: Args.string({ description: 'PEER, when the first argument is the node' }),
  };
  static override flags = { ...transientFlag };

  async run(): Promise<{ node?: NodeStatusView; message?: string }> {
    const { args, flags } = await this.parse(Disconnect);
    const [x, peer] = args.second === undefined ? [undefined, args.first] : [args.first, args.second];
    const node = this.nodeAddress(flags.node, x);
    // A name (no ":", not an id) is the node's to resolve; a status exchange ends its link, so an id or address is looked up on a link of its own.
    const byName = !NODE_ID.test(peer) && !peer.includes(':');
    const id = byName
      ? peer
      : await this.withClient(node, flags.timeout, (client) =>
          NODE_ID.test(peer) ? peerIdById(client, peer.toLowerCase(), flags.timeout) : peerIdByAddress(client, peer, flags.timeout),
        );
    return this.withClient(node, flags.timeout, async (client) => {
      let outcome: { node?: NodeStatusView; message?: string };
      if (client.extended) {
        const reply = await client.control({ op: 'peer-remove', target: id, transient: flags.transient }, flags.timeout);
        outcome = { node: reply.peer, message: reply.message };
      } else {
        if (byName) throw new UsageError(`node ${client.address} is a 0.3 node, whose peers have no names: give the peer's id or HOST:PORT`);
        outcome = await client.disconnect(id, flags.timeout);
      }
      this.log(outcome.message ?? `disconnected ${outcome.node?.baddr ?? id}`);
      return outcome;
    });
  }
}

/**
 * The id to send for `id`: the peer's id as this node knows it, or the id the
 * peer gives itself (see ownIdOf); anything else is sent as given, for the
 * node to answer (a 0.3 node knows its peers only by its own ids).
 */
async function peerIdById(client: BoosterClient, id: string, timeoutMs: number): Promise<string> {
  const [, ...peers] = await client.status(300, timeoutMs);
  if (peers.some((p) => p.id === id)) return id;
  return peers.find((p) => ownIdOf(p) === id)?.id ?? id;
}

/** The id of the node's peer at `address` (its booster or proxy address); a clear error listing the peers otherwise. */
async function peerIdByAddress(client: BoosterClient, address: string, timeoutMs: number): Promise<string> {
  let wanted: { host: string; port: number };
  try {
    wanted = parseHostPort(address, 4884);
  } catch {
    throw new UsageError(`"${address}" is neither a peer id (40 hex digits) nor a HOST:PORT address`);
  }
  const [self, ...peers] = await client.status(300, timeoutMs);
  const same = (hostPort: string) => {
    try {
      const p = parseHostPort(hostPort, 4884);
      return p.port === wanted.port && sameHost(p.host, wanted.host);
    } catch {
      return false;
    }
  };
  const match = peers.find((p) => same(p.baddr) || same(p.paddr));
  if (match) return match.id;
  const known = peers.length === 0 ? 'it has no peers' : `its peers: ${peers.map((p) => `${p.id} (${p.baddr})`).join(', ')}`;
  throw new ClientError(`node ${self?.baddr ?? client.address} has no peer at ${address}; ${known}`);
}

function sameHost(a: string, b: string): boolean {
  const norm = (h: string) => (h === 'localhost' || h === '::1' || h === '[::1]' ? '127.0.0.1' : h.replace(/^\[|\]$/g, '').toLowerCase());
  return norm(a) === norm(b);
}
