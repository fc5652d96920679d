import { Flags } from '@oclif/core';
import { NodeCommand } from '../../cli/base';
import { renderPolicy } from '../../cli/policy';
import type { ControlReply } from '../../network/control';

export default class PolicyList extends NodeCommand {
  static override description = 'Show the running node\'s balancing policy, the policies it can use, and policy faults';
  static override enableJsonFlag = true;
  static override flags = { target: Flags.string({ char: 't', description: 'the node\'s booster endpoint', default: 'localhost:4884' }) };

  async run(): Promise<ControlReply> {
    const { flags } = await this.parse(PolicyList);
    return this.withClient(flags.target, flags.timeout, async (client) => {
      const reply = await client.control({ op: 'status' }, flags.timeout);
      renderPolicy(this, reply);
      return reply;
    });
  }
}
