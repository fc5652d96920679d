import type { Limits } from '../api/settings';

// Defaults that lower layers (wire, network) fall back on when a caller passes
// no settings. They live here, below everything, so that those layers do not
// import the settings loader in src/core; src/core/config.ts re-exports them.

/** The largest packet a link accepts unless `limits.maxPacketBytes` says otherwise. */
export const DEFAULT_MAX_PACKET_BYTES = 1024 * 1024;

export const DEFAULT_LIMITS: Limits = {
  authTimeoutMs: 10_000,
  sessionIdleMs: 300_000,
  maxSessions: 256,
  maxSessionsPerIp: 16,
  maxPeers: 64,
  maxRules: 256,
  maxHostsPerRule: 64,
  maxPeerTargets: 10_000,
  maxTargetLength: 255,
  maxPacketBytes: DEFAULT_MAX_PACKET_BYTES,
  maxUnauthenticatedPacketBytes: 4096,
  maxLinkBufferBytes: 4 * 1024 * 1024,
  maxProxyConnections: 0,
  fdReserve: 64,
  authFailuresBeforeLockout: 10,
  authFailureDelayMs: 250,
  authLockoutMs: 300_000,
  limitLogIntervalMs: 10_000,
  pluginActivateTimeoutMs: 10_000,
  pluginDeactivateTimeoutMs: 5_000,
};

/** Default `legacyHeartbeatMs` and `linkReportMs` of NodeSettings. */
export const DEFAULT_LEGACY_HEARTBEAT_MS = 8_000;
export const DEFAULT_LINK_REPORT_MS = 2_000;
