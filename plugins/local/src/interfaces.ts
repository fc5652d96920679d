import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as os from 'node:os';
import type { SourceDescriptor } from 'booster';

/** Where the route check "connects" a UDP socket: no packet is sent, the kernel only picks a route. */
const DEFAULT_PROBE = { v4: '192.0.2.1', v6: '2001:db8::1' };

interface LocalAddress {
  readonly name: string;
  readonly address: string;
  readonly family: 4 | 6;
}

/**
 * Turns the `interfaces` setting (names, addresses, or "auto") into one
 * source per local address that has a route out.
 */
export async function resolveInterfaceSources(wanted: readonly string[], probe?: string): Promise<{ sources: SourceDescriptor[]; problems: string[] }> {
  const all = listAddresses();
  const problems: string[] = [];
  const picked = new Map<string, LocalAddress>();
  for (const w of wanted) {
    const matches = w === 'auto' ? all : all.filter((a) => a.name === w || a.address === w);
    if (matches.length === 0)
      problems.push(`interface "${w}" not found (have: ${[...new Set(all.map((a) => `${a.name} ${a.address}`))].join(', ') || 'none'})`);
    for (const m of matches) picked.set(m.address, m);
  }
  const sources: SourceDescriptor[] = [];
  for (const a of picked.values()) {
    const route = await hasRoute(a, probe);
    if (route !== true) {
      problems.push(`skipping ${a.name} ${a.address}: no route out (${route})`);
      continue;
    }
    sources.push({
      id: `if:${a.name}:${a.address}`,
      kind: 'interface',
      label: `${a.name} (${a.address})`,
      dialer: 'direct',
      localAddress: a.address,
      local: true,
    });
  }
  return { sources, problems };
}

function listAddresses(): LocalAddress[] {
  const out: LocalAddress[] = [];
  for (const [name, infos] of Object.entries(os.networkInterfaces())) {
    for (const info of infos ?? []) {
      if (info.internal) continue;
      if (info.family === 'IPv6' && info.address.toLowerCase().startsWith('fe80')) continue;
      out.push({ name, address: info.address, family: info.family === 'IPv6' ? 6 : 4 });
    }
  }
  return out;
}

function hasRoute(a: LocalAddress, probe?: string): Promise<true | string> {
  const target = probe && net.isIP(probe) === a.family ? probe : a.family === 4 ? DEFAULT_PROBE.v4 : DEFAULT_PROBE.v6;
  return new Promise((resolve) => {
    const socket = dgram.createSocket(a.family === 4 ? 'udp4' : 'udp6');
    const done = (result: true | string) => {
      try {
        socket.close();
      } catch {
        // already closed by the error
      }
      resolve(result);
    };
    socket.once('error', (err) => done((err as NodeJS.ErrnoException).code ?? err.message));
    socket.bind(0, a.address, () => socket.connect(53, target, () => done(true)));
  });
}
