import type { Disposable } from './disposable';
import type { Dialer } from './dialer';
import type { NodeEvents } from './events';
import type { Logger } from './logger';
import type { Monitor } from './monitor';
import type { PolicyFactory } from './policy';
import type { LinkSecurity } from './security';
import type { NodeSettings } from './settings';
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
  readonly displayName?: string;
  /** Entry module, relative to the package; defaults to the package's `main`. */
  readonly main?: string;
  readonly contributes: { readonly [K in ContributionKind]?: readonly ContributionDeclaration[] };
  readonly activationEvents: readonly string[];
}

export interface Registry<T> {
  register(item: T): Disposable;
}

/** What `activate(context)` receives. Everything a plugin registers goes into `subscriptions`. */
export interface PluginContext {
  readonly plugin: { readonly name: string; readonly version: string; readonly root: string };
  readonly subscriptions: Disposable[];
  readonly log: Logger;
  readonly settings: Readonly<NodeSettings>;
  /** This plugin's options (`plugins[name]` in the config file). */
  readonly options: Readonly<Record<string, unknown>>;
  readonly policies: { register(id: string, factory: PolicyFactory): Disposable };
  readonly dialers: Registry<Dialer>;
  readonly transports: Registry<Transport>;
  readonly monitors: Registry<Monitor>;
  readonly sources: SourcesApi;
  readonly events: NodeEvents;
  /** TLS keyed by the network key (never the key itself). */
  readonly security: LinkSecurity;
}

/** A plugin's entry module. */
export interface PluginModule {
  activate(context: PluginContext): void | Promise<void>;
  deactivate?(): void | Promise<void>;
}
