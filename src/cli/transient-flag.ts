import { Flags } from '@oclif/core';

/** --transient: change the running node only; without it the node saves the change in its state file (README "Configuration file"). */
export const transientFlag = {
  transient: Flags.boolean({ description: 'change the running node only: not saved in its state file, so a restart forgets it', default: false }),
};
