import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import type { Disposable } from '../../api/disposable';
import { Emitter } from '../../api/event';
import type { Logger } from '../../api/logger';
import type { NodeSettings } from '../../api/settings';
import type { TransportListener } from '../../api/transport';
import { SourceRegistry } from '../../dispatch/sources';
import { TunnelTable } from '../../dispatch/tunnels';
import { EventHub } from '../../kernel/events';
import { LimitLog } from '../../kernel/limit-log';
import { RefusalLog } from '../../kernel/refusal-log';
import { TOKENS } from '../../kernel/tokens';
import { unmapped } from '../../security/addresses';
import { NodeSecurity } from '../../security/node-security';
import type { Principal } from './access';
import { formatHostPort } from '../link/errors';
import { Network } from '../peers/network';
import { ControlHandler } from '../control/control';
import { InboundSession, type CtrlOperation, type SessionServices } from './session';

export type { CtrlOperation } from './session';

/** Sessions kept free for this machine's own CLI, whatever strangers do. */
const LOOPBACK_RESERVE = 16;

/**
 * The booster endpoint (bport): greets every connection with Hello and serves
 * peers and the CLI through an InboundSession each. Connections are bounded
 * in total and per address before any byte is read.
 */
@injectable()
export class Endpoint implements Disposable {
  private listener?: TransportListener;
  private readonly sessions = new Set<InboundSession>();
  private readonly perAddress = new Map<string, number>();
  private readonly ctrl = new Emitter<CtrlOperation>();
  readonly onCtrl = this.ctrl.event;
  private readonly log: Logger;
  private readonly limitLog: LimitLog;
  private readonly refusals: RefusalLog;

  constructor(
    private readonly network: Network,
    private readonly security: NodeSecurity,
    @inject(TOKENS.Settings) private readonly settings: NodeSettings,
    @inject(TOKENS.Logger) logger: Logger,
    private readonly events: EventHub,
    private readonly tunnels: TunnelTable,
    private readonly sources: SourceRegistry,
    /** Answers control requests; the composition root binds it to the node's handler (peers, state, reload). */
    private readonly control: ControlHandler,
  ) {
    this.log = logger.child('endpoint');
    this.limitLog = new LimitLog(this.log, settings.limits.limitLogIntervalMs, undefined, (limit, message) => events.limitHit.fire({ limit, message }));
    this.refusals = RefusalLog.warn(
      (n, s) => `endpoint refused more than ${n} requests within ${s} s`,
      this.log,
      this.limitLog,
      settings.limits.limitLogIntervalMs,
    );
  }

  get address(): { host: string; port: number } {
    if (!this.listener) throw new Error('endpoint is not listening');
    return this.listener.address;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Binds bport. `identity` is read by each session when it greets, so the
   * caller fills in the id once the bound ports are known (no session starts before).
   */
  async listen(identity: SessionServices['identity']): Promise<{ host: string; port: number }> {
    const transport = await this.network.transport();
    const secure = transport.secure ? (stream: import('node:stream').Duplex) => transport.secure!(stream, 'server') : undefined;
    const { limits } = this.settings;
    this.listener = await transport.listen({ host: this.settings.bind, port: this.settings.bport }, (stream, remote) => {
      const host = unmapped(remote.host);
      const label = formatHostPort(host, remote.port);
      const addressClass = this.security.classify(host);
      const fromHere = this.perAddress.get(host) ?? 0;
      const over = this.overLimit(addressClass === 'local', fromHere, host);
      if (over) {
        this.limitLog.hit(`sessions:${over}`, `endpoint refused a connection from ${label}: ${over} reached`);
        stream.destroy();
        return;
      }
      // LAN clients admitted to the proxy (--allow-clients) get nothing more here than strangers.
      const principal: Principal = addressClass === 'local' || addressClass === 'legacy-peer' ? addressClass : 'anonymous';
      const session = new InboundSession(stream, label, principal, {
        network: this.network,
        tunnels: this.tunnels,
        sources: this.sources,
        events: this.events,
        control: this.control,
        identity,
        heartbeatMs: this.settings.heartbeatMs,
        legacyHeartbeatMs: this.settings.legacyHeartbeatMs,
        linkReportMs: this.settings.linkReportMs,
        ctrl: (op) => this.ctrl.fire(op),
        log: this.log,
        limits,
        authenticator: this.security.authenticator,
        secure,
        refusals: this.refusals,
      });
      this.sessions.add(session);
      this.perAddress.set(host, fromHere + 1);
      session.onClose(() => {
        this.sessions.delete(session);
        const left = (this.perAddress.get(host) ?? 1) - 1;
        if (left > 0) this.perAddress.set(host, left);
        else this.perAddress.delete(host);
      });
      session.start();
    });
    return this.listener.address;
  }

  /** Which session limit a new connection would break, if any; this machine keeps LOOPBACK_RESERVE sessions for itself. */
  private overLimit(local: boolean, fromHere: number, host: string): string | undefined {
    const { maxSessions, maxSessionsPerIp } = this.settings.limits;
    if (this.sessions.size >= maxSessions - (local ? 0 : LOOPBACK_RESERVE)) return `limits.maxSessions ${maxSessions}`;
    if (!local && fromHere >= maxSessionsPerIp) return `limits.maxSessionsPerIp ${maxSessionsPerIp} from ${host}`;
    return undefined;
  }

  dispose(): void {
    this.listener?.dispose();
    for (const s of [...this.sessions]) s.dispose();
    this.sessions.clear();
    this.ctrl.dispose();
  }
}
