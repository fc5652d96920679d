/** A rule narrows the candidate sources before the policy chooses. */
export type Rule =
  | { readonly type: 'block'; readonly source: string }
  | { readonly type: 'reserve'; readonly source: string; readonly hosts: readonly string[] }
  | { readonly type: 'avoid'; readonly source: string; readonly hosts: readonly string[] }
  | { readonly type: 'sticky'; readonly ttlMs: number; readonly hosts?: readonly string[] };

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
}
