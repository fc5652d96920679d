import { Args, Flags } from '@oclif/core';
import { NodeCommand } from '../../../cli/base';
import { renderRules } from '../../../cli/policy';
import { transientFlag } from '../../../cli/transient-flag';
import type { ControlReply } from '../../../network/control/control';

export default class RulesAdd extends NodeCommand {
  static override description = `Add a routing rule to the running node.

  block SOURCE              never use SOURCE
  reserve SOURCE HOST...    SOURCE only for these hosts, and these hosts on SOURCE
  avoid SOURCE HOST...      never use SOURCE for these hosts
  sticky [HOST...]          keep each destination on the source it used (--ttl)

Hosts are names or *.domain patterns; source ids are listed by "booster status" and "booster policy list".
The node saves its rules in its state file unless --transient.`;
  static override examples = [
    '<%= config.bin %> policy rules add block if:wlan0:192.168.1.5',
    '<%= config.bin %> policy rules add reserve direct "*.bank.example"',
    '<%= config.bin %> policy rules add sticky --ttl 600000',
  ];
  static override strict = false;
  static override enableJsonFlag = true;
  static override args = {
    type: Args.string({ description: 'block | reserve | avoid | sticky', required: true, options: ['block', 'reserve', 'avoid', 'sticky'] }),
  };
  static override flags = {
    ttl: Flags.integer({ description: 'sticky: how long a destination keeps its source, in ms', default: 600_000, min: 1 }),
    ...transientFlag,
  };

  async run(): Promise<ControlReply> {
    const { args, argv, flags } = await this.parse(RulesAdd);
    const rest = (argv as string[]).slice(1);
    const rule =
      args.type === 'sticky'
        ? { type: 'sticky', ttlMs: flags.ttl, hosts: rest.length ? rest : undefined }
        : args.type === 'block'
          ? { type: 'block', source: rest[0] }
          : { type: args.type, source: rest[0], hosts: rest.slice(1) };
    return this.withClient(this.nodeAddress(flags.node), flags.timeout, async (client) => {
      const reply = await client.control({ op: 'rules-add', rule, transient: flags.transient }, flags.timeout);
      renderRules(this, reply);
      return reply;
    });
  }
}
