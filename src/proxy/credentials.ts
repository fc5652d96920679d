import * as crypto from 'node:crypto';
import type { LimitLog } from '../kernel/limit-log';
import { throttleKey, type AuthThrottle } from './auth-throttle';
import type { CredentialCheck, CredentialVerdict } from './request';

/** Constant-time comparison of a secret the client sent with the expected one (1 or 0), whatever the lengths. */
export function sameSecret(given: Buffer, expected: Buffer): number {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b) ? 1 : 0;
}

/**
 * The proxy's username/password (SOCKS5 RFC 1929, HTTP Basic), checked under
 * an AuthThrottle: a wrong password is answered late, and an address locked
 * out is refused without a check.
 */
export class ProxyCredentials {
  private readonly username: Buffer;
  private readonly password: Buffer;

  constructor(
    auth: { readonly username: string; readonly password: string },
    private readonly throttle: AuthThrottle,
    private readonly limitLog: LimitLog,
  ) {
    this.username = Buffer.from(auth.username, 'utf8');
    this.password = Buffer.from(auth.password, 'utf8');
  }

  /** The check for one client connection; `signal` (the client went away) cuts a delayed answer short. */
  forClient(address: string, signal: AbortSignal): CredentialCheck {
    const key = throttleKey(address);
    return { check: (username, password) => this.check(key, username, password, signal) };
  }

  private async check(address: string, username: Buffer, password: Buffer, signal: AbortSignal): Promise<CredentialVerdict> {
    const lockedMs = this.throttle.lockedFor(address);
    if (lockedMs > 0) {
      this.limitLog.hit(
        'proxy-auth-locked',
        `proxy refuses logins from ${address} for ${Math.ceil(lockedMs / 1000)} s more after repeated failures (limits.authFailuresBeforeLockout, limits.authLockoutMs)`,
      );
      return 'locked-out';
    }
    if (sameSecret(username, this.username) & sameSecret(password, this.password)) {
      this.throttle.succeeded(address);
      return 'ok';
    }
    const { delayMs, lockedOut } = this.throttle.failed(address);
    if (lockedOut)
      this.limitLog.hit(
        'proxy-auth-lockout',
        `proxy locked out ${address} after repeated failed logins (limits.authFailuresBeforeLockout, limits.authLockoutMs)`,
      );
    await sleep(delayMs, signal);
    return 'wrong';
  }
}

/** Resolves after ms, or at once when `signal` aborts (no timer is left behind). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
