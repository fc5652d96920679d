import * as crypto from 'node:crypto';
import type { NetworkKey } from '../security/key';
import type { Presence } from './txt';

const PURPOSE = 'booster discovery v1';
const HINT_BYTES = 9;

/**
 * "I hold this network's key", said so that only other holders can read it:
 * HMAC-SHA256, under a subkey of the network key, over the announced id,
 * ports and a nonce drawn at start. A stranger sees a fresh random-looking
 * value each run (nothing to link a laptop's announcements at home and at a
 * café, unlike a key fingerprint) and cannot use it to guess a 256-bit key.
 * It only pre-filters which nodes to try: the authenticated connect is the proof.
 */
export class PresenceHint {
  readonly #key: Buffer;

  constructor(key: NetworkKey) {
    this.#key = key.derive(PURPOSE);
  }

  /** A new nonce (16 random bytes, base64url). */
  static nonce(): string {
    return crypto.randomBytes(16).toString('base64url');
  }

  sign(p: Omit<Presence, 'hint'>): string {
    return this.mac(p).toString('base64url');
  }

  /** Whether the announcement was made with our key (constant time). */
  holds(p: Presence): boolean {
    const given = Buffer.from(p.hint, 'base64url');
    return given.length === HINT_BYTES && crypto.timingSafeEqual(given, this.mac(p));
  }

  private mac(p: Omit<Presence, 'hint'>): Buffer {
    return crypto.createHmac('sha256', this.#key).update(`${PURPOSE}\n${p.id}\n${p.bport}\n${p.pport}\n${p.nonce}`).digest().subarray(0, HINT_BYTES);
  }
}
