import type { Disposable } from '../../api/disposable';
import { type EventHub } from '../../kernel/events';
import { type SourceRegistry } from '../../dispatch/sources';
import { type TunnelTable } from '../../dispatch/tunnels';
import { type Network } from '../peers/network';
import { formatHostPort } from '../link/errors';
import { fitNodeStatus, snapshotNote, type Omission } from '../link/node-status-fit';
import type { NodeStatusView, ProtocolLink } from '../link/protocol';

/** What a monitor stream reads: only these members, so a session hands it no more than that. */
export interface MonitorSources {
  readonly network: Pick<Network, 'list' | 'get' | 'onRemoteTunnel'>;
  readonly tunnels: Pick<TunnelTable, 'workload'>;
  readonly sources: Pick<SourceRegistry, 'list'>;
  readonly events: Pick<EventHub, 'onPeerChanged' | 'onSourceHealthChanged' | 'onTunnelOpened' | 'onTunnelClosed'>;
  readonly identity: { readonly id: string; readonly bport: number; readonly pport: number };
}

/**
 * A `monitor` request's stream, JSON-encoded as 0.3 does. Feature "node": a
 * NodeStatus for this node and each active peer, then NetworkUpdate and
 * ProxyUpdate events. Feature "net": a NetworkUsageUpdate per direction every second.
 *
 * A peer going down is sent as 0.3 does, a NetworkUpdate "removed", and its
 * coming back as "added", each with the peer's booster and proxy addresses.
 * Booster.v1 clients also get a SourceHealth event for every ejection,
 * recovery, and peer going down or up.
 *
 * A NodeStatus must fit in one packet: a node with more targets than fit
 * lists its busiest, and the closing Result (booster clients) says how many
 * targets of which node were left out.
 */
export class MonitorStream implements Disposable {
  private readonly disposables: Disposable[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly link: ProtocolLink,
    feature: 'node' | 'net',
    private readonly s: MonitorSources,
  ) {
    if (feature === 'node') this.streamNode();
    else this.streamNet();
  }

  dispose(): void {
    clearInterval(this.timer);
    this.disposables.forEach((d) => d.dispose());
  }

  private selfStatus(): NodeStatusView {
    const host = this.link.localHost ?? '127.0.0.1';
    return {
      id: this.s.identity.id,
      baddr: formatHostPort(host, this.s.identity.bport),
      paddr: formatHostPort(host, this.s.identity.pport),
      active: true,
      tunnels: this.s.tunnels.workload().map(({ target, copies }) => ({ target, copies })),
    };
  }

  private streamNode(): void {
    const { link, s } = this;
    const omissions: Omission[] = [];
    const fit = (node: NodeStatusView): NodeStatusView => {
      const fitted = fitNodeStatus(node, 'json');
      if (fitted.omittedTargets > 0) omissions.push({ nodeId: node.id, targets: fitted.omittedTargets, copies: fitted.omittedCopies });
      return fitted.node;
    };
    link.sendNodeStatusJson(fit(this.selfStatus()));
    // What each peer was last announced as, and its addresses (a removed peer is gone from the network by the time we hear of it).
    const known = new Map<string, { paddr: string; last: 'added' | 'removed' }>();
    for (const peer of s.network.list()) {
      known.set(peer.id, { paddr: peer.paddr, last: peer.state === 'up' ? 'added' : 'removed' });
      if (peer.state === 'up') link.sendNodeStatusJson(fit(peer.status()));
    }
    link.sendResult(0, snapshotNote(omissions));
    this.disposables.push(
      s.events.onPeerChanged((e) => {
        const operation = e.change === 'added' || e.change === 'up' ? 'added' : 'removed';
        const peer = s.network.get(e.nodeId);
        const seen = known.get(e.nodeId);
        if (e.change === 'removed') known.delete(e.nodeId);
        else known.set(e.nodeId, { paddr: peer?.paddr ?? seen?.paddr ?? '', last: operation });
        // A new peer is added, then up; a dropped one down, then removed: 0.3 clients hear of each once.
        if (seen?.last === operation) return;
        const remote: NodeStatusView = peer?.status() ?? { id: e.nodeId, baddr: e.address, paddr: seen?.paddr ?? '', active: false, tunnels: [] };
        link.sendNetworkUpdateJson(s.identity.id, operation, { ...fitNodeStatus(remote, 'json').node, active: false });
      }),
      s.events.onSourceHealthChanged((e) =>
        link.sendSourceHealth({ id: e.source.id, kind: e.source.kind, label: e.source.label, health: e.health, reason: e.reason }),
      ),
      s.events.onTunnelOpened((t) => link.sendProxyUpdateJson(s.identity.id, t.targetAddress, 'added')),
      s.events.onTunnelClosed((c) => link.sendProxyUpdateJson(s.identity.id, c.tunnel.targetAddress, 'removed')),
      s.network.onRemoteTunnel((e) => link.sendProxyUpdateJson(e.nodeId, e.target, e.operation)),
    );
  }

  private streamNet(): void {
    let last = this.totals();
    this.timer = setInterval(() => {
      const now = this.totals();
      this.link.sendBandwidthJson(this.s.identity.id, 'download', now.down, now.down - last.down);
      this.link.sendBandwidthJson(this.s.identity.id, 'upload', now.up, now.up - last.up);
      last = now;
    }, 1000);
    this.timer.unref();
  }

  private totals(): { down: number; up: number } {
    let down = 0;
    let up = 0;
    for (const c of this.s.sources.list()) {
      down += c.stats.bytesDown;
      up += c.stats.bytesUp;
    }
    return { down, up };
  }
}
