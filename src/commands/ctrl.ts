import { Args } from '@oclif/core';
import { NodeCommand, UsageError } from '../cli/base';

export default class Ctrl extends NodeCommand {
  static override description = 'Stop or restart a node (--node, default $BOOSTER_NODE or localhost:4884); accepted from the same machine only';
  static override examples = ['<%= config.bin %> ctrl stop', '<%= config.bin %> ctrl -n localhost:4885 restart'];
  static override enableJsonFlag = true;
  static override args = {
    first: Args.string({ description: 'x, or the operation when x is omitted', required: true }),
    second: Args.string({ description: 'stop | restart' }),
  };

  async run(): Promise<{ operation: string; node: string; message: string }> {
    const { args, flags } = await this.parse(Ctrl);
    const [x, op] = args.second === undefined ? [undefined, args.first] : [args.first, args.second];
    if (op !== 'stop' && op !== 'restart') throw new UsageError(`unknown operation "${op}": use stop or restart`);
    return this.withClient(this.nodeAddress(flags.node, x), flags.timeout, async (client) => {
      const outcome = await client.ctrl(op, flags.timeout);
      const message = outcome.message ?? `${op} sent to ${client.address}`;
      this.log(message);
      return { operation: op, node: client.address, message };
    });
  }
}
