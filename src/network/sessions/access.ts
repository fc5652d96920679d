import type { AuthRole } from '../../security/auth';
import type { WireMessage } from '../link/protocol';

/**
 * Who is on the other end of an endpoint connection, as far as this node can
 * tell: by proof of the network key (`peer`, `cli`), or by address alone
 * (`local` for this machine, `legacy-peer` for --allow-legacy-peers), else nobody.
 */
export type Principal = 'anonymous' | 'local' | 'legacy-peer' | AuthRole;

type Request = WireMessage['kind'];

/** The requests each principal may make (README "Security", who may do what). */
const PEER: readonly Request[] = ['notify', 'heartbeat'];
const CONTROL: readonly Request[] = ['connect', 'disconnect', 'ctrl', 'control', 'monitor', ...PEER];
const ALLOWED: Record<Principal, readonly Request[]> = {
  anonymous: [],
  'legacy-peer': PEER,
  peer: PEER,
  cli: CONTROL,
  local: CONTROL,
};

/** Messages of the authentication exchange itself, open to anyone in the right state. */
export const HANDSHAKE: readonly Request[] = ['start-tls', 'auth-init', 'auth-proof'];

export function allows(principals: readonly Principal[], request: Request): boolean {
  return principals.some((p) => ALLOWED[p].includes(request));
}

/** Why a request was refused, in words for the wire and the log. */
export function refusal(principals: readonly Principal[], request: Request): string {
  if (PEER.includes(request)) {
    return `${request} needs a peer that proved it holds this network's key (booster.v1), or a 0.3 node at an address allowed with --allow-legacy-peers`;
  }
  if (CONTROL.includes(request)) {
    return principals.includes('peer')
      ? `${request} is not allowed on a peer link; control needs a CLI session`
      : `${request} is accepted from this machine, or from a CLI that proved it holds this network's key`;
  }
  return `${request} is not a request a node accepts`;
}
