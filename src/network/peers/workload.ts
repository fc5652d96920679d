import { DEFAULT_LIMITS } from '../../kernel/defaults';
import { LimitError } from '../../kernel/limit-error';

/** From settings: `{ maxTargets: limits.maxPeerTargets, maxTargetLength: limits.maxTargetLength }`. */
export interface WorkloadLimits {
  readonly maxTargets: number;
  readonly maxTargetLength: number;
}

/**
 * A peer's workload as its ProxyUpdate stream tells it: open tunnels per
 * target. Removals for targets it never announced are ignored, so a stream
 * joined late (or events lost while a link was down) cannot go negative or
 * leave phantom load; a fresh link starts from zero and the peer resends its
 * open tunnels (our nodes do on Notify).
 *
 * Bounded: one map entry (the target and a count) per distinct target, at
 * most limits.maxPeerTargets of them, each at most limits.maxTargetLength
 * bytes. A peer that reports more is misbehaving; `apply` throws a LimitError.
 */
export class PeerWorkload {
  private readonly copies = new Map<string, number>();
  private count = 0;

  constructor(private readonly limits: WorkloadLimits = { maxTargets: DEFAULT_LIMITS.maxPeerTargets, maxTargetLength: DEFAULT_LIMITS.maxTargetLength }) {}

  get total(): number {
    return this.count;
  }

  /** Throws a LimitError (and changes nothing) if an added target would break a limit. */
  apply(target: string, operation: 'added' | 'removed'): void {
    const n = this.copies.get(target) ?? 0;
    if (operation === 'added') {
      if (n === 0) this.checkNewTarget(target);
      this.copies.set(target, n + 1);
      this.count++;
    } else if (n > 0) {
      if (n === 1) this.copies.delete(target);
      else this.copies.set(target, n - 1);
      this.count--;
    }
  }

  reset(): void {
    this.copies.clear();
    this.count = 0;
  }

  entries(): { target: string; copies: number }[] {
    return [...this.copies].map(([target, copies]) => ({ target, copies }));
  }

  private checkNewTarget(target: string): void {
    const { maxTargetLength, maxTargets } = this.limits;
    const length = Buffer.byteLength(target);
    if (length > maxTargetLength) {
      throw new LimitError(
        `reported a ${length}-byte target, longer than limits.maxTargetLength (${maxTargetLength} bytes); no host:port is that long`,
        'peer-target-too-long',
        'maxTargetLength',
      );
    }
    if (this.copies.size >= maxTargets) {
      throw new LimitError(
        `reported more than ${maxTargets} distinct open targets at once (limits.maxPeerTargets; raise it in the config file if a peer really is that busy)`,
        'too-many-peer-targets',
        'maxPeerTargets',
      );
    }
  }
}
