import { PACKET_BUDGET_BYTES, stringFieldBytes } from './packet-budget';

export interface TargetCopies {
  readonly target: string;
  readonly copies: number;
}

interface NodeWithTunnels {
  readonly id: string;
  readonly baddr: string;
  readonly paddr: string;
  readonly tunnels: readonly TargetCopies[];
}

export interface FittedNodeStatus<N> {
  readonly node: N;
  /** Targets (and the tunnels to them) left out of `node.tunnels`. */
  readonly omittedTargets: number;
  readonly omittedCopies: number;
}

/** How NodeStatus goes on the wire: protobuf (connect/disconnect answers) or 0.3's JSON (monitor streams). */
export type NodeStatusEncoding = 'protobuf' | 'json';

const TUNNEL_BYTES: Record<NodeStatusEncoding, (t: TargetCopies) => number> = {
  // Tunnel { id: 40 hex chars, target, copies } inside its own tag and length.
  protobuf: (t) => 4 + 42 + stringFieldBytes(t.target) + 11,
  // {"target":"...","copies":N},
  json: (t) => 42 + Buffer.byteLength(JSON.stringify(t.target)),
};

/**
 * A NodeStatus lists every target a node has tunnels to; a busy node (or a
 * peer reporting thousands of targets) would not fit in one packet, and
 * encoding it would throw. This keeps the busiest targets that fit (most
 * copies first) and says how many were left out. A list that fits is
 * returned as it is, in its order.
 */
export function fitNodeStatus<N extends NodeWithTunnels>(node: N, encoding: NodeStatusEncoding, budget = PACKET_BUDGET_BYTES): FittedNodeStatus<N> {
  const tunnelBytes = TUNNEL_BYTES[encoding];
  const fixed = 64 + [node.id, node.baddr, node.paddr].reduce((sum, s) => sum + 16 + Buffer.byteLength(JSON.stringify(s)), 0);
  const costs = new Map(node.tunnels.map((t) => [t, tunnelBytes(t)]));
  let bytes = fixed;
  for (const cost of costs.values()) bytes += cost;
  if (bytes <= budget) return { node, omittedTargets: 0, omittedCopies: 0 };

  const busiestFirst = [...node.tunnels].sort((a, b) => b.copies - a.copies);
  const kept: TargetCopies[] = [];
  bytes = fixed;
  for (const t of busiestFirst) {
    bytes += costs.get(t)!;
    if (bytes > budget) break;
    kept.push(t);
  }
  const omitted = busiestFirst.slice(kept.length);
  return {
    node: { ...node, tunnels: kept },
    omittedTargets: omitted.length,
    omittedCopies: omitted.reduce((sum, t) => sum + t.copies, 0),
  };
}

/** A node whose NodeStatus left targets out. */
export interface Omission {
  readonly nodeId: string;
  readonly targets: number;
  readonly copies: number;
}

const OMISSION = /node (\S+): … and (\d+) more targets \((\d+) tunnels\)/g;

/** The Result that closes a monitor snapshot (booster clients), naming the nodes whose NodeStatus left targets out. */
export function snapshotNote(omissions: readonly Omission[]): string {
  if (omissions.length === 0) return 'snapshot complete';
  const parts = omissions.map((o) => `node ${o.nodeId}: … and ${o.targets} more targets (${o.copies} tunnels)`);
  return `snapshot complete; only the busiest targets are listed for ${parts.join('; ')}`;
}

/** What `snapshotNote` said was left out (for a client that shows it, as `status` can). */
export function omissionsIn(note: string): Omission[] {
  return [...note.matchAll(OMISSION)].map((m) => ({ nodeId: m[1], targets: Number(m[2]), copies: Number(m[3]) }));
}
