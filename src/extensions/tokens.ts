import type { InjectionToken } from 'tsyringe';
import type { PluginDescription } from './manifest';

/** The plugins found for this node run (oclif's list, or a test's). */
export const PLUGIN_DESCRIPTIONS = Symbol('PluginDescriptions') as InjectionToken<readonly PluginDescription[]>;
