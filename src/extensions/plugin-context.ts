import { type DisposableStore, toDisposable, type Disposable } from '../api/disposable';
import type { Logger } from '../api/logger';
import type { ContributionKind, PluginContext } from '../api/plugin';
import type { LinkSecurity } from '../api/security';
import type { NodeSettings } from '../api/settings';
import type { SourcesApi } from '../api/sources';
import type { EventHub } from '../kernel/events';
import { snapshotCandidate } from '../kernel/candidate-snapshot';
import type { SourceStore } from '../kernel/registry';
import type { NodeSecurity } from '../security/node-security';
import type { ValidatedPlugin } from './manifest';
import { PluginError } from './errors';
import { frozenCopy } from './freeze';
import { scopedEvents } from './scoped-events';

/** What the host lends a plugin's context. */
export interface ContextServices {
  readonly settings: NodeSettings;
  /** The contribution registries (ContributionRegistry), by kind. */
  readonly contributions: { readonly [K in ContributionKind]: { register(owner: string, id: string, value: never): Disposable } };
  readonly sources: SourceStore;
  readonly events: EventHub;
  readonly security: NodeSecurity;
  readonly log: Logger;
  /** Logs and fires a fault against the plugin. */
  report(plugin: string, message: string, contribution?: string): void;
}

/**
 * Builds the context `activate` receives: registrations checked against the
 * manifest and tracked in `store`, a frozen view of the few settings plugins
 * use, scoped subscribe-only events, and sources it may probe only if it
 * added them.
 */
export function createPluginContext(services: ContextServices, plugin: ValidatedPlugin & { ok: true }, store: DisposableStore): PluginContext {
  const { description, manifest } = plugin;
  const name = description.name;
  const register = <T>(kind: ContributionKind, id: string, value: T): Disposable => {
    if (!manifest.contributes[kind]?.some((c) => c.id === id)) {
      throw new PluginError(name, `registers ${kind} id "${id}" that its package.json does not declare in booster.contributes.${kind}`);
    }
    // A timed-out activation that carries on must not register anything, even briefly.
    if (store.isDisposed) throw new PluginError(name, `registers ${kind} id "${id}" after its activation failed`);
    // The registries are typed per kind; this register is the one for `kind`, so T fits it (eslint's checker misreads the never-typed union).
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    const registry = services.contributions[kind] as { register(owner: string, id: string, value: T): Disposable };
    return store.add(registry.register(name, id, value));
  };
  const kinds = (Object.keys(manifest.contributes) as ContributionKind[]).filter((k) => (manifest.contributes[k]?.length ?? 0) > 0);
  return {
    plugin: Object.freeze({ name, version: description.version, root: description.root }),
    subscriptions: [],
    log: services.log.child(name),
    node: frozenCopy({ interfaces: services.settings.interfaces, dialTimeoutMs: services.settings.dialTimeoutMs }),
    options: frozenCopy(services.settings.plugins[name] ?? {}),
    policies: { register: (id, factory) => register('policies', id, factory) },
    dialers: { register: (dialer) => register('dialers', dialer.id, dialer) },
    transports: { register: (transport) => register('transports', transport.id, transport) },
    monitors: { register: (monitor) => register('monitors', monitor.id, monitor) },
    sources: pluginSources(services, name, store),
    events: scopedEvents(services.events, {
      plugin: name,
      kinds,
      track: (d) => store.add(d),
      onListenerError: (err, event) => services.report(name, `${event} listener threw: ${err instanceof Error ? err.message : String(err)}`),
    }),
    security: linkSecurity(services.security),
  };
}

/**
 * The LinkSecurity methods alone: the NodeSecurity object behind them also
 * holds the settings (proxy password) and the key-derived secrets, which a
 * plugin could otherwise reach through its fields.
 */
function linkSecurity(security: LinkSecurity): LinkSecurity {
  return Object.freeze({
    fingerprint: security.fingerprint,
    secureClient: (stream, signal) => security.secureClient(stream, signal),
    secureServer: (stream, signal) => security.secureServer(stream, signal),
    verifyHttpToken: (token) => security.verifyHttpToken(token),
  } satisfies LinkSecurity);
}

/** The sources API of one plugin: it may report probes only on the sources it added itself. */
function pluginSources(services: ContextServices, plugin: string, store: DisposableStore): SourcesApi {
  const owned = new Set<string>();
  return Object.freeze({
    add: (source) => {
      if (store.isDisposed) throw new PluginError(plugin, `adds source "${source.id}" after its activation failed or it was deactivated`);
      const added = services.sources.add(source);
      owned.add(source.id);
      return store.add(
        toDisposable(() => {
          owned.delete(source.id);
          added.dispose();
        }),
      );
    },
    list: () => services.sources.list().map(snapshotCandidate),
    get: (id) => {
      const c = services.sources.get(id);
      return c && snapshotCandidate(c);
    },
    reportProbe: (id, ok, reason) => {
      if (!owned.has(id)) {
        const message = `reportProbe("${String(id).slice(0, 64)}"): not a source this plugin added (it added: ${[...owned].join(', ') || 'none'})`;
        services.report(plugin, message);
        throw new PluginError(plugin, message);
      }
      services.sources.setDown(id, !ok, `probe: ${reason}`);
    },
    // Tracked so that deactivation ends them.
    onDidChange: (listener) => store.add(services.events.onSourceChanged(listener)),
    onDidChangeHealth: (listener) => store.add(services.events.onSourceHealthChanged(listener)),
  } satisfies SourcesApi);
}
