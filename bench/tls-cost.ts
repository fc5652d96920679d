/**
 * What encrypting the chain costs: throughput of a tunnel that A chains to
 * peer B over TLS (A wired to B with the shared key: SOCKS5 method 0x86, TLS
 * keyed by the network key, SOCKS5 inside; A's rule `block direct` forces
 * every tunnel through B) against the same two hops in plain SOCKS5 (the
 * client asks a node A2 that is not wired to anything for B's proxy, and
 * speaks SOCKS5 to B through that tunnel), and, for scale, one hop (B's proxy
 * directly) and no proxy at all. All on loopback, in the same run, alternating
 * configurations; a single stream of --mib (1024) MiB and --streams (8)
 * parallel streams sharing the same total, each capped at --max-s (30) s.
 * Reports MB/s and the nodes' CPU time per GB, and the cost of encryption
 * (1 − TLS / plain two-hop throughput).
 *
 *   npm run build && node dist/bench/tls-cost.js [--mib 1024] [--streams 8] [--reps 3] [--max-s 30]
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import {
  cli,
  fmt,
  machineLine,
  numberArg,
  runBench,
  atExit,
  sleep,
  socks5,
  spawnNode,
  startRawOrigin,
  status,
  stopNode,
  table,
  Targets,
  type NodeProc,
} from './lib/rig';

const MIB = numberArg('mib', 1024);
const STREAMS = numberArg('streams', 8);
const REPS = numberArg('reps', 3);
const MAX_S = numberArg('max-s', 30);

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

type Opener = () => Promise<net.Socket>;

/** Streams `bytes` over a fresh tunnel; resolves with the bytes received (stops at the deadline). */
async function stream(open: Opener, bytes: number, deadline: number): Promise<number> {
  const s = await open();
  return new Promise((resolve, reject) => {
    let got = 0;
    const timer = setTimeout(
      () => {
        s.destroy();
        resolve(got);
      },
      Math.max(0, deadline - Date.now()),
    );
    s.on('data', (d: Buffer) => (got += d.length));
    s.once('end', () => {
      clearTimeout(timer);
      s.destroy();
      if (got === bytes) resolve(got);
      else reject(new Error(`stream ended after ${got} of ${bytes} bytes`));
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.write(`STREAM ${bytes}\n`);
    s.resume();
  });
}

async function run(open: Opener, streams: number, pids: number[]): Promise<{ mbps: number; cpuPerGB: number; bytes: number; s: number }> {
  const total = MIB * 1024 * 1024;
  const per = Math.floor(total / streams);
  const cpu0 = pids.map(cpuMs);
  const t0 = performance.now();
  const deadline = Date.now() + MAX_S * 1000;
  const got = await Promise.all(Array.from({ length: streams }, () => stream(open, per, deadline)));
  const s = (performance.now() - t0) / 1000;
  const bytes = got.reduce((a, b) => a + b, 0);
  const cpu = pids.map(cpuMs).reduce((a, c, i) => a + (c - cpu0[i]), 0);
  return { mbps: bytes / 1e6 / s, cpuPerGB: pids.length ? cpu / 1000 / (bytes / 1e9) : NaN, bytes, s };
}

async function main(): Promise<boolean> {
  console.log(`# tls-cost — ${machineLine()}`);
  console.log(`${MIB} MiB per run (1 stream, and ${STREAMS} streams sharing it), best of ${REPS}, each run capped at ${MAX_S} s\n`);
  const originChild = fork(__filename, ['--origin'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  atExit(() => originChild.kill('SIGKILL'));
  const originPort = await new Promise<number>((resolve) => originChild.once('message', (m) => resolve(Number(m))));

  const b = await spawnNode({ name: 'B' });
  atExit(() => b.kill('SIGKILL'));
  const a = await spawnNode({ name: 'A', config: { rules: [{ type: 'block', source: 'direct' }] } });
  atExit(() => a.kill('SIGKILL'));
  const a2 = await spawnNode({ name: 'A2' });
  atExit(() => a2.kill('SIGKILL'));
  await cli(['connect', `127.0.0.1:${a.bport}`, `127.0.0.1:${b.bport}`]);
  for (let i = 0; i < 50; i++) {
    const st = await status(a.bport);
    if (st.length > 1 && st[1].active) break;
    await sleep(200);
  }

  const configs: { name: string; open: Opener; nodes: NodeProc[] }[] = [
    { name: 'no proxy (origin directly)', open: () => connectPlain(originPort), nodes: [] },
    { name: '1 hop: B, plain SOCKS5', open: () => socks5(b.pport, '127.0.0.1', originPort), nodes: [b] },
    {
      name: '2 hops plain: A2 → B (nested SOCKS5)',
      open: async () => socks5(0, '127.0.0.1', originPort, { over: await socks5(a2.pport, '127.0.0.1', b.pport) }),
      nodes: [a2, b],
    },
    { name: '2 hops TLS: A → B (0x86, block direct)', open: () => socks5(a.pport, '127.0.0.1', originPort), nodes: [a, b] },
  ];
  // Check the TLS path really goes through B before measuring.
  const probe = await stream(configs[3].open, 1024 * 1024, Date.now() + 10_000).catch((e: Error) => e);
  if (probe instanceof Error)
    throw new Error(`the TLS chain A → B does not work: ${probe.message}\nA's log:\n${a.log().slice(-2000)}\nB's log:\n${b.log().slice(-2000)}`);

  const best = new Map<string, { mbps: number; cpuPerGB: number; bytes: number; s: number }>();
  for (let rep = 1; rep <= REPS; rep++) {
    for (const streams of [1, STREAMS]) {
      for (const c of configs) {
        const r = await run(
          c.open,
          streams,
          c.nodes.map((n) => n.pid),
        );
        const k = `${c.name}|${streams}`;
        console.log(
          `rep ${rep}: ${c.name}, ${streams} stream(s): ${fmt(r.mbps, 0)} MB/s (${fmt(r.bytes / 2 ** 20, 0)} MiB in ${fmt(r.s)} s), nodes' CPU ${fmt(r.cpuPerGB)} s/GB`,
        );
        if (!best.has(k) || best.get(k)!.mbps < r.mbps) best.set(k, r);
        await sleep(500);
      }
    }
  }
  const rows: (string | number)[][] = [];
  for (const c of configs) {
    const one = best.get(`${c.name}|1`)!;
    const many = best.get(`${c.name}|${STREAMS}`)!;
    rows.push([c.name, fmt(one.mbps, 0), fmt(many.mbps, 0), fmt(one.cpuPerGB, 2), fmt(many.cpuPerGB, 2)]);
  }
  console.log();
  console.log(table(['path', '1 stream MB/s', `${STREAMS} streams MB/s`, 'node CPU s/GB (1)', `node CPU s/GB (${STREAMS})`], rows));
  const cost = (streams: number) => 1 - best.get(`${configs[3].name}|${streams}`)!.mbps / best.get(`${configs[2].name}|${streams}`)!.mbps;
  const cpuCost = (streams: number) => best.get(`${configs[3].name}|${streams}`)!.cpuPerGB / best.get(`${configs[2].name}|${streams}`)!.cpuPerGB - 1;
  console.log(
    `\ncost of encryption (TLS two-hop vs plain two-hop): throughput −${fmt(cost(1) * 100, 0)} % (1 stream), −${fmt(cost(STREAMS) * 100, 0)} % (${STREAMS} streams); node CPU per GB +${fmt(cpuCost(1) * 100, 0)} % / +${fmt(cpuCost(STREAMS) * 100, 0)} %`,
  );
  const t = new Targets();
  t.check('TLS chain A → B carried every run', [...best.keys()].filter((k) => k.startsWith(configs[3].name)).length === 2, 'yes');
  console.log(`\n${t.report()}`);
  await stopNode(a);
  await stopNode(a2);
  await stopNode(b);
  originChild.kill('SIGTERM');
  return t.ok;
}

function connectPlain(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

if (process.argv.includes('--origin')) {
  void startRawOrigin('127.0.0.1').then((o) => process.send!(o.port));
  process.on('disconnect', () => process.exit(0));
} else {
  runBench('tls-cost', main, 30 * 60_000);
}
