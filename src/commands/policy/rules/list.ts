import { NodeCommand } from '../../../cli/base';
import { renderRules } from '../../../cli/policy';
import type { ControlReply } from '../../../network/control/control';

export default class RulesList extends NodeCommand {
  static override description = "List the running node's routing rules, numbered";
  static override enableJsonFlag = true;

  async run(): Promise<ControlReply> {
    const { flags } = await this.parse(RulesList);
    return this.withClient(this.nodeAddress(flags.node), flags.timeout, async (client) => {
      const reply = await client.control({ op: 'status' }, flags.timeout);
      renderRules(this, reply);
      return reply;
    });
  }
}
