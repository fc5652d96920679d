import type { Limits } from '../api/settings';

export type LimitCode = 'too-many-rules' | 'too-many-hosts' | 'rule-too-large' | 'too-many-peer-targets' | 'peer-target-too-long';

/**
 * Something from outside (a user, a config file, a peer) asked this node to
 * hold more than a limit allows. Callers branch on `code`; the message names
 * the limit and the setting that raises it, if there is one.
 */
export class LimitError extends Error {
  constructor(
    message: string,
    readonly code: LimitCode,
    /** The `limits` setting that raises it; absent for bounds set by the protocol itself. */
    readonly setting?: keyof Limits,
  ) {
    super(message);
    this.name = 'LimitError';
  }
}
