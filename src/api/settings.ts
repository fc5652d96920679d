/** A rule narrows the candidate sources before the policy chooses. */
export type Rule =
  | { readonly type: 'block'; readonly source: string }
  | { readonly type: 'reserve'; readonly source: string; readonly hosts: readonly string[] }
  | { readonly type: 'avoid'; readonly source: string; readonly hosts: readonly string[] }
  | { readonly type: 'sticky'; readonly ttlMs: number; readonly hosts?: readonly string[] };

/**
 * Bounds on what the outside world can make a node hold. Defaults are far
 * above what a household uses; each is configurable (`limits` in the config).
 */
export interface Limits {
  /** An endpoint connection must finish authenticating (or, if trusted by address, send its first request) within this. */
  readonly authTimeoutMs: number;
  /** An authenticated endpoint connection that is neither a peer link nor a monitor stream is closed after this long without a request. */
  readonly sessionIdleMs: number;
  /** Endpoint connections open at once, in total (a reserve of 16 is kept for loopback), and from one non-loopback address. */
  readonly maxSessions: number;
  readonly maxSessionsPerIp: number;
  /** Peers this node wires. */
  readonly maxPeers: number;
  /** Routing rules, and hosts in one rule. */
  readonly maxRules: number;
  readonly maxHostsPerRule: number;
  /** Distinct targets tracked for one peer's workload, and the longest target accepted; a peer that goes over is dropped. */
  readonly maxPeerTargets: number;
  readonly maxTargetLength: number;
  /** Largest packet accepted on an authenticated link, and before authentication. */
  readonly maxPacketBytes: number;
  readonly maxUnauthenticatedPacketBytes: number;
  /** Bytes queued to one endpoint connection that does not read before it is dropped (a stalled monitor client). */
  readonly maxLinkBufferBytes: number;
  /** Proxy connections open at once; 0 derives it from RLIMIT_NOFILE, keeping `fdReserve` descriptors for the endpoint and the CLI. */
  readonly maxProxyConnections: number;
  readonly fdReserve: number;
  /** Proxy username/password failures from one address: the first few are delayed more and more, then the address is locked out. */
  readonly authFailuresBeforeLockout: number;
  readonly authFailureDelayMs: number;
  readonly authLockoutMs: number;
  /** A limit being hit is logged at most once per interval (with a count). */
  readonly limitLogIntervalMs: number;
  /** A plugin's `activate` that has not settled after this long fails (its registrations and subscriptions are disposed). */
  readonly pluginActivateTimeoutMs: number;
  /** A plugin's `deactivate` is waited for at most this long (its registrations are disposed regardless). */
  readonly pluginDeactivateTimeoutMs: number;
}

/**
 * How the node learns each source's link capacity (README "Balancing
 * policies"): measured from its own traffic, advertised by peers, saved across
 * restarts in the data dir (links.json).
 */
export interface CapacitySettings {
  /** Sampling period of every source's byte counters (ms). */
  readonly tickMs: number;
  /** Each sample is the download rate over this long (ms); at least tickMs. */
  readonly rateWindowMs: number;
  /** The estimate is a percentile of the samples from the last this-many busy ms (idle time does not count). */
  readonly busyWindowMs: number;
  /** Which percentile, in (0, 1]. */
  readonly percentile: number;
  /** Bytes/s below which busy time is not evidence of capacity (keep-alives, chats). */
  readonly minBusyRate: number;
  /** Our own measurement older than this gives way to a peer's advertised capacity (ms). */
  readonly freshMs: number;
  /** A peer is busy with its own users when others' throughput exceeds this share of its advertised capacity, in [0, 1]. */
  readonly busyShare: number;
  /** Of a busy peer's advertised capacity, at least this share is still counted as available to us, in (0, 1]. */
  readonly minAvailableShare: number;
  /** Save estimates in the data dir (links.json) and load them at start. */
  readonly persist: boolean;
  /** Saving waits this long after a change, to batch them (ms); a stop saves at once. */
  readonly saveDelayMs: number;
  /** Saved estimates older than this are ignored (ms). */
  readonly maxAgeMs: number;
  /** Most sources kept in links.json (the most recently measured win). */
  readonly maxRecords: number;
}

