import { Args } from '@oclif/core';
import { NodeCommand } from '../cli/base';

export default class Ctrl extends NodeCommand {
  static override description = 'Stop or restart node x (default localhost:4884); accepted from the same machine only';
  static override examples = ['<%= config.bin %> ctrl stop', '<%= config.bin %> ctrl localhost:4885 restart'];
  static override args = {
    first: Args.string({ description: 'x, or the operation when x is omitted', required: true }),
    second: Args.string({ description: 'stop | restart' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Ctrl);
    const [x, op] = args.second === undefined ? [undefined, args.first] : [args.first, args.second];
    if (op !== 'stop' && op !== 'restart') this.error(`unknown operation "${op}": use stop or restart`, { exit: 2 });
    return this.withClient(x, flags.timeout, async (client) => {
      const outcome = await client.ctrl(op, flags.timeout);
      this.log(outcome.message ?? `${op} sent to ${client.address}`);
    });
  }
}
