import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { DisposableStore, type Disposable } from '../api/disposable';
import type { Logger } from '../api/logger';
import type { ContributionKind, PluginContext, PluginModule } from '../api/plugin';
import type { NodeSettings } from '../api/settings';
import { PLUGIN_API_VERSION } from '../api/version';
import { EventHub } from '../kernel/events';
import { TOKENS } from '../kernel/tokens';
import type { SourceStore } from '../kernel/registry';
import { NodeSecurity } from '../security/node-security';
import { Contributions, type ContributionRegistry } from './contributions';
import { declaredContributions, inspectPlugins, pluginState, type InspectedPlugin, type PluginState, type PluginStatus } from './inventory';
import { activationEventFor, type PluginDescription, type ValidatedPlugin } from './manifest';
import { createPluginContext, type ContextServices } from './plugin-context';
import { PLUGIN_DESCRIPTIONS } from './tokens';

interface Loaded {
  readonly inspected: InspectedPlugin;
  readonly plugin: ValidatedPlugin;
  status: PluginStatus;
  error?: string;
  activation?: Promise<void>;
  subscriptions?: DisposableStore;
  context?: PluginContext;
  module?: PluginModule;
}

export { Contributions } from './contributions';

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
  private readonly contextServices: ContextServices;

  constructor(
    @inject(PLUGIN_DESCRIPTIONS) descriptions: readonly PluginDescription[],
    @inject(TOKENS.Settings) private readonly settings: NodeSettings,
    @inject(TOKENS.Logger) logger: Logger,
    private readonly contributions: Contributions,
    @inject(TOKENS.Sources) private readonly sources: SourceStore,
    private readonly events: EventHub,
    private readonly security: NodeSecurity,
  ) {
    this.log = logger.child('plugins');
    this.contextServices = { settings, contributions, sources, events, security, log: this.log, report: (p, m, c) => this.report(p, m, c) };
    for (const inspected of inspectPlugins(descriptions)) {
      this.loaded.push({ inspected, plugin: inspected.plugin, status: inspected.error ? 'invalid' : 'inactive', error: inspected.error });
      if (inspected.error) this.report(inspected.plugin.description.name, inspected.error);
      else if (inspected.plugin.ok && !inspected.plugin.manifest.engine) {
        this.log.warn(`plugin ${inspected.plugin.description.name} states no "engines.booster" range; assuming it works with plugin API ${PLUGIN_API_VERSION}`);
      }
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
    let context: PluginContext | undefined;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(entry) as Partial<PluginModule> & { default?: Partial<PluginModule> };
      const pluginModule = (typeof mod.activate === 'function' ? mod : mod.default) as PluginModule | undefined;
      if (!pluginModule || typeof pluginModule.activate !== 'function') throw new Error(`${entry} exports no activate(context) function`);
      l.module = pluginModule;
      const ctx = (context = l.context = createPluginContext(this.contextServices, l.plugin, store));
      const ms = this.settings.limits.pluginActivateTimeoutMs;
      const activation = Promise.resolve().then(() => pluginModule.activate(ctx));
      // A late activation keeps running (it cannot be stopped), but whatever it registers or pushes is released.
      activation.then(
        () => {
          if (l.status === 'failed') disposeSubscriptions(ctx, store, this.log);
        },
        () => undefined,
      );
      await withTimeout(activation, ms, `activate did not finish within ${ms} ms`);
      for (const d of ctx.subscriptions) store.add(d);
      ctx.subscriptions.length = 0;
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
      if (context) disposeSubscriptions(context, store, this.log);
      else safeDispose(store, this.log);
    }
  }

  private async deactivate(l: Loaded): Promise<void> {
    if (l.status !== 'active') return;
    l.status = 'inactive';
    l.activation = undefined;
    const ms = this.settings.limits.pluginDeactivateTimeoutMs;
    try {
      const module = l.module;
      await withTimeout(
        Promise.resolve().then(() => module?.deactivate?.()),
        ms,
        `did not finish within ${ms} ms`,
      );
    } catch (err) {
      this.report(l.plugin.description.name, `deactivate failed: ${(err as Error).message}`);
    }
    // Including what the plugin pushed into context.subscriptions after it activated.
    if (l.subscriptions && l.context) disposeSubscriptions(l.context, l.subscriptions, this.log);
    else if (l.subscriptions) safeDispose(l.subscriptions, this.log);
  }

  private report(plugin: string, message: string, contribution?: string): void {
    this.log.error(`plugin ${plugin}: ${message}`);
    this.events.pluginFault.fire(contribution ? { plugin, contribution, message } : { plugin, message });
  }
}

function safeDispose(d: Disposable, log: Logger): void {
  try {
    d.dispose();
  } catch (err) {
    log.warn(`dispose failed: ${(err as Error).message}`);
  }
}

/** Disposes what a failed activation left: its registrations, and what it pushed into context.subscriptions. */
function disposeSubscriptions(context: PluginContext, store: DisposableStore, log: Logger): void {
  for (const d of context.subscriptions.splice(0)) store.add(d);
  safeDispose(store, log);
}

/** Rejects with `message` if `promise` has not settled within `ms` (the timer never holds the process). */
function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref?.();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
