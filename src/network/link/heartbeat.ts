import type { Disposable } from '../../api/disposable';

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
  /** How long after each beat we send the answer must arrive; default T plus a grace of max(250 ms, T/2). */
  readonly deadlineMs?: number;
  /** Longest we honour the other side's request to wait. */
  readonly maxWaitMs?: number;
  readonly send: (beat: { hops: number; ttl: number }) => void;
  /** The other side went silent: called once; the keeper stops. */
  readonly onSilence: (reason: string) => void;
  /** A beat that cannot be honoured (already expired); the keeper carries on. */
  readonly onRejected?: (reason: string) => void;
  readonly now?: () => number;
}

/** The heartbeat settings the timing is derived from (NodeSettings). */
export interface HeartbeatSettings {
  readonly heartbeatMs: number;
  readonly legacyHeartbeatMs: number;
}

/** What we ask of the other side (T) and how long it has to answer each beat. */
export interface HeartbeatTiming {
  readonly periodMs: number;
  readonly deadlineMs: number;
}

/**
 * A booster.v1 node reads the ttl we send as a duration (ttl − sentAt): it gets
 * the fast period, and a frozen one is noticed in about 2.5·T. A 0.3 node reads
 * it as a time on its own clock and answers when its clock reaches it, so with
 * our clock s ms ahead it waits T + s (and drops a beat whose ttl has passed):
 * it gets 0.3's own T (8 s) and 2·T to answer, which holds for any skew within
 * ±T minus the round trip (±5 s with the defaults).
 */
export function heartbeatTiming(legacy: boolean, settings: HeartbeatSettings): HeartbeatTiming {
  if (legacy) return { periodMs: settings.legacyHeartbeatMs, deadlineMs: 2 * settings.legacyHeartbeatMs };
  return { periodMs: settings.heartbeatMs, deadlineMs: settings.heartbeatMs + graceMs(settings.heartbeatMs) };
}

function graceMs(periodMs: number): number {
  return Math.max(250, periodMs / 2);
}

/**
 * Heartbeat ping-pong of docs/protocol.md, improved: the wait asked by the other
 * side is read as a duration (ttl − sentAt, both on its clock), so its clock
 * may be skewed against ours; after each beat we send, the other side must
 * answer within the deadline (see heartbeatTiming: what we ask a 0.3 node
 * depends on its clock, what we ask a booster node does not). Everything runs
 * on timers: no packet waits on it.
 */
export class HeartbeatKeeper implements Disposable {
  private replyTimer?: NodeJS.Timeout;
  private deadline?: NodeJS.Timeout;
  private stopped = false;
  private readonly now: () => number;
  private readonly deadlineMs: number;
  private readonly maxWait: number;
  /** When our last beat left and how long we asked the other side to hold it (for the RTT). */
  private lastSent?: { at: number; wait: number };
  private rtt?: number;

  constructor(private readonly options: HeartbeatOptions) {
    this.now = options.now ?? Date.now;
    this.deadlineMs = options.deadlineMs ?? options.periodMs + graceMs(options.periodMs);
    this.maxWait = options.maxWaitMs ?? 30_000;
  }

  /**
   * Heartbeat round trip, ms (EWMA): the time from our beat to its answer
   * minus the wait we asked for. Only measured when the answer carries its
   * send time (booster.v1): a 0.3 node reads our ttl on its own clock, so its
   * hold time, hence the RTT, is unknown. Includes timer lateness (~1 ms).
   */
  get rttMs(): number | undefined {
    return this.rtt;
  }

  /** The wiring side starts the exchange. */
  start(): void {
    this.beat(1);
  }

  /** The other side is expected to start; it must do so within T plus the deadline. */
  expect(): void {
    this.arm(this.options.periodMs + this.deadlineMs);
  }

  receive(beat: Beat): void {
    if (this.stopped) return;
    const asked = beat.sentAt !== undefined ? beat.ttl - beat.sentAt : beat.ttl - this.now();
    if (beat.sentAt !== undefined && asked < 0) {
      this.options.onRejected?.(`heartbeat ttl is ${-asked} ms before its own send time`);
      return;
    }
    this.disarm();
    if (this.lastSent && beat.sentAt !== undefined) {
      const sample = Math.max(0, this.now() - this.lastSent.at - this.lastSent.wait);
      this.rtt = this.rtt === undefined ? sample : 0.7 * this.rtt + 0.3 * sample;
    }
    this.lastSent = undefined;
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
    const at = this.now();
    this.options.send({ hops, ttl: at + this.options.periodMs });
    // The other side holds the beat min(asked, its own cap): assume it shares our cap.
    this.lastSent = { at, wait: Math.min(this.options.periodMs, this.maxWait) };
    this.arm(this.deadlineMs);
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
