import type { Disposable } from '../api/disposable';

/** A heartbeat as it crosses the wire: times are the sender's wall clock (epoch ms). */
export interface Beat {
  readonly hops: number;
  /** When the receiver should answer (sender's clock). */
  readonly ttl: number;
  /** When the sender sent it (header sentAt), if known. */
  readonly sentAt?: number;
}

export interface HeartbeatOptions {
  /** T: how long we ask the other side to wait before answering. */
  readonly periodMs: number;
  /** Longest we honour the other side's request to wait. */
  readonly maxWaitMs?: number;
  readonly send: (beat: { hops: number; ttl: number }) => void;
  /** The other side went silent: called once; the keeper stops. */
  readonly onSilence: (reason: string) => void;
  /** A beat that cannot be honoured (already expired); the keeper carries on. */
  readonly onRejected?: (reason: string) => void;
  readonly now?: () => number;
}

/**
 * Heartbeat ping-pong of PROTOCOL.md, improved: the wait asked by the other
 * side is read as a duration (ttl − sentAt, both on its clock), so clock skew
 * between machines does not matter; after each beat we send, the other side
 * must answer within T plus a grace period, so a frozen peer is noticed in
 * about 2.5·T at worst. Everything runs on timers: no packet waits on it.
 */
export class HeartbeatKeeper implements Disposable {
  private replyTimer?: NodeJS.Timeout;
  private deadline?: NodeJS.Timeout;
  private stopped = false;
  private readonly now: () => number;
  private readonly grace: number;
  private readonly maxWait: number;

  constructor(private readonly options: HeartbeatOptions) {
    this.now = options.now ?? Date.now;
    this.grace = Math.max(250, options.periodMs / 2);
    this.maxWait = options.maxWaitMs ?? 30_000;
  }

  /** The wiring side starts the exchange. */
  start(): void {
    this.beat(1);
  }

  /** The other side is expected to start; it must do so within about 2·T. */
  expect(): void {
    this.arm(2 * this.options.periodMs + this.grace);
  }

  receive(beat: Beat): void {
    if (this.stopped) return;
    const asked = beat.sentAt !== undefined ? beat.ttl - beat.sentAt : beat.ttl - this.now();
    if (beat.sentAt !== undefined && asked < 0) {
      this.options.onRejected?.(`heartbeat ttl is ${-asked} ms before its own send time`);
      return;
    }
    this.disarm();
    clearTimeout(this.replyTimer);
    const wait = Math.min(Math.max(0, asked), this.maxWait);
    this.replyTimer = setTimeout(() => this.beat(beat.hops + 1), wait);
    this.replyTimer.unref?.();
    // While we hold the beat, the other side waits for us; silence is only possible after we answer.
  }

  dispose(): void {
    this.stopped = true;
    clearTimeout(this.replyTimer);
    this.disarm();
  }

  private beat(hops: number): void {
    if (this.stopped) return;
    this.options.send({ hops, ttl: this.now() + this.options.periodMs });
    this.arm(this.options.periodMs + this.grace);
  }

  private arm(ms: number): void {
    this.disarm();
    this.deadline = setTimeout(() => {
      if (this.stopped) return;
      this.dispose();
      this.options.onSilence(`no heartbeat for ${ms} ms`);
    }, ms);
    this.deadline.unref?.();
  }

  private disarm(): void {
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = undefined;
  }
}
