import 'reflect-metadata';
import type { DependencyContainer } from 'tsyringe';
import type { Event } from '../api/event';
import type { NodeSettings } from '../api/settings';
import type { PolicyManager } from '../dispatch/policies';
import type { RuleSet } from '../dispatch/rules';
import type { SourceRegistry } from '../dispatch/sources';
import type { TunnelTable } from '../dispatch/tunnels';
import type { ExtensionHost } from '../extensions/host';
import type { CtrlOperation } from '../network/sessions/endpoint';
import type { Network } from '../network/peers/network';
import type { EventHub } from '../kernel/events';
import { composeNode, type NodeDependencies } from './container';
import type { Address, NodeRuntime } from './runtime';

export type { Address } from './runtime';

/** What a node starts from: settings, key, logger, plugins, and the run's peers, state file and config (see NodeDependencies). */
export type NodeOptions = NodeDependencies;

/**
 * One running booster node: its object graph (NodeRuntime) is built by the
 * composition root in a fresh container; this class only starts and stops it
 * and exposes the parts tests and the CLI use. `stop()` releases everything it started.
 */
export class BoosterNode {
  private stopped?: Promise<void>;

  private constructor(
    private readonly container: DependencyContainer,
    private readonly runtime: NodeRuntime,
  ) {}

  /** Builds and starts a node; rejects (having released what it started) if it cannot. */
  static async start(options: NodeOptions): Promise<BoosterNode> {
    const { container, runtime } = composeNode(options);
    const node = new BoosterNode(container, runtime);
    try {
      await runtime.boot();
      return node;
    } catch (err) {
      await node.stop();
      throw err;
    }
  }

  get settings(): NodeSettings {
    return this.runtime.settings;
  }

  /** This node's own id in the 0.3 sense: sha1("localhost" + bport + pport), with the bound ports. */
  get id(): string {
    return this.runtime.id;
  }

  get proxyAddress(): Address {
    const addr = this.runtime.proxyAddress;
    if (!addr) throw new Error('node is not listening');
    return addr;
  }

  get endpointAddress(): Address {
    const addr = this.runtime.endpointAddress;
    if (!addr) throw new Error('node is not listening');
    return addr;
  }

  /** A client asked this node to stop or restart (booster ctrl). */
  get onCtrl(): Event<CtrlOperation> {
    return this.runtime.endpoint.onCtrl;
  }

  get network(): Network {
    return this.runtime.network;
  }
  get events(): EventHub {
    return this.runtime.events;
  }
  get plugins(): ExtensionHost {
    return this.runtime.plugins;
  }
  get policies(): PolicyManager {
    return this.runtime.policies;
  }
  get sources(): SourceRegistry {
    return this.runtime.sources;
  }
  get tunnels(): TunnelTable {
    return this.runtime.tunnels;
  }
  get rules(): RuleSet {
    return this.runtime.rules;
  }

  /**
   * Re-reads the config file and applies what can change at run time (see
   * applyReload); resolves to what changed, in words. A config that cannot be
   * read or used is logged as an error and changes nothing.
   */
  reload(): Promise<string> {
    return this.runtime.reload();
  }

  /** Stops accepting, lets open tunnels drain (bounded), deactivates plugins, releases everything. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.runtime.stop();
      await this.container.dispose();
    })();
    return this.stopped;
  }
}
