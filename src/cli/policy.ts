import type { Command } from '@oclif/core';
import { describeRule } from '../dispatch/rules';
import type { ControlReply } from '../network/control/control';

export function renderPolicy(command: Command, reply: ControlReply): void {
  if (reply.message) command.log(reply.message);
  command.log(`policy: ${reply.policy}`);
  command.log(`available: ${reply.available.map((p) => (p === reply.policy ? `${p} (active)` : p)).join(', ')}`);
  const faults = Object.entries(reply.faults);
  if (faults.length) command.log(`faults: ${faults.map(([p, n]) => `${p} ${n}`).join(', ')}`);
}

export function renderRules(command: Command, reply: ControlReply): void {
  if (reply.message) command.log(reply.message);
  if (reply.rules.length === 0) command.log('no rules');
  reply.rules.forEach((r, i) => command.log(`#${reply.rulesOffset + i} ${describeRule(r)}`));
}
