import 'reflect-metadata';
import { inject, injectable, type InjectionToken } from 'tsyringe';
import type { Logger } from '../api/logger';
import type { NodeSettings } from '../api/settings';
import { Dispatcher } from '../dispatch/dispatcher';
import { PolicyManager } from '../dispatch/policies';
import { RuleSet } from '../dispatch/rules';
import { SourceRegistry } from '../dispatch/sources';
import { EventHub } from '../kernel/events';
import { LimitLog } from '../kernel/limit-log';
import { TOKENS } from '../kernel/tokens';
import { ControlHandler } from '../network/control/control';
import { SourceReporter } from '../network/control/source-report';
import { Network } from '../network/peers/network';
import { nodeProxyAccess } from '../proxy/access';
import { ProxyServer } from '../proxy/server';
import { NodeSecurity } from '../security/node-security';
import { ConfigReloader } from '../state/config-reloader';
import type { PeerEntry } from '../state/peer-entry';
import { PeerWiring } from '../state/peer-wiring';
import type { ConfigLayer } from '../state/reload';
import type { StateKeeper } from '../state/state-keeper';

/**
 * The node-level classes below give the container a constructor to inject:
 * each takes its collaborators as parameters and turns the settings into the
 * plain arguments the layer below expects (ports, limits, log scopes), so
 * src/proxy, src/network and src/state stay free of the node's settings
 * shape and nobody wires them by hand.
 */

/** What one run of a node starts from besides its settings (BoosterNode's options). */
export interface NodeRun {
  /** Peers to wire at start (the config file's, then the state file's). */
  readonly peers?: readonly PeerEntry[];
  /** The state file, when the node keeps one. */
  readonly state?: StateKeeper;
  /** The config the node started from, and how to read it again (booster ctrl reload, SIGHUP). */
  readonly config?: { readonly layer: ConfigLayer; readonly read: () => ConfigLayer };
}

export const NODE_RUN = Symbol('NodeRun') as InjectionToken<NodeRun>;

/** The proxy port (pport), over the dispatcher, admitting who the node's security and settings allow. */
@injectable()
export class NodeProxyServer extends ProxyServer {
  constructor(
    dispatcher: Dispatcher,
    security: NodeSecurity,
    events: EventHub,
    @inject(TOKENS.Settings) settings: NodeSettings,
    @inject(TOKENS.Logger) logger: Logger,
  ) {
    super(dispatcher, logger.child('proxy'), {
      host: settings.bind,
      port: settings.pport,
      handshakeTimeoutMs: settings.handshakeTimeoutMs,
      auth: settings.auth,
      access: nodeProxyAccess(security, settings.openProxy),
      limits: settings.limits,
      onLimitHit: (limit, message) => events.limitHit.fire({ limit, message }),
      onRejected: (e) => events.proxyRejected.fire(e),
    });
  }
}

/** Op "sources": every peer plus the local sources (direct and each interface address). */
@injectable()
export class NodeSourceReporter extends SourceReporter {
  constructor(sources: SourceRegistry, policies: PolicyManager, @inject(TOKENS.Settings) settings: NodeSettings) {
    super(sources, policies, () => settings.limits.maxPeers + sources.localLinks().length);
  }
}

/** The configured peers, retried every settings.reconnectMs until they answer; saved to the state file if there is one. */
@injectable()
export class NodePeerWiring extends PeerWiring {
  constructor(network: Network, @inject(TOKENS.Settings) settings: NodeSettings, @inject(TOKENS.Logger) logger: Logger, @inject(NODE_RUN) run: NodeRun) {
    super(network, logger.child('peers'), settings.reconnectMs, run.state);
  }
}

/** `booster ctrl reload` and SIGHUP: what a reload may change (policy, rules replaced as a whole, peers, the saved policy and rules). */
@injectable()
export class NodeReload {
  private readonly reloader?: ConfigReloader;

  constructor(
    policies: PolicyManager,
    rules: RuleSet,
    wiring: PeerWiring,
    @inject(TOKENS.Settings) settings: NodeSettings,
    @inject(TOKENS.Logger) logger: Logger,
    @inject(NODE_RUN) run: NodeRun,
  ) {
    if (!run.config) return;
    this.reloader = new ConfigReloader(
      run.config.layer,
      run.config.read,
      {
        running: settings,
        maxRules: settings.limits.maxRules,
        usePolicy: (name) => policies.use(name),
        setRules: (list) => {
          while (rules.list().length > 0) rules.remove(rules.list().length - 1);
          for (const rule of list) rules.add(rule);
        },
        wire: (entry) => wiring.wireAll([entry]),
        unwire: (address) => wiring.unwire(address),
        forgetSaved: async (key) => run.state?.forget(key),
      },
      logger.child('reload'),
    );
  }

  /** Whether this node was started from a config it can read again. */
  get available(): boolean {
    return this.reloader !== undefined;
  }

  /** Resolves to what changed, in words. */
  reload(): Promise<string> {
    if (!this.reloader) return Promise.reject(new Error('this node was not started from a config it can read again'));
    return this.reloader.reload();
  }
}

/** The control plane of a node: policy, rules, sources, peers, state file and reload; refusals over a limit logged under "control". */
@injectable()
export class NodeControlHandler extends ControlHandler {
  constructor(
    policies: PolicyManager,
    rules: RuleSet,
    reporter: SourceReporter,
    wiring: PeerWiring,
    reload: NodeReload,
    events: EventHub,
    @inject(TOKENS.Settings) settings: NodeSettings,
    @inject(TOKENS.Logger) logger: Logger,
    @inject(NODE_RUN) run: NodeRun,
  ) {
    const limitLog = new LimitLog(logger.child('control'), settings.limits.limitLogIntervalMs, undefined, (limit, message) =>
      events.limitHit.fire({ limit, message }),
    );
    super(policies, rules, limitLog, reporter, { peers: wiring, state: run.state, reload: reload.available ? () => reload.reload() : undefined });
  }
}
