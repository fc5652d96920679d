import * as net from 'node:net';
import type { Limits } from '../api/settings';
import { unmapped } from '../security/addresses';
import { ipv6FromBytes, ipv6ToBytes } from './ip';

export type AuthThrottleLimits = Pick<Limits, 'authFailuresBeforeLockout' | 'authFailureDelayMs' | 'authLockoutMs'>;

/** The longest a failed login's reply is held back, however many failures came before. */
export const MAX_FAILURE_DELAY_MS = 4000;
/** Addresses tracked at once; past this the least recently failed one is forgotten. */
export const MAX_TRACKED = 10_000;

interface Failures {
  count: number;
  lastAt: number;
  lockedUntil: number;
}

/** What to do with a failed login. */
export interface FailureVerdict {
  /** Hold the reply back this long. */
  readonly delayMs: number;
  /** This failure locked the address out. */
  readonly lockedOut: boolean;
}

/**
 * Slows down password guessing on the proxy, per client address: the k-th
 * failure in a row is answered after authFailureDelayMs × 2^(k-1) (at most
 * MAX_FAILURE_DELAY_MS), and after authFailuresBeforeLockout failures the
 * address is refused without a check for authLockoutMs. A success clears the
 * address. Memory is bounded: at most `maxTracked` addresses are remembered.
 */
export class AuthThrottle {
  private readonly byAddress = new Map<string, Failures>();

  constructor(
    private readonly limits: AuthThrottleLimits,
    private readonly now: () => number = Date.now,
    private readonly maxTracked = MAX_TRACKED,
  ) {}

  /** Addresses currently remembered (for tests and status). */
  get tracked(): number {
    return this.byAddress.size;
  }

  /** Milliseconds left of `address`'s lockout; 0 when it may try. */
  lockedFor(address: string): number {
    const f = this.current(address);
    return f ? Math.max(0, f.lockedUntil - this.now()) : 0;
  }

  failed(address: string): FailureVerdict {
    const t = this.now();
    const f = this.current(address) ?? { count: 0, lastAt: t, lockedUntil: 0 };
    f.count++;
    f.lastAt = t;
    // Re-inserted so that the map's order is least recently failed first.
    this.byAddress.delete(address);
    this.byAddress.set(address, f);
    if (this.byAddress.size > this.maxTracked) this.byAddress.delete(this.byAddress.keys().next().value as string);
    const lockedOut = f.count >= this.limits.authFailuresBeforeLockout;
    if (lockedOut) f.lockedUntil = t + this.limits.authLockoutMs;
    const delayMs = Math.min(MAX_FAILURE_DELAY_MS, this.limits.authFailureDelayMs * 2 ** Math.min(f.count - 1, 30));
    return { delayMs, lockedOut };
  }

  succeeded(address: string): void {
    this.byAddress.delete(address);
  }

  /** The address's record, unless it is stale: a lockout that ended, or failures older than a lockout period. */
  private current(address: string): Failures | undefined {
    const f = this.byAddress.get(address);
    if (!f) return undefined;
    const t = this.now();
    const lockoutOver = f.lockedUntil > 0 && t >= f.lockedUntil;
    const forgotten = f.lockedUntil === 0 && t - f.lastAt >= this.limits.authLockoutMs;
    if (lockoutOver || forgotten) {
      this.byAddress.delete(address);
      return undefined;
    }
    return f;
  }
}

/**
 * The address failures are counted on: an IPv4 address, or an IPv6 client's
 * /64 (one host usually has a whole /64 to pick addresses from).
 */
export function throttleKey(address: string): string {
  const a = unmapped(address);
  if (!net.isIPv6(a)) return a;
  const prefix = Buffer.alloc(16);
  ipv6ToBytes(a)!.copy(prefix, 0, 0, 8);
  return `${ipv6FromBytes(prefix)}/64`;
}
