import type { Rule } from '../../api/settings';
import { type PolicyManager, UnknownPolicyError } from '../../dispatch/policies';
import { LimitError } from '../../kernel/limit-error';
import type { LimitLog } from '../../kernel/limit-log';
import { describeRule, type RuleSet, validateRule } from '../../dispatch/rules';
import type { NodeStatusView } from '../link/protocol';
import { estimateControlReplyBytes, estimateRuleBytes, PACKET_BUDGET_BYTES } from '../link/packet-budget';
import type { ControlReply, ControlRequest } from '../link/wire-message';
import { estimateSourceBytes, type SourceReport, type SourceReporter } from './source-report';

export type { ControlReply, ControlRequest } from '../link/wire-message';

/** What a node can do beyond policy and rules: wire and drop peers, keep its state file, re-read its config. */
export interface NodeControls {
  readonly peers?: {
    add(target: string, name: string | undefined, persist: boolean): Promise<{ peer: NodeStatusView; message: string }>;
    remove(idOrName: string, persist: boolean): Promise<{ peer: NodeStatusView; message: string }>;
  };
  /** Saves the policy and rules (rejects, saying why, if the file cannot be written). */
  readonly state?: { setPolicy(policy: string): Promise<void>; setRules(rules: readonly Rule[]): Promise<void> };
  /** Re-reads the config file; resolves to what changed, in words. */
  readonly reload?: () => Promise<string>;
}

/** How many source ids a refusal lists. */
const MAX_LISTED_SOURCES = 20;

/** A rule added at run time must name a source the node has (a typo would otherwise be a rule that never applies). */
function checkKnownSource(source: string, known: readonly string[]): void {
  if (known.includes(source)) return;
  const listed = known.slice(0, MAX_LISTED_SOURCES).join(', ');
  const more = known.length > MAX_LISTED_SOURCES ? ` and ${known.length - MAX_LISTED_SOURCES} more` : '';
  throw new Error(`no source "${source}" on this node; its sources are: ${listed || 'none'}${more} (see booster sources)`);
}

/** Error and info texts can echo user input; a reply must stay far below the packet limit whatever they hold. */
const MAX_TEXT_LENGTH = 2000;

/** Changes a running node's policy and rules. */
export class ControlHandler {
  constructor(
    private readonly policies: PolicyManager,
    private readonly rules: RuleSet,
    /** Where refusals for a limit are logged (the user who asked sees the reason in the reply either way). */
    private readonly limitLog?: Pick<LimitLog, 'hit'>,
    /** Answers op "sources"; without it, that op is refused. */
    private readonly sources?: SourceReporter,
    private readonly node: NodeControls = {},
  ) {}

  async handle(request: ControlRequest): Promise<ControlReply> {
    const offset = request.rulesOffset ?? 0;
    try {
      if (!Number.isInteger(offset) || offset < 0) throw new Error(`rulesOffset must be a rule number (0 or more), got ${offset}`);
      const { message, peer } = await this.apply(request);
      return { ...this.reply(offset, true, message, undefined, request.op === 'sources' ? this.sources?.report() : undefined), ...(peer ? { peer } : {}) };
    } catch (err) {
      if (err instanceof LimitError) this.limitLog?.hit(err.code, `refused ${request.op}: ${err.message}`);
      return this.reply(0, false, undefined, (err as Error).message);
    }
  }

  private async apply(request: ControlRequest): Promise<{ message?: string; peer?: NodeStatusView }> {
    switch (request.op) {
      case 'status':
        return {};
      case 'sources':
        if (!this.sources) throw new Error('this node does not report its sources');
        return {};
      case 'use':
        try {
          await this.policies.use(request.policy);
        } catch (err) {
          if (err instanceof UnknownPolicyError)
            throw new Error(`${err.message}; after "booster plugins install" or "plugins link", run "booster ctrl restart" so the node finds the new plugin`);
          throw err;
        }
        return { message: await this.saved(`policy is now ${request.policy}`, request.transient, (s) => s.setPolicy(request.policy)) };
      case 'rules-add': {
        const rule = validateRule(request.rule);
        if ('source' in rule && this.sources) checkKnownSource(rule.source, this.sources.ids());
        this.rules.add(rule);
        return {
          message: await this.saved(`added rule #${this.rules.list().length - 1}: ${describeRule(rule)}`, request.transient, (s) =>
            s.setRules(this.rules.list()),
          ),
        };
      }
      case 'rules-remove': {
        const removed = this.rules.remove(request.index);
        return { message: await this.saved(`removed rule: ${describeRule(removed)}`, request.transient, (s) => s.setRules(this.rules.list())) };
      }
      case 'peer-add':
        if (!this.node.peers) throw new Error('this node does not wire peers on a control request (use "booster connect" with a 0.3 node)');
        return this.node.peers.add(request.target, request.name, !request.transient);
      case 'peer-remove':
        if (!this.node.peers) throw new Error('this node does not drop peers on a control request');
        return this.node.peers.remove(request.target, !request.transient);
      case 'reload':
        if (!this.node.reload) throw new Error('this node has no config file to reload');
        return { message: await this.node.reload() };
      default:
        throw new Error(`unknown control operation ${JSON.stringify((request as { op?: unknown }).op)}`);
    }
  }

  /** `done`, saved to the state file unless `transient` (or the node keeps none); a failed save is said, the change stays. */
  private async saved(done: string, transient: boolean | undefined, save: (state: NonNullable<NodeControls['state']>) => Promise<void>): Promise<string> {
    if (transient || !this.node.state) return transient ? `${done} (transient: not saved)` : done;
    try {
      await save(this.node.state);
      return done;
    } catch (err) {
      return `${done}, but ${(err as Error).message}`;
    }
  }

  private reply(offset: number, ok: boolean, message?: string, error?: string, report?: { sources: SourceReport[]; total: number }): ControlReply {
    const head = {
      ok,
      message: clip(message),
      error: clip(error),
      policy: this.policies.current ?? '',
      available: this.policies.available(),
      faults: Object.fromEntries(this.policies.faults),
    };
    const all = this.rules.list();
    const rules: Rule[] = [];
    let bytes = estimateControlReplyBytes(head) + 11;
    const sources: SourceReport[] = [];
    for (const source of report?.sources ?? []) {
      bytes += estimateSourceBytes(source);
      if (bytes > PACKET_BUDGET_BYTES) break;
      sources.push(source);
    }
    // At least one rule per page, so a client paging through always gets somewhere (RuleSet keeps every rule well under a page).
    // A sources reply carries no rules (`booster policy rules list` pages them).
    for (let i = report ? all.length : offset; i < all.length; i++) {
      bytes += estimateRuleBytes(all[i]);
      if (rules.length > 0 && bytes > PACKET_BUDGET_BYTES) break;
      rules.push(all[i]);
    }
    return { ...head, rules, rulesOffset: offset, rulesTotal: all.length, ...(report ? { sources, sourcesTotal: report.total } : {}) };
  }
}

function clip(text: string | undefined): string | undefined {
  return text !== undefined && text.length > MAX_TEXT_LENGTH ? `${text.slice(0, MAX_TEXT_LENGTH)}…` : text;
}
