import { Args } from '@oclif/core';
import { NodeCommand, UsageError } from '../cli/base';

export default class Ctrl extends NodeCommand {
  static override description = `Stop, restart or reload a node (--node, default $BOOSTER_NODE or localhost:4884)

restart comes back with the saved peers, policy and rules, and finds plugins installed since the node started.
reload re-reads the config file (as SIGHUP does): it applies policy, rules and peers at once and says what needs a restart.`;
  static override examples = ['<%= config.bin %> ctrl stop', '<%= config.bin %> ctrl -n localhost:4885 restart', '<%= config.bin %> ctrl reload'];
  static override enableJsonFlag = true;
  static override args = {
    first: Args.string({ description: 'x, or the operation when x is omitted', required: true }),
    second: Args.string({ description: 'stop | restart | reload' }),
  };

  async run(): Promise<{ operation: string; node: string; message: string }> {
    const { args, flags } = await this.parse(Ctrl);
    const [x, op] = args.second === undefined ? [undefined, args.first] : [args.first, args.second];
    if (op !== 'stop' && op !== 'restart' && op !== 'reload') throw new UsageError(`unknown operation "${op}": use stop, restart or reload`);
    return this.withClient(this.nodeAddress(flags.node, x), flags.timeout, async (client) => {
      if (op === 'reload') {
        const reply = await client.control({ op: 'reload' }, flags.timeout);
        const message = reply.message ?? 'config reloaded';
        this.log(message);
        return { operation: op, node: client.address, message };
      }
      const outcome = await client.ctrl(op, flags.timeout);
      const message = outcome.message ?? `${op} sent to ${client.address}`;
      this.log(message);
      return { operation: op, node: client.address, message };
    });
  }
}
