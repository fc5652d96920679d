/** Where a proxied connection wants to go. Names are resolved by whoever finally dials. */
export interface Target {
  readonly host: string;
  readonly port: number;
  readonly kind: 'ipv4' | 'ipv6' | 'domain';
}

/** "host:port", with IPv6 literals bracketed: the form peers see in ProxyUpdate. */
export function formatTarget(t: Pick<Target, 'host' | 'port' | 'kind'>): string {
  return t.kind === 'ipv6' ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}
