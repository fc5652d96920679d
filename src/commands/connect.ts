import { Args, Flags } from '@oclif/core';
import { NodeCommand, UsageError } from '../cli/base';
import { transientFlag } from '../cli/transient-flag';
import type { NodeStatusView } from '../network/link/protocol';
import { checkPeerName } from '../state/peer-entry';

export default class Connect extends NodeCommand {
  static override description = `Tell node x (--node, default $BOOSTER_NODE or localhost:4884) to use node y: y starts boosting x

The node saves y (and its --name) in its state file and wires it again after a restart, unless --transient.`;
  static override examples = [
    '<%= config.bin %> connect localhost:4885',
    '<%= config.bin %> connect --name phone 192.168.1.20:4884',
    '<%= config.bin %> connect -n 192.168.1.10:4884 192.168.1.20:4884 --transient',
  ];
  static override enableJsonFlag = true;
  static override args = {
    first: Args.string({ description: 'x (the node to boost), or y when x is omitted', required: true }),
    second: Args.string({ description: 'y (the node x should use)' }),
  };
  static override flags = {
    name: Flags.string({ description: 'a name for y, shown by status and sources and accepted by disconnect (1-32 letters, digits, ".", "_", "-")' }),
    ...transientFlag,
  };

  async run(): Promise<{ node?: NodeStatusView; message?: string }> {
    const { args, flags } = await this.parse(Connect);
    const [x, y] = args.second === undefined ? [undefined, args.first] : [args.first, args.second];
    if (flags.name !== undefined) {
      try {
        checkPeerName(flags.name, '--name');
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    }
    return this.withClient(this.nodeAddress(flags.node, x), flags.timeout, async (client) => {
      const timeout = Math.max(flags.timeout, 15_000);
      let outcome: { node?: NodeStatusView; message?: string };
      if (client.extended) {
        const reply = await client.control({ op: 'peer-add', target: y, name: flags.name, transient: flags.transient }, timeout);
        outcome = { node: reply.peer, message: reply.message };
      } else {
        // A 0.3 node wires on its own message and keeps no state; it has no names either.
        if (flags.name !== undefined) throw new UsageError(`node ${client.address} is a 0.3 node: it cannot name its peers (drop --name)`);
        outcome = await client.connect(y, timeout);
      }
      this.log(outcome.message ?? `connected`);
      if (outcome.node) this.log(`peer id ${outcome.node.id} (booster ${outcome.node.baddr}, proxy ${outcome.node.paddr})`);
      return outcome;
    });
  }
}
