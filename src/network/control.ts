import type { Rule } from '../api/settings';
import { PolicyManager } from '../dispatch/policies';
import { describeRule, RuleSet, validateRule } from '../dispatch/rules';

/** A control request from `booster policy ...` (a booster extension; never sent to 0.3 nodes). */
export type ControlRequest =
  | { readonly op: 'status' }
  | { readonly op: 'use'; readonly policy: string }
  | { readonly op: 'rules-add'; readonly rule: unknown }
  | { readonly op: 'rules-remove'; readonly index: number };

export interface ControlReply {
  readonly ok: boolean;
  readonly error?: string;
  readonly message?: string;
  readonly policy: string;
  readonly available: readonly string[];
  readonly rules: readonly Rule[];
  readonly faults: Readonly<Record<string, number>>;
}

/** Changes a running node's policy and rules. */
export class ControlHandler {
  constructor(
    private readonly policies: PolicyManager,
    private readonly rules: RuleSet,
  ) {}

  async handle(request: ControlRequest): Promise<ControlReply> {
    try {
      const message = await this.apply(request);
      return this.reply(true, message);
    } catch (err) {
      return this.reply(false, undefined, (err as Error).message);
    }
  }

  private async apply(request: ControlRequest): Promise<string | undefined> {
    switch (request.op) {
      case 'status':
        return undefined;
      case 'use':
        await this.policies.use(request.policy);
        return `policy is now ${request.policy}`;
      case 'rules-add': {
        const rule = validateRule(request.rule);
        this.rules.add(rule);
        return `added rule #${this.rules.list().length - 1}: ${describeRule(rule)}`;
      }
      case 'rules-remove':
        return `removed rule: ${describeRule(this.rules.remove(request.index))}`;
      default:
        throw new Error(`unknown control operation ${JSON.stringify((request as { op?: unknown }).op)}`);
    }
  }

  private reply(ok: boolean, message?: string, error?: string): ControlReply {
    return {
      ok, message, error,
      policy: this.policies.current ?? '',
      available: this.policies.available(),
      rules: this.rules.list(),
      faults: Object.fromEntries(this.policies.faults),
    };
  }
}
