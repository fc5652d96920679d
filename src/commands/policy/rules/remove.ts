import { Args } from '@oclif/core';
import { NodeCommand } from '../../../cli/base';
import { renderRules } from '../../../cli/policy';
import { transientFlag } from '../../../cli/transient-flag';
import type { ControlReply } from '../../../network/control/control';

export default class RulesRemove extends NodeCommand {
  static override description = 'Remove the rule numbered N (see booster policy rules list) from the running node; saved in its state file unless --transient';
  static override enableJsonFlag = true;
  static override args = { index: Args.integer({ description: 'rule number', required: true, min: 0 }) };
  static override flags = { ...transientFlag };

  async run(): Promise<ControlReply> {
    const { args, flags } = await this.parse(RulesRemove);
    return this.withClient(this.nodeAddress(flags.node), flags.timeout, async (client) => {
      const reply = await client.control({ op: 'rules-remove', index: args.index, transient: flags.transient }, flags.timeout);
      renderRules(this, reply);
      return reply;
    });
  }
}
