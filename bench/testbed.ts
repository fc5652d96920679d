/**
 * Throughput aggregation on a namespace testbed (root): peers with shaped
 * uplinks (default 8 and 24 Mbit/s); node A runs a download job through them
 * with each policy and through each link alone.
 *
 *   sudo node dist/bench/testbed.js [--files 96] [--size-kib 256] [--parallel 8] [--rates 8,24] [--burst 16]
 */
import 'reflect-metadata';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BoosterNode } from '../src/core/node';
import { NamespaceHost, netnsUnavailable } from '../test/helpers/netns';
import { startTestNode } from '../test/helpers/node';
import { getViaSocks } from '../test/helpers/socks';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};

async function job(a: BoosterNode, host: string, port: number, files: number, parallel: number): Promise<number> {
  const queue = Array.from({ length: files }, (_, i) => i);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) await getViaSocks(a.proxyAddress.port, host, port, `/f${i}`);
    }),
  );
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const why = netnsUnavailable();
  if (why) throw new Error(why);
  const files = Number(arg('files', '96'));
  const size = Number(arg('size-kib', '256')) * 1024;
  const parallel = Number(arg('parallel', '8'));
  const rates = arg('rates', '8,24').split(',').map(Number);
  const burst = Number(arg('burst', '16'));
  const hosts = rates.map((r, i) => new NamespaceHost(`bstb${i}${process.pid % 1000}`, 51 + i, r));
  const file = Buffer.alloc(size, 1);
  const big = Buffer.alloc(1024 * 1024, 2);
  const origin = http.createServer((req, res) => res.end(req.url?.startsWith('/big') ? big : file));
  try {
    hosts.forEach((h) => h.create());
    await new Promise<void>((r) => origin.listen(0, hosts[0].hostAddress, r));
    const port = (origin.address() as AddressInfo).port;
    await Promise.all(hosts.map((h) => h.startNode(['--pport', '1080', '--bport', '4884'])));
    const totalMB = (files * size) / 1e6;
    console.log(`job: ${files} files × ${size / 1024} KiB, ${parallel} at a time; links ${rates.join(' + ')} Mbit/s (sum ${rates.reduce((s, r) => s + r, 0)} Mbit/s)`);
    console.log(`then a burst: ${burst} × 1 MiB all at once (capacities known from the job)`);
    console.log('| run | job seconds | job Mbit/s | job bytes per link | capacity estimates (Mbit/s) | burst seconds | burst tunnels per link |');
    console.log('| --- | ---: | ---: | --- | --- | ---: | --- |');
    const runs: [string, string, string[]][] = [
      ...hosts.map((h, i) => [`link ${i + 1} alone (${rates[i]} Mbit/s)`, 'least-busy', hosts.filter((x) => x !== h).map((x) => x.address)] as [string, string, string[]]),
      ['least-busy', 'least-busy', []],
      ['round-robin', 'round-robin', []],
      ['bandwidth-weighted', 'bandwidth-weighted', []],
      ['p2c', 'p2c', []],
    ];
    for (const [label, policy, excluded] of runs) {
      const a = await startTestNode({ settings: { policy, rules: [{ type: 'block', source: 'direct' }] } });
      for (const h of hosts) if (!excluded.includes(h.address)) await a.network.connect(`${h.address}:4884`);
      const seconds = await job(a, hosts[0].hostAddress, port, files, parallel);
      const split = a.network.list().map((p) => `${(a.sources.get(p.id)!.stats.bytesDown / 1e6).toFixed(1)} MB`).join(' / ');
      const caps = a.network.list().map((p) => `${((a.sources.get(p.id)!.stats.capacity * 8) / 1e6).toFixed(1)}`).join(' / ');
      const before = a.network.list().map((p) => a.sources.get(p.id)!.stats.totalTunnels);
      const t0 = performance.now();
      await Promise.all(Array.from({ length: burst }, (_, i) => getViaSocks(a.proxyAddress.port, hosts[0].hostAddress, port, `/big${i}`)));
      const burstSeconds = (performance.now() - t0) / 1000;
      const burstSplit = a.network.list().map((p, i) => a.sources.get(p.id)!.stats.totalTunnels - before[i]).join(' / ');
      console.log(`| ${label} | ${seconds.toFixed(2)} | ${((totalMB * 8) / seconds).toFixed(1)} | ${split} | ${caps} | ${burstSeconds.toFixed(2)} | ${burstSplit} |`);
      await a.stop();
    }
  } finally {
    origin.close();
    hosts.forEach((h) => h.destroy());
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
