import { Args } from '@oclif/core';
import { NodeCommand } from '../cli/base';
import type { NodeStatusView } from '../network/protocol';

export default class Disconnect extends NodeCommand {
  static override description = 'Tell node x (default localhost:4884) to drop the peer with id ID (no reconnection)';
  static override examples = ['<%= config.bin %> disconnect bb920fad7e153358a9459f57993bfef2090b6ca7'];
  static override enableJsonFlag = true;
  static override args = {
    first: Args.string({ description: 'x, or the peer id when x is omitted', required: true }),
    second: Args.string({ description: 'the peer id (see booster status)' }),
  };

  async run(): Promise<{ node?: NodeStatusView; message?: string }> {
    const { args, flags } = await this.parse(Disconnect);
    const [x, id] = args.second === undefined ? [undefined, args.first] : [args.first, args.second];
    return this.withClient(x, flags.timeout, async (client) => {
      const outcome = await client.disconnect(id, flags.timeout);
      this.log(outcome.message ?? `disconnected ${outcome.node?.baddr ?? id}`);
      return outcome;
    });
  }
}
