import { NodeCommand } from '../cli/base';
import { connectionSummary, sourceTable } from '../cli/sources-view';
import type { SourceReport } from '../network/control/source-report';

export interface SourcesView {
  readonly node: string;
  /** The node's active balancing policy. */
  readonly policy: string;
  readonly sources: readonly SourceReport[];
  /** How many sources the node has (more than `sources.length`: it left some out). */
  readonly total: number;
}

export default class Sources extends NodeCommand {
  static override description =
    "Show every source of a node (direct, each interface address, each peer): state and why, tunnels and dials, throughput, capacity, latency, failures, and the policy's preference";
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> sources', '<%= config.bin %> sources -n 10.0.0.2:4884 --json'];

  async run(): Promise<SourcesView> {
    const { flags } = await this.parse(Sources);
    return this.withClient(this.nodeAddress(flags.node), flags.timeout, async (client) => {
      const { policy, sources, total } = await client.sources(flags.timeout);
      this.log(`node ${client.address}  policy ${policy || '(none)'}  ${connectionSummary(sources)}`);
      for (const line of sourceTable(sources)) this.log(line);
      if (total > sources.length) this.log(`(${total - sources.length} more sources not listed: the reply is capped)`);
      return { node: client.address, policy, sources, total };
    });
  }
}
