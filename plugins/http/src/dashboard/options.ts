import { parseListenAddress, type ListenAddress } from '../listen-address';

/** The dashboard's settings (plugin options `dashboard`, `dashboardMaxClients`, ...), each bounded. */
export interface DashboardOptions {
  readonly address: ListenAddress;
  /** WebSocket clients served at once; more are refused with 503. */
  readonly maxClients: number;
  /** A client whose unsent backlog exceeds this (bytes) is not reading: it is dropped. */
  readonly maxBufferedBytes: number;
  /** Period of the regular push (events push sooner). */
  readonly pushMs: number;
  /** Login sessions kept (the oldest is forgotten first) and how long one lasts. */
  readonly maxSessions: number;
  readonly sessionMs: number;
}

const DASHBOARD_DEFAULTS = { maxClients: 8, maxBufferedBytes: 1024 * 1024, pushMs: 1000, maxSessions: 32, sessionMs: 12 * 3600_000 } as const;

const RANGES: Record<keyof typeof DASHBOARD_DEFAULTS, [option: string, min: number, max: number]> = {
  maxClients: ['dashboardMaxClients', 1, 1000],
  maxBufferedBytes: ['dashboardMaxBufferedBytes', 1024, 64 * 1024 * 1024],
  pushMs: ['dashboardPushMs', 100, 60_000],
  maxSessions: ['dashboardMaxSessions', 1, 10_000],
  sessionMs: ['dashboardSessionMs', 1000, 30 * 24 * 3600_000],
};

/** Undefined when the dashboard is off (no `dashboard` address); throws a clear error for a bad value. */
export function parseDashboardOptions(options: Readonly<Record<string, unknown>>): DashboardOptions | undefined {
  if (options.dashboard === undefined) return undefined;
  const parsed: Record<string, number> = { ...DASHBOARD_DEFAULTS };
  for (const [key, [option, min, max]] of Object.entries(RANGES)) {
    const v = options[option];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw new Error(`${option} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)?.slice(0, 40)}`);
    parsed[key] = v;
  }
  return { address: parseListenAddress('dashboard', options.dashboard), ...(parsed as Omit<DashboardOptions, 'address'>) };
}
