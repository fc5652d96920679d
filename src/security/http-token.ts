import * as crypto from 'node:crypto';
import type { NetworkKey } from './key';

/** The bearer token HTTP monitors require off loopback: a subkey of the network key, hex. */
export function httpToken(key: NetworkKey): string {
  return key.derive('booster http v1').toString('hex');
}

/** Constant-time check of a presented token (any length) against the expected one. */
export function tokenMatches(expected: string, presented: string): boolean {
  // Hashing first gives equal lengths, so timingSafeEqual never throws and the length is not leaked.
  const a = crypto.createHash('sha256').update(expected).digest();
  const b = crypto.createHash('sha256').update(presented).digest();
  return crypto.timingSafeEqual(a, b);
}
