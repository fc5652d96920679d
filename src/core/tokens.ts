import 'reflect-metadata';
import type { InjectionToken } from 'tsyringe';
import type { Logger } from '../api/logger';
import type { NodeSettings } from '../api/settings';
import type { PluginDescription } from '../extensions/manifest';
import type { NetworkKey } from '../security/key';

/** Injection tokens for the things that are interfaces or plain values. */
export const TOKENS = {
  Settings: Symbol('Settings') as InjectionToken<NodeSettings>,
  Logger: Symbol('Logger') as InjectionToken<Logger>,
  PluginDescriptions: Symbol('PluginDescriptions') as InjectionToken<readonly PluginDescription[]>,
  Clock: Symbol('Clock') as InjectionToken<Clock>,
  /** The network key (src/security/key.ts); only NodeSecurity injects it. */
  NetworkKey: Symbol('NetworkKey') as InjectionToken<NetworkKey>,
} as const;

/** Monotonic milliseconds; injectable so tests can drive time. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => performance.now() };
