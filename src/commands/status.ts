import { Args } from '@oclif/core';
import { NodeCommand } from '../cli/base';
import { moreTargetsLine } from '../cli/format';
import { ownIdOf, peerNameOf, TWO_IDS_NOTE } from '../cli/peer-ids';
import { connectionSummary, sourceTable, stateText } from '../cli/sources-view';
import { omissionsIn } from '../network/link/node-status-fit';
import type { NodeStatusView } from '../network/link/protocol';
import type { SourceReport } from '../network/control/source-report';

export default class Status extends NodeCommand {
  static override description =
    'Show a node (--node, default $BOOSTER_NODE or localhost:4884): its connections and where each went, its peers (down ones with the reason) and every source; --json keeps the 0.3 node list (see "booster sources --json" for the sources)';
  static override enableJsonFlag = true;
  static override args = {
    node: Args.string({ description: 'x: the node (0.3 form of --node)' }),
  };

  async run(): Promise<NodeStatusView[]> {
    const { args, flags } = await this.parse(Status);
    return this.withClient(this.nodeAddress(flags.node, args.node), flags.timeout, async (client) => {
      // Asked first: reading the status ends the session. A 0.3 node has no sources to report.
      const sources =
        client.extended && !this.jsonEnabled()
          ? await client.sources(flags.timeout).then(
              (r) => r.sources,
              () => undefined,
            )
          : undefined;
      let note = '';
      const nodes = await client.status(300, flags.timeout, (text) => (note = text));
      const omitted = new Map(omissionsIn(note).map((o) => [o.nodeId, o]));
      const byId = new Map((sources ?? []).map((s) => [s.id, s]));
      const viaPeers = (sources ?? []).filter((s) => s.kind === 'peer').reduce((n, s) => n + s.openTunnels, 0);
      nodes.forEach((n, i) => {
        const cut = omitted.get(n.id);
        // The workload counts the tunnels to the targets left out too.
        const load = n.tunnels.reduce((sum, t) => sum + t.copies, 0) + (cut?.copies ?? 0);
        const report = i > 0 ? byId.get(n.id) : undefined;
        const name = report ? peerNameOf(report.label) : undefined;
        const head = `${i === 0 ? 'node' : 'peer'}${name ? ` ${name}` : ''} ${n.id}  booster ${n.baddr}  proxy ${n.paddr}  ${n.active ? 'active' : 'inactive'}  workload ${load}`;
        let words = '';
        if (i === 0) words = sources ? ` (every tunnel through its proxy${viaPeers ? `, ${viaPeers} of them chained through peers` : ''})` : '';
        else if (report) words = ` (its own count, ${report.openTunnels} of them ours)`;
        this.log(head + words);
        const own = i > 0 ? ownIdOf(n) : undefined;
        if (own && own !== n.id) this.log(`    its own id: ${own} (${TWO_IDS_NOTE})`);
        for (const t of n.tunnels) this.log(`    ${t.target}${t.copies > 1 ? ` ×${t.copies}` : ''}`);
        if (cut) this.log(`    ${moreTargetsLine(cut.targets, cut.copies)}`);
      });
      if (!sources) return nodes;
      const shown = new Set(nodes.map((n) => n.id));
      for (const s of sources.filter((p) => p.kind === 'peer' && !shown.has(p.id))) this.log(`peer ${s.id}  ${downPeer(s)}`);
      this.log(connectionSummary(sources));
      this.log('sources:');
      for (const line of sourceTable(sources)) this.log(`  ${line}`);
      return nodes;
    });
  }
}

/** A peer the node knows but that is not up: "booster 10.0.0.2:4884  proxy …  down (heartbeat: …)". */
function downPeer(s: SourceReport): string {
  const state = stateText(s);
  const words = s.state === 'down' ? `down (${s.reason || 'no reason given'})` : state;
  return `${s.label.replace(/^peer /, 'booster ')}  proxy ${s.address}  ${words}`;
}