/**
 * Optional active capacity probe (off unless set): download `url` through each
 * local source (direct, interface) whose capacity is unknown or stale. Every
 * probe costs up to maxBytes of data.
 */
export interface CapacityProbeSettings {
  /** An http:// URL serving at least maxBytes. */
  readonly url: string;
  /** How often the sources are checked (ms). */
  readonly intervalMs: number;
  /** Bytes read per probe, at most. */
  readonly maxBytes: number;
  /** A probe ends after this long, whatever it read (ms). */
  readonly timeoutMs: number;
}

/** LAN discovery over mDNS/DNS-SD (README "Finding nodes on the LAN"). */
export interface DiscoverySettings {
  /** Announce this node as `_booster._tcp` on the LAN (only ever when it listens on a non-loopback address). */
  readonly announce: boolean;
  /** Wire every node found on the LAN that holds the same network key. */
  readonly autoConnect: boolean;
}

/** A node's settings, from flags and the config file (flags win). */
export interface NodeSettings {
  /** Proxy (SOCKS5/SOCKS4/HTTP) port. */
  readonly pport: number;
  /** Booster endpoint port. */
  readonly bport: number;
  /** Address both listeners bind to. */
  readonly bind: string;
  /** Name of the balancing policy. */
  readonly policy: string;
  /** Policy to fall back to when the chosen one misbehaves. */
  readonly fallbackPolicy: string;
  /** Local interfaces to use as sources: names, addresses, or "auto". Empty: direct only. */
  readonly interfaces: readonly string[];
  readonly rules: readonly Rule[];
  /** SOCKS5 username/password (RFC 1929); unset means no authentication. */
  readonly auth?: { readonly username: string; readonly password: string };
  readonly handshakeTimeoutMs: number;
  readonly dialTimeoutMs: number;
  /** How long open tunnels may drain on shutdown. */
  readonly drainTimeoutMs: number;
  /** Heartbeat period T; a silent peer is dropped after 2·T... (see network). */
  readonly heartbeatMs: number;
  /**
   * Heartbeat period asked of 0.3 peers (no booster.v1), which read the wait
   * as a time on their own clock: 0.3's own 8 s; they have 2·T to answer, so
   * clock skew within ±T holds the link.
   */
  readonly legacyHeartbeatMs: number;
  /** Least time between two LinkReports (booster.v1) this node sends a peer that wired it. */
  readonly linkReportMs: number;
  /** Reconnect probe period for dropped peers. */
  readonly reconnectMs: number;
  /** Time a policy may take before the dispatcher falls back. */
  readonly policyDeadlineMs: number;
  /** Which transport carries booster links. */
  readonly transport: string;
  /** Per-plugin options, keyed by plugin (package) name. */
  readonly plugins: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Per-policy options, keyed by policy id. */
  readonly policyOptions: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Where the node keeps its state (the network key, `network.key`). */
  readonly dataDir: string;
  /**
   * CIDRs whose 0.3 nodes (which cannot authenticate) may wire this node, send
   * Notify and heartbeats and chain through its proxy; this node may also use
   * 0.3 peers at those addresses. Empty: 0.3 nodes are refused.
   */
  readonly allowLegacyPeers: readonly string[];
  /** CIDRs of LAN clients that are not peers (a TV, a console) allowed to use the proxy without credentials. */
  readonly allowClients: readonly string[];
  /** Serve the proxy to anyone who reaches it (still no access to this node's own addresses). */
  readonly openProxy: boolean;
  readonly limits: Limits;
  readonly capacity: CapacitySettings;
  readonly capacityProbe?: CapacityProbeSettings;
  readonly discovery: DiscoverySettings;
}
