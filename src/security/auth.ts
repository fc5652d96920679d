import * as crypto from 'node:crypto';
import type { NetworkKey } from './key';

/**
 * booster.v1 mutual authentication (README "Security"): a challenge-response
 * with fresh nonces from both sides and an HMAC over the whole transcript, so
 * neither side sends the key and a replayed exchange fails (the other side's
 * nonce is new every time).
 *
 *   client → AuthInit{nonceC, role}
 *   server → AuthChallenge{nonceS, proofS = HMAC(K, "server" ‖ transcript)}
 *   client → AuthProof{proofC = HMAC(K, "client" ‖ transcript)}     (after checking proofS)
 *   server → Result{0}                                                (after checking proofC)
 *
 * transcript = version ‖ role ‖ nonceC ‖ nonceS ‖ server's Hello ports ‖ TLS
 * channel binding (RFC 9266 exporter, when the link is TLS), each length-prefixed.
 */
export type AuthRole = 'peer' | 'cli';
export const AUTH_ROLES: readonly AuthRole[] = ['peer', 'cli'];
export const NONCE_BYTES = 32;
const VERSION = 'booster-auth-v1';

export interface Transcript {
  readonly role: AuthRole;
  readonly clientNonce: Buffer;
  readonly serverNonce: Buffer;
  /** The ports the server's Hello announced on this link. */
  readonly bport: number;
  readonly pport: number;
  /** TLS exporter value of this link; empty for a plain link. */
  readonly binding: Buffer;
}

/** Holds the authentication subkey of a network key. */
export class Authenticator {
  readonly #key: Buffer;

  constructor(key: NetworkKey) {
    this.#key = key.derive('booster auth v1');
  }

  proof(side: 'server' | 'client', t: Transcript): Buffer {
    const h = crypto.createHmac('sha256', this.#key);
    for (const part of [VERSION, side, t.role, t.clientNonce, t.serverNonce, `${t.bport}/${t.pport}`, t.binding]) {
      const b = typeof part === 'string' ? Buffer.from(part) : part;
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      h.update(len).update(b);
    }
    return h.digest();
  }

  verify(side: 'server' | 'client', t: Transcript, proof: Buffer | Uint8Array | undefined): boolean {
    if (!proof || proof.length !== 32) return false;
    return crypto.timingSafeEqual(this.proof(side, t), Buffer.from(proof));
  }
}

export function nonce(): Buffer {
  return crypto.randomBytes(NONCE_BYTES);
}
