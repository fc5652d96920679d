/**
 * 0.3's JSON monitor payloads, key for key in the order Go emits them (some
 * readers compare text). Used for `monitor` streams only.
 */
export interface NodeJson {
  readonly id: string;
  readonly baddr: string;
  readonly paddr: string;
  readonly active: boolean;
  readonly tunnels: readonly { readonly target: string; readonly copies: number }[];
}

const s = JSON.stringify;

export function nodeStatusJson(n: NodeJson): string {
  const tunnels = n.tunnels.map((t) => `{"target":${s(t.target)},"copies":${t.copies}}`).join(',');
  return `{"id":${s(n.id)},"baddr":${s(n.baddr)},"paddr":${s(n.paddr)},"active":${n.active},"tunnels":[${tunnels}]}`;
}

export function proxyUpdateJson(nodeId: string, target: string, operation: 1 | 2): string {
  return `{"node_id":${s(nodeId)},"target":${s(target)},"operation":${operation}}`;
}

export function networkUpdateJson(nodeId: string, operation: 1 | 2, remote: NodeJson): string {
  return `{"node_id":${s(nodeId)},"operation":${operation},"remote_node":${nodeStatusJson(remote)}}`;
}

export function bandwidthJson(senderId: string, type: 'download' | 'upload', tot: number, bandwidth: number): string {
  return `{"sender_id":${s(senderId)},"data":{"tot":${tot},"bandwidth":${bandwidth},"type":"${type}"}}`;
}
