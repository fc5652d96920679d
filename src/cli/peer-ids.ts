import { parseHostPort } from '../network/link/errors';
import { nodeId } from '../wire';

/**
 * The id a peer gives itself. 0.3 derives a node's id from the address used to
 * reach it (sha1 of host, booster port and proxy port), so node A knows peer B
 * by B's address as A sees it, while B calls itself after "localhost"
 * (`booster status` on B): the same node, two ids.
 */
export function ownIdOf(peer: { readonly baddr: string; readonly paddr: string }): string | undefined {
  try {
    return nodeId('localhost', parseHostPort(peer.baddr, 4884).port, parseHostPort(peer.paddr, 1080).port);
  } catch {
    return undefined;
  }
}

export const TWO_IDS_NOTE = "0.3 derives a node's id from the address used to reach it, so a peer's own status shows this other id";

/** The name in a peer source's label ("peer phone (10.0.0.2:4884)", see peerLabel), if it has one. */
export function peerNameOf(label: string): string | undefined {
  return /^peer ([A-Za-z0-9][A-Za-z0-9._-]*) \(/.exec(label)?.[1];
}
