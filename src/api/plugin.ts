import type { Disposable } from './disposable';
import type { Dialer } from './dialer';
import type { NodeEvents } from './events';
import type { Logger } from './logger';
import type { Monitor } from './monitor';
import type { PolicyFactory } from './policy';
import type { LinkSecurity } from './security';
import type { SourcesApi } from './sources';
import type { Transport } from './transport';

export type ContributionKind = 'policies' | 'dialers' | 'transports' | 'monitors';
export const CONTRIBUTION_KINDS: readonly ContributionKind[] = ['policies', 'dialers', 'transports', 'monitors'];

export interface ContributionDeclaration {
  readonly id: string;
  readonly title?: string;
  readonly description?: string;
}

/**
 * The `booster` block of a plugin's package.json. The host reads it without
 * running the plugin: to list it, validate it and decide when to activate it.
 *
 * Activation events: "onStartup" (or "*"), "onPolicy:ID", "onDialer:ID",
 * "onTransport:ID", "onMonitor:ID".
 */
export interface PluginManifest {
  /** `engines.booster` of package.json: the plugin API versions (semver range) the plugin works with. */
  readonly engine?: string;
  readonly displayName?: string;
  /** Entry module, relative to the package; defaults to the package's `main`. */
  readonly main?: string;
  readonly contributes: { readonly [K in ContributionKind]?: readonly ContributionDeclaration[] };
  readonly activationEvents: readonly string[];
}

export interface Registry<T> {
  register(item: T): Disposable;
}

/**
 * The few node settings a plugin may read (deep-frozen). Never the proxy
 * credentials, the network key or its location, or other plugins' options.
 */
export interface PluginNodeView {
  /** Local interfaces the user asked to use as sources: names, addresses, or "auto". */
  readonly interfaces: readonly string[];
  /** How long one dial may take; the dial's `signal` aborts after it. */
  readonly dialTimeoutMs: number;
}

/** Node events a plugin may be granted (subscribe only, never fire). */
export type PluginEventName = 'onDial' | 'onTunnelOpened' | 'onTunnelClosed' | 'onSourceChanged' | 'onSourceHealthChanged' | 'onPeerChanged';

/**
 * The events a plugin may listen to, scoped by what it contributes:
 * - policies: onDial, onTunnelOpened, onTunnelClosed, onSourceChanged, onSourceHealthChanged;
 * - dialers: onDial, onSourceChanged, onSourceHealthChanged;
 * - transports: onPeerChanged;
 * - monitors: none here (a monitor gets every event in `start(api)`).
 * Subscribing to one outside the plugin's scope throws an error naming it.
 * Subscriptions end when the plugin is deactivated; a listener that throws is
 * reported as a fault of the plugin.
 */
export type PluginEvents = { readonly [K in PluginEventName]: NodeEvents[K] };

/** What `activate(context)` receives. Everything a plugin registers goes into `subscriptions`. */
export interface PluginContext {
  readonly plugin: { readonly name: string; readonly version: string; readonly root: string };
  readonly subscriptions: Disposable[];
  readonly log: Logger;
  /** The node settings a plugin may read. */
  readonly node: PluginNodeView;
  /** This plugin's options (`plugins[name]` in the config file), deep-frozen. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly policies: { register(id: string, factory: PolicyFactory): Disposable };
  readonly dialers: Registry<Dialer>;
  readonly transports: Registry<Transport>;
  readonly monitors: Registry<Monitor>;
  /** The node's sources; `reportProbe` only for sources this plugin added. */
  readonly sources: SourcesApi;
  readonly events: PluginEvents;
  /** TLS keyed by the network key (never the key itself). */
  readonly security: LinkSecurity;
}

/** A plugin's entry module. */
export interface PluginModule {
  activate(context: PluginContext): void | Promise<void>;
  deactivate?(): void | Promise<void>;
}
