import { Args } from '@oclif/core';
import { NodeCommand } from '../../cli/base';
import { renderPolicy } from '../../cli/policy';
import { transientFlag } from '../../cli/transient-flag';
import type { ControlReply } from '../../network/control/control';

export default class PolicyUse extends NodeCommand {
  static override description = 'Switch the running node to another balancing policy (new connections only); saved in its state file unless --transient';
  static override examples = ['<%= config.bin %> policy use round-robin', '<%= config.bin %> policy use least-busy --transient'];
  static override flags = { ...transientFlag };
  static override enableJsonFlag = true;
  static override args = { name: Args.string({ description: 'policy id (see booster policy list)', required: true }) };

  async run(): Promise<ControlReply> {
    const { args, flags } = await this.parse(PolicyUse);
    return this.withClient(this.nodeAddress(flags.node), flags.timeout, async (client) => {
      const reply = await client.control({ op: 'use', policy: args.name, transient: flags.transient }, flags.timeout);
      renderPolicy(this, reply);
      return reply;
    });
  }
}
