import * as net from 'node:net';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** "PORT", "HOST:PORT" or "[V6]:PORT" (a number is a port); the host defaults to 127.0.0.1, "localhost" means 127.0.0.1. */
export function parseListenAddress(option: string, value: unknown): ListenAddress {
  const text = typeof value === 'number' ? String(value) : value;
  const bad = () => new Error(`${option} must be [HOST:]PORT such as 9464 or 127.0.0.1:9464, got ${JSON.stringify(value)?.slice(0, 80)}`);
  if (typeof text !== 'string') throw bad();
  const m = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):)?(\d{1,5})$/.exec(text.trim());
  if (!m) throw bad();
  const port = Number(m[3]);
  let host = m[1] ?? m[2] ?? '127.0.0.1';
  if (host === 'localhost') host = '127.0.0.1';
  if (port > 65535 || net.isIP(host) === 0) throw bad();
  return { host, port };
}

/** 127.0.0.0/8, ::1 and ::ffff:127.x: only this machine can connect. */
export function isLoopback(host: string): boolean {
  const a = host.toLowerCase().startsWith('::ffff:') ? host.slice(7) : host;
  return net.isIPv4(a) ? a.startsWith('127.') : a === '::1';
}

/** A Host header naming this machine: "127.0.0.1:9464", "[::1]:9464", "localhost:9464" (port optional). */
export function loopbackHostHeader(host: string | undefined): boolean {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::\d+)?$/.exec(host ?? '');
  const name = (m?.[1] ?? m?.[2] ?? '').toLowerCase();
  return name === 'localhost' || isLoopback(name);
}

export function formatUrl(address: ListenAddress, path: string): string {
  return `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}${path}`;
}
