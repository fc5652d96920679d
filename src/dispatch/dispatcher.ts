import 'reflect-metadata';
import * as net from 'node:net';
import { inject, injectable } from 'tsyringe';
import type { Dialer, DialResult } from '../api/dialer';
import type { Disposable } from '../api/disposable';
import type { Logger } from '../api/logger';
import type { NodeSettings } from '../api/settings';
import type { Candidate } from '../api/sources';
import { EventHub } from '../kernel/events';
import { TOKENS, type Clock } from '../kernel/tokens';
import type { Registry } from '../kernel/registry';
import { forbiddenForRemoteClients } from '../security/addresses';
import { describeError, DialFailure, replyFor, Socks5Reply } from '../kernel/connector-errors';
import { PolicyManager } from './policies';
import { RuleSet } from './rules';
import { SourceRegistry } from './sources';
import { TunnelTable } from './tunnels';
import type { Connector, DispatchRequest, OpenedUpstream } from '../kernel/connector';

/**
 * Errors that say the target, not the source, is at fault: they do not count
 * against a source's health. NotAllowed: a guard refused the target for this
 * client (or a peer's rules did), which says nothing about the source's link.
 */
const TARGET_FAULTS = new Set([Socks5Reply.ConnectionRefused, Socks5Reply.HostUnreachable, Socks5Reply.NotAllowed]);

/**
 * The one place a new connection's route is decided: rules narrow the
 * sources, the policy picks one, its dialer opens the upstream; a failed dial
 * moves on to the next best source not yet tried.
 */
@injectable()
export class Dispatcher implements Connector, Disposable {
  private readonly log: Logger;
  /** Dials under way, by source: cancelled at once when their source goes down. */
  private readonly inflight = new Map<string, Set<AbortController>>();
  private readonly healthSubscription: Disposable;

