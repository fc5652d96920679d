import type { InjectionToken } from 'tsyringe';
import type { NetworkKey } from './key';

/** The network key; only NodeSecurity injects it. */
export const NETWORK_KEY = Symbol('NetworkKey') as InjectionToken<NetworkKey>;
