import { NodeCommand } from '../../cli/base';
import { renderPolicy } from '../../cli/policy';
import type { ControlReply } from '../../network/control/control';

export default class PolicyList extends NodeCommand {
  static override description = "Show the running node's balancing policy, the policies it can use, and policy faults";
  static override enableJsonFlag = true;

  async run(): Promise<ControlReply> {
    const { flags } = await this.parse(PolicyList);
    return this.withClient(this.nodeAddress(flags.node), flags.timeout, async (client) => {
      const reply = await client.control({ op: 'status' }, flags.timeout);
      renderPolicy(this, reply);
      return reply;
    });
  }
}
