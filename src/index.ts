/**
 * booster's public API: what plugins compile against.
 * Plugins import types only (`import type { ... } from 'booster'`);
 * everything they need at run time comes through `activate(context)`.
 */
export * from './api/disposable';
export * from './api/event';
export * from './api/target';
export * from './api/sources';
export * from './api/policy';
export * from './api/dialer';
export * from './api/transport';
export * from './api/events';
export * from './api/logger';
export * from './api/monitor';
export * from './api/settings';
export * from './api/plugin';
export * from './api/security';
export * from './api/version';
