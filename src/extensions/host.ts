import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { DisposableStore, type Disposable } from '../api/disposable';
import type { Dialer } from '../api/dialer';
import type { Logger } from '../api/logger';
import type { Monitor } from '../api/monitor';
import type { ContributionKind, PluginContext, PluginModule } from '../api/plugin';
import type { PolicyFactory } from '../api/policy';
import type { NodeSettings } from '../api/settings';
import type { Transport } from '../api/transport';
import { EventHub } from '../core/events';
import { TOKENS } from '../core/tokens';
import { SourceRegistry } from '../dispatch/sources';
import { NodeSecurity } from '../security/node-security';
import { ContributionRegistry } from './contributions';
import { PluginError } from './errors';
import { declaredContributions, inspectPlugins, pluginState, type InspectedPlugin, type PluginState, type PluginStatus } from './inventory';
import { activationEventFor, type PluginDescription, type ValidatedPlugin } from './manifest';

interface Loaded {
  readonly inspected: InspectedPlugin;
  readonly plugin: ValidatedPlugin;
  status: PluginStatus;
  error?: string;
  activation?: Promise<void>;
  subscriptions?: DisposableStore;
  module?: PluginModule;
}

/** The contribution registries every plugin registers into. */
@injectable()
export class Contributions {
  readonly policies = new ContributionRegistry<PolicyFactory>('policies');
  readonly dialers = new ContributionRegistry<Dialer>('dialers');
  readonly transports = new ContributionRegistry<Transport>('transports');
  readonly monitors = new ContributionRegistry<Monitor>('monitors');
}

/**
 * Loads plugins VS Code style: validates every manifest up front, activates a
 * plugin on its activation events, hands it a context whose registrations are
 * checked against what it declared, and disposes them on deactivation. A
 * faulty plugin is reported and skipped; the others and the node carry on.
 */
@injectable()
export class ExtensionHost implements Disposable {
  private readonly loaded: Loaded[] = [];
  private readonly log: Logger;

  constructor(
    @inject(TOKENS.PluginDescriptions) descriptions: readonly PluginDescription[],
    @inject(TOKENS.Settings) private readonly settings: NodeSettings,
    @inject(TOKENS.Logger) logger: Logger,
    private readonly contributions: Contributions,
    private readonly sources: SourceRegistry,
    private readonly events: EventHub,
    private readonly security: NodeSecurity,
  ) {
    this.log = logger.child('plugins');
    for (const inspected of inspectPlugins(descriptions)) {
      this.loaded.push({ inspected, plugin: inspected.plugin, status: inspected.error ? 'invalid' : 'inactive', error: inspected.error });
      if (inspected.error) this.report(inspected.plugin.description.name, inspected.error);
    }
  }

  get plugins(): PluginState[] {
    return this.loaded.map((l) => pluginState(l.inspected, l.status, l.error));
  }

  /** Which valid plugin declares a contribution, if any. */
  declarer(kind: ContributionKind, id: string): string | undefined {
    const found = this.loaded.find((l) => l.status !== 'invalid' && l.plugin.ok && l.plugin.manifest.contributes[kind]?.some((c) => c.id === id));
    return found?.plugin.description.name;
  }

  /** Every id of a kind that some valid plugin declares. */
  declared(kind: ContributionKind): string[] {
    return this.loaded.flatMap((l) => (l.status !== 'invalid' && l.plugin.ok ? (l.plugin.manifest.contributes[kind] ?? []).map((c) => c.id) : []));
  }

  /** Activates the plugins that run at startup. */
  async activateStartup(): Promise<void> {
    await this.activateWhere((events) => events.includes('onStartup') || events.includes('*'));
  }

  /** Makes sure the plugin that declares a contribution is active; true if it is now registered. */
  async activateContribution(kind: ContributionKind, id: string): Promise<boolean> {
    const registry = this.contributions[kind] as ContributionRegistry<unknown>;
    if (registry.has(id)) return true;
    const event = activationEventFor(kind, id);
    await this.activateWhere((events, l) => events.includes(event) || (l.plugin.ok && !!l.plugin.manifest.contributes[kind]?.some((c) => c.id === id)));
    return registry.has(id);
  }

  async deactivateAll(): Promise<void> {
    for (const l of [...this.loaded].reverse()) await this.deactivate(l);
  }

  dispose(): void {
    void this.deactivateAll();
  }

