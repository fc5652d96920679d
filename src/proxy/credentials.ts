import * as crypto from 'node:crypto';

/** Constant-time comparison of a secret the client sent with the expected one (1 or 0), whatever the lengths. */
export function sameSecret(given: Buffer, expected: Buffer): number {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b) ? 1 : 0;
}
