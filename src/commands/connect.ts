import { Args } from '@oclif/core';
import { NodeCommand } from '../cli/base';
import type { NodeStatusView } from '../network/protocol';

export default class Connect extends NodeCommand {
  static override description = 'Tell node x (--node, default $BOOSTER_NODE or localhost:4884) to use node y: y starts boosting x';
  static override examples = ['<%= config.bin %> connect localhost:4885', '<%= config.bin %> connect -n 192.168.1.10:4884 192.168.1.20:4884'];
  static override enableJsonFlag = true;
  static override args = {
    first: Args.string({ description: 'x (the node to boost), or y when x is omitted', required: true }),
    second: Args.string({ description: 'y (the node x should use)' }),
  };

  async run(): Promise<{ node?: NodeStatusView; message?: string }> {
    const { args, flags } = await this.parse(Connect);
    const [x, y] = args.second === undefined ? [undefined, args.first] : [args.first, args.second];
    return this.withClient(this.nodeAddress(flags.node, x), flags.timeout, async (client) => {
      const outcome = await client.connect(y, Math.max(flags.timeout, 15_000));
      this.log(outcome.message ?? `connected`);
      if (outcome.node) this.log(`peer id ${outcome.node.id} (booster ${outcome.node.baddr}, proxy ${outcome.node.paddr})`);
      return outcome;
    });
  }
}