  private async activateWhere(pred: (events: readonly string[], l: Loaded) => boolean): Promise<void> {
    const targets = this.loaded.filter((l) => l.plugin.ok && l.status !== 'invalid' && pred(l.plugin.manifest.activationEvents, l));
    await Promise.all(targets.map((l) => this.activate(l)));
  }

  private activate(l: Loaded): Promise<void> {
    if (l.status === 'failed' || l.status === 'invalid') return Promise.resolve();
    l.activation ??= this.doActivate(l);
    return l.activation;
  }

  private async doActivate(l: Loaded): Promise<void> {
    if (!l.plugin.ok) return;
    const { description, manifest, entry } = l.plugin;
    const name = description.name;
    const store = new DisposableStore();
    l.subscriptions = store;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(entry) as Partial<PluginModule> & { default?: Partial<PluginModule> };
      const pluginModule = (typeof mod.activate === 'function' ? mod : mod.default) as PluginModule | undefined;
      if (!pluginModule || typeof pluginModule.activate !== 'function') throw new Error(`${entry} exports no activate(context) function`);
      l.module = pluginModule;
      const context = this.createContext(l, store);
      await pluginModule.activate(context);
      for (const d of context.subscriptions) store.add(d);
      context.subscriptions.length = 0;
      const missing = declaredContributions(l.plugin).filter(([kind, id]) => this.contributions[kind].ownerOf(id) !== name);
      if (missing.length > 0) {
        this.log.warn(`plugin ${name} declares but did not register: ${missing.map(([k, id]) => `${k}:${id}`).join(', ')}`);
      }
      l.status = 'active';
      this.log.debug(`activated ${name}`, { version: description.version, events: manifest.activationEvents });
    } catch (err) {
      l.status = 'failed';
      l.error = `activate failed: ${err instanceof Error ? err.message : String(err)}`;
      this.report(name, l.error);
      safeDispose(store, this.log);
    }
  }

  private async deactivate(l: Loaded): Promise<void> {
    if (l.status !== 'active') return;
    l.status = 'inactive';
    l.activation = undefined;
    try {
      await l.module?.deactivate?.();
    } catch (err) {
      this.report(l.plugin.description.name, `deactivate failed: ${(err as Error).message}`);
    }
    if (l.subscriptions) safeDispose(l.subscriptions, this.log);
  }

  private createContext(l: Loaded, store: DisposableStore): PluginContext {
    if (!l.plugin.ok) throw new Error('unreachable');
    const { description, manifest } = l.plugin;
    const name = description.name;
    const subscriptions: Disposable[] = [];
    const register = <T>(kind: ContributionKind, id: string, value: T): Disposable => {
      if (!manifest.contributes[kind]?.some((c) => c.id === id)) {
        throw new PluginError(name, `registers ${kind} id "${id}" that its package.json does not declare in booster.contributes.${kind}`);
      }
      const d = (this.contributions[kind] as ContributionRegistry<T>).register(name, id, value);
      return store.add(d);
    };
    const log = this.log.child(name);
    return {
      plugin: { name, version: description.version, root: description.root },
      subscriptions,
      log,
      settings: pluginSettings(this.settings),
      options: this.settings.plugins[name] ?? {},
      policies: { register: (id, factory) => register('policies', id, factory) },
      dialers: { register: (dialer) => register('dialers', dialer.id, dialer) },
      transports: { register: (transport) => register('transports', transport.id, transport) },
      monitors: { register: (monitor) => register('monitors', monitor.id, monitor) },
      sources: {
        add: (source) => store.add(this.sources.add(source)),
        list: () => this.sources.list(),
        get: (id) => this.sources.get(id),
        reportProbe: (id, ok, reason) => this.sources.setDown(id, !ok, `probe: ${reason}`),
        onDidChange: this.events.onSourceChanged,
        onDidChangeHealth: this.events.onSourceHealthChanged,
      },
      events: this.events,
      security: this.security,
    };
  }

  private report(plugin: string, message: string): void {
    this.log.error(`plugin ${plugin}: ${message}`);
    this.events.pluginFault.fire({ plugin, message });
  }
}

function safeDispose(d: Disposable, log: Logger): void {
  try {
    d.dispose();
  } catch (err) {
    log.warn(`dispose failed: ${(err as Error).message}`);
  }
}


/** Settings as plugins see them: without the proxy password (the network key is never a setting). */
function pluginSettings(settings: NodeSettings): Readonly<NodeSettings> {
  const { auth, ...rest } = settings;
  return Object.freeze(auth ? { ...rest, auth: { username: auth.username, password: '(redacted)' } } : rest);
}
