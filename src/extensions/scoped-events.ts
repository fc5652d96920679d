import type { Disposable } from '../api/disposable';
import type { Event } from '../api/event';
import type { NodeEvents } from '../api/events';
import type { ContributionKind, PluginEventName, PluginEvents } from '../api/plugin';
import { PluginError } from './errors';

/** Which events each kind of contribution may need (documented on PluginEvents). */
const SCOPE: Readonly<Record<ContributionKind, readonly PluginEventName[]>> = {
  policies: ['onDial', 'onTunnelOpened', 'onTunnelClosed', 'onSourceChanged', 'onSourceHealthChanged'],
  dialers: ['onDial', 'onSourceChanged', 'onSourceHealthChanged'],
  transports: ['onPeerChanged'],
  monitors: [],
};

/** Every event name a plugin could ever be granted. */
const ALL: readonly PluginEventName[] = [...new Set(Object.values(SCOPE).flat())];

export interface ScopedEventsOptions {
  readonly plugin: string;
  /** What the plugin declares it contributes. */
  readonly kinds: readonly ContributionKind[];
  /** Subscriptions are added here, so deactivation ends them. */
  track(subscription: Disposable): Disposable;
  /** A listener of the plugin threw. */
  onListenerError(err: unknown, event: PluginEventName): void;
}

/**
 * A plugin's subscribe-only view of the node's events: plain functions (no
 * emitter, so nothing to fire or dispose), only those its contributions need;
 * the others throw a PluginError naming the plugin and what it may use.
 */
export function scopedEvents(hub: NodeEvents, options: ScopedEventsOptions): PluginEvents {
  const granted = new Set(options.kinds.flatMap((k) => SCOPE[k]));
  const view = {} as Record<PluginEventName, Event<unknown>>;
  for (const name of ALL) {
    view[name] = granted.has(name)
      ? (listener) => {
          const source = hub[name] as Event<unknown>;
          return options.track(
            source((e) => {
              try {
                listener(e);
              } catch (err) {
                options.onListenerError(err, name);
              }
            }),
          );
        }
      : () => {
          throw new PluginError(
            options.plugin,
            `may not subscribe to ${name}: its contributions (${options.kinds.join(', ') || 'none'}) give it ${[...granted].join(', ') || 'no events'}`,
          );
        };
  }
  return Object.freeze(view) as unknown as PluginEvents;
}
