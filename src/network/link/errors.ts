/** A peer could not be reached or wired; the message says which and why. */
export class PeerError extends Error {
  constructor(
    message: string,
    readonly code: 'unreachable' | 'refused' | 'protocol' | 'timeout' | 'self' | 'unknown-peer' | 'auth' | 'legacy' | 'limit',
  ) {
    super(message);
    this.name = 'PeerError';
  }
}

/** "host:port" → parts; accepts "[::1]:4884" and a bare "host" with a default port. */
export function parseHostPort(input: string, defaultPort?: number): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(input) ?? /^([^:]+)(?::(\d+))?$/.exec(input);
  const port = m?.[2] !== undefined ? Number(m[2]) : defaultPort;
  if (!m || port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new PeerError(
      `"${input.length > 300 ? `${input.slice(0, 300)}…` : input}" is not a host:port address${defaultPort ? '' : ' (the port is required)'}`,
      'unreachable',
    );
  }
  return { host: m[1], port };
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Strips the IPv4-mapped prefix Node reports on dual-stack sockets. */
export function normalizeHost(host: string): string {
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
}