  constructor(
    private readonly sources: SourceRegistry,
    private readonly tunnels: TunnelTable,
    private readonly policies: PolicyManager,
    private readonly rules: RuleSet,
    @inject(TOKENS.Dialers) private readonly dialers: Registry<Dialer>,
    private readonly events: EventHub,
    @inject(TOKENS.Settings) private readonly settings: NodeSettings,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Logger) logger: Logger,
  ) {
    this.log = logger.child('dispatch');
    this.healthSubscription = events.onSourceHealthChanged((change) => {
      if (change.health === 'down') this.cancelDials(change.source.id, change.reason);
    });
  }

  dispose(): void {
    this.healthSubscription.dispose();
  }

  /**
   * A source was declared down (a peer's link dropped or went silent): dials
   * still heading to it cannot succeed in time, so they are cancelled now and
   * each connection moves on to the next source instead of waiting out the
   * dial timeout.
   */
  private cancelDials(sourceId: string, reason: string): void {
    const dials = this.inflight.get(sourceId);
    if (!dials) return;
    this.inflight.delete(sourceId);
    const err = Object.assign(new Error(`source went down while dialing (${reason})`), { name: 'SourceDownError', code: 'ESOURCEDOWN' });
    for (const controller of dials) controller.abort(err);
    this.log.debug(`cancelled ${dials.size} dial(s) via ${sourceId}: it went down`);
  }

  async open(request: DispatchRequest, signal: AbortSignal): Promise<OpenedUpstream> {
    const { target } = request;
    const targetFamily = net.isIP(target.host);
    const tried: string[] = [];
    const attempts: { sourceId: string; error: string }[] = [];
    let lastReply = Socks5Reply.NetworkUnreachable;
    /** The policy's last ranking, from `next` on: tried in order before the policy is asked again. */
    let ranked: readonly Candidate[] = [];
    let next = 0;
    for (;;) {
      const now = this.clock.now();
      const candidates = this.rules.filter(target.host, this.sources.available(), now).filter((c) => !tried.includes(c.id) && sameFamily(c, targetFamily));
      let choice: Candidate | undefined;
      // Still allowed and available now (a ranked source may have gone down meanwhile).
      while (!choice && next < ranked.length) {
        const id = ranked[next++].id;
        choice = candidates.find((c) => c.id === id);
      }
      if (!choice) {
        ranked = this.policies.decide({ target, now, tried }, candidates);
        choice = ranked[0];
        next = 1;
      }
      if (!choice) {
        const why =
          attempts.length === 0
            ? 'no source is available (all blocked, ejected or down)'
            : `every source failed: ${attempts.map((a) => `${a.sourceId}: ${a.error}`).join('; ')}`;
        throw new DialFailure(`cannot reach ${target.host}:${target.port}: ${why}`, lastReply, attempts);
      }
      tried.push(choice.id);
      const started = this.clock.now();
      const endDial = this.sources.beginDial(choice.id);
      try {
        const result = await this.dial(choice, request, signal);
        const latency = this.clock.now() - started;
        this.sources.recordDial(choice.id, true, latency);
        this.events.dial.fire({ target, sourceId: choice.id, ok: true, latencyMs: latency });
        this.rules.remember(target.host, choice.id, this.clock.now());
        const tunnel = this.tunnels.add(target, choice.id, request.protocol, request.client, this.sources.meter(choice.id));
        endDial();
        return { upstream: result.socket, bound: result.bound, source: choice, tunnel };
      } catch (err) {
        endDial();
        const latency = this.clock.now() - started;
        const error = describeError(err);
        lastReply = replyFor(err);
        attempts.push({ sourceId: choice.id, error });
        this.events.dial.fire({ target, sourceId: choice.id, ok: false, latencyMs: latency, error });
        if (signal.aborted) throw new DialFailure(`client went away while dialing ${target.host}:${target.port}`, lastReply, attempts);
        // A source that went down mid-dial is already out of rotation; its cancelled dial says nothing more.
        if (!TARGET_FAULTS.has(lastReply) && !isSourceDown(err) && !isFamilyMismatch(err)) this.sources.recordDial(choice.id, false, latency, error);
        this.log.debug(`dial ${target.host}:${target.port} via ${choice.label} failed: ${error}`);
      }
    }
  }

  private async dial(source: Candidate, request: DispatchRequest, clientSignal: AbortSignal): Promise<DialResult> {
    // The dialer is registered once its plugin is active: no await (a microtask hop per dial) unless it must be activated.
    const dialer = this.dialers.get(source.dialer) ?? (await this.dialerFor(source.dialer));
    // One controller for "client gone or too slow" (cheaper per connection than AbortSignal.any + timeout).
    const controller = new AbortController();
    const onClientGone = () => controller.abort(clientSignal.reason);
    if (clientSignal.aborted) onClientGone();
    clientSignal.addEventListener('abort', onClientGone, { once: true });
    const timer = setTimeout(() => controller.abort(Object.assign(new Error('dial timed out'), { name: 'TimeoutError' })), this.settings.dialTimeoutMs);
    let dials = this.inflight.get(source.id);
    if (!dials) this.inflight.set(source.id, (dials = new Set()));
    dials.add(controller);
    try {
      const guard = request.restricted ? forbiddenForRemoteClients : undefined;
      const dialing = dialer.dial({ target: request.target, source, signal: controller.signal, socketOptions: request.socketOptions, guard });
      const result = await this.unlessAborted(dialing, controller.signal, source.dialer);
      if (typeof (result as Partial<DialResult> | undefined)?.socket?.destroy !== 'function') {
        const message = 'dial resolved without a socket ({ socket: Duplex } expected)';
        this.dialerFault(source.dialer, message);
        throw Object.assign(new Error(`dialer ${source.dialer}: ${message}`), { socksReply: Socks5Reply.GeneralFailure });
      }
      if (controller.signal.aborted) {
        result.socket.destroy();
        if (isSourceDown(controller.signal.reason)) throw controller.signal.reason;
        throw Object.assign(new Error(`dial timed out after ${this.settings.dialTimeoutMs} ms`), { code: 'ETIMEDOUT' });
      }
      return result;
    } catch (err) {
      // Dialers report an abort in their own words; the reason it was aborted is what counts.
      if (isSourceDown(controller.signal.reason) && !clientSignal.aborted) throw controller.signal.reason;
      throw err;
    } finally {
      dials.delete(controller);
      if (dials.size === 0 && this.inflight.get(source.id) === dials) this.inflight.delete(source.id);
      clearTimeout(timer);
      clientSignal.removeEventListener('abort', onClientGone);
    }
  }

  /**
   * The dial's outcome, or, as soon as its signal aborts, the abort: a dialer
   * that ignores its signal cannot hold the connection (the client gets its
   * reply, the dial count and buffers are released by the caller). Such a
   * dialer is reported once it is still unsettled a dial timeout after the
   * abort; a socket it delivers late is destroyed.
   */
  private unlessAborted(dialing: Promise<DialResult>, signal: AbortSignal, dialerId: string): Promise<DialResult> {
    return new Promise((resolve, reject) => {
      let watchdog: NodeJS.Timeout | undefined;
      const onAbort = () => {
        reject(abortError(signal.reason, this.settings.dialTimeoutMs));
        watchdog = setTimeout(() => {
          this.dialerFault(
            dialerId,
            `dial ignored its abort signal: still pending ${this.settings.dialTimeoutMs} ms after it was aborted (${describeError(signal.reason)}); abandoned`,
          );
        }, this.settings.dialTimeoutMs);
        watchdog.unref?.();
      };
      const settle = () => {
        signal.removeEventListener('abort', onAbort);
        clearTimeout(watchdog);
      };
      // Promise.resolve: a plugin's dial() might return a non-native thenable (no extra hop for a native promise).
      Promise.resolve(dialing).then(
        (result) => {
          settle();
          if (signal.aborted) result?.socket?.destroy();
          resolve(result);
        },
        (err: unknown) => {
          settle();
          reject(err);
        },
      );
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private dialerFault(dialerId: string, message: string): void {
    const plugin = this.dialers.ownerOf(dialerId) ?? dialerId;
    this.log.warn(`dialer ${dialerId} (${plugin}): ${message}`);
    this.events.pluginFault.fire({ plugin, contribution: `dialers:${dialerId}`, message });
  }

  private async dialerFor(id: string): Promise<Dialer> {
    const dialer = await this.dialers.load(id);
    if (!dialer) throw Object.assign(new Error(`no plugin provides dialer "${id}"`), { socksReply: Socks5Reply.GeneralFailure });
    return dialer;
  }
}

/**
 * A source bound to a local address (an interface source) can only reach
 * targets of its address family; an address literal of the other family is
 * not for it (binding would fail with EINVAL, which says nothing of the link).
 */
function sameFamily(source: Candidate, targetFamily: number): boolean {
  if (targetFamily === 0 || !source.localAddress) return true;
  return net.isIP(source.localAddress) === targetFamily;
}

/** bind EINVAL: a local address of one family used for a target of the other. */
function isFamilyMismatch(err: unknown): boolean {
  const e = err as { code?: unknown; syscall?: unknown } | undefined;
  return e?.code === 'EINVAL' && (e.syscall === 'bind' || e.syscall === 'connect');
}

/** The error a dial ends with when its signal aborted: the reason it was aborted, in the proxy's terms. */
function abortError(reason: unknown, dialTimeoutMs: number): Error {
  if (isSourceDown(reason)) return reason as Error;
  if ((reason as { name?: unknown } | undefined)?.name === 'TimeoutError') {
    return Object.assign(new Error(`dial timed out after ${dialTimeoutMs} ms`), { code: 'ETIMEDOUT' });
  }
  return Object.assign(new Error('dial aborted: the client went away'), { name: 'AbortError', code: 'ABORT_ERR' });
}

function isSourceDown(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === 'ESOURCEDOWN';
}
