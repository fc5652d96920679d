import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import type { Disposable } from '../api/disposable';
import { Emitter } from '../api/event';
import type { Logger } from '../api/logger';
import type { NodeSettings } from '../api/settings';
import type { TransportListener } from '../api/transport';
import { TOKENS } from '../core/tokens';
import { Network } from './network';
import { ProtocolLink } from './protocol';
import { InboundSession, type SessionServices } from './session';
import { formatHostPort } from './errors';

export type CtrlOperation = 'stop' | 'restart';

/**
 * The booster endpoint (bport): greets every connection with Hello and serves
 * peers and the CLI (connect, disconnect, notify, heartbeat, ctrl, monitor, and
 * booster's extensions for clients that announce them).
 */
@injectable()
export class Endpoint implements Disposable {
  private listener?: TransportListener;
  private readonly sessions = new Set<InboundSession>();
  private readonly ctrl = new Emitter<CtrlOperation>();
  readonly onCtrl = this.ctrl.event;
  private readonly log: Logger;

  constructor(
    private readonly network: Network,
    @inject(TOKENS.Settings) private readonly settings: NodeSettings,
    @inject(TOKENS.Logger) logger: Logger,
  ) {
    this.log = logger.child('endpoint');
  }

  get address(): { host: string; port: number } {
    if (!this.listener) throw new Error('endpoint is not listening');
    return this.listener.address;
  }

  async listen(services: Omit<SessionServices, 'ctrl' | 'log'>): Promise<{ host: string; port: number }> {
    const transport = await this.network.transport();
    this.listener = await transport.listen({ host: this.settings.bind, port: this.settings.bport }, (stream, remote) => {
      const label = formatHostPort(remote.host, remote.port);
      const link = new ProtocolLink(stream, label, this.log);
      const session = new InboundSession(link, remote, {
        ...services,
        ctrl: (op) => this.ctrl.fire(op),
        log: this.log,
      });
      this.sessions.add(session);
      link.onClose(() => {
        session.dispose();
        this.sessions.delete(session);
      });
      session.start();
    });
    return this.listener.address;
  }

  dispose(): void {
    this.listener?.dispose();
    for (const s of this.sessions) s.dispose();
    this.sessions.clear();
    this.ctrl.dispose();
  }
}
