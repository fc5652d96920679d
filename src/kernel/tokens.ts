import 'reflect-metadata';
import type { InjectionToken } from 'tsyringe';
import type { Dialer } from '../api/dialer';
import type { Logger } from '../api/logger';
import type { PolicyFactory } from '../api/policy';
import type { NodeSettings } from '../api/settings';
import type { Transport } from '../api/transport';
import type { Registry, SourceStore } from './registry';

/**
 * Injection tokens for the things that are interfaces or plain values. Tokens
 * typed by something of a higher layer live with it (NETWORK_KEY in
 * src/security/tokens.ts, PLUGIN_DESCRIPTIONS in src/extensions/tokens.ts).
 */
export const TOKENS = {
  Settings: Symbol('Settings') as InjectionToken<NodeSettings>,
  Logger: Symbol('Logger') as InjectionToken<Logger>,
  Clock: Symbol('Clock') as InjectionToken<Clock>,
  /** Contribution registries (src/kernel/registry.ts), provided by src/extensions. */
  Dialers: Symbol('Dialers') as InjectionToken<Registry<Dialer>>,
  Policies: Symbol('Policies') as InjectionToken<Registry<PolicyFactory>>,
  Transports: Symbol('Transports') as InjectionToken<Registry<Transport>>,
  /** The node's sources as the extension host uses them (SourceRegistry). */
  Sources: Symbol('Sources') as InjectionToken<SourceStore>,
} as const;

/** Monotonic milliseconds; injectable so tests can drive time. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => performance.now() };
