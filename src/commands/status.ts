import { Args } from '@oclif/core';
import { NodeCommand } from '../cli/base';
import type { NodeStatusView } from '../network/protocol';

export default class Status extends NodeCommand {
  static override description = 'Show a node (--node, default $BOOSTER_NODE or localhost:4884) and its active peers: workload and open tunnels';
  static override enableJsonFlag = true;
  static override args = {
    node: Args.string({ description: 'x: the node (0.3 form of --node)' }),
  };

  async run(): Promise<NodeStatusView[]> {
    const { args, flags } = await this.parse(Status);
    return this.withClient(this.nodeAddress(flags.node, args.node), flags.timeout, async (client) => {
      const nodes = await client.status(300, flags.timeout);
      nodes.forEach((n, i) => {
        const load = n.tunnels.reduce((sum, t) => sum + t.copies, 0);
        this.log(`${i === 0 ? 'node' : 'peer'} ${n.id}  booster ${n.baddr}  proxy ${n.paddr}  ${n.active ? 'active' : 'inactive'}  workload ${load}`);
        for (const t of n.tunnels) this.log(`    ${t.target}${t.copies > 1 ? ` ×${t.copies}` : ''}`);
      });
      return nodes;
    });
  }
}
