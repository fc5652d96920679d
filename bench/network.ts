/**
 * Booster network benchmark (loopback): workload propagation latency (a
 * tunnel opened on B is visible on A) and time to detect a killed and a
 * frozen (SIGSTOP) peer.
 *
 *   npm run build && node dist/bench/network.js [--samples 500] [--rounds 5]
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { resolveSettings } from '../src/core/config';
import { silentLogger } from '../src/kernel/logger';
import { BoosterNode } from '../src/core/node';
import { discoverInstalledPlugins } from '../src/extensions/discovery';
import { NetworkKey } from '../src/security/key';

// Every node of the bench shares one network key (children get it through BOOSTER_KEY).
const KEY = NetworkKey.generate('bench');
process.env.BOOSTER_KEY ??= KEY.reveal();

const ROOT = path.resolve(__dirname, '..', '..');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function startNode(heartbeatMs: number): Promise<BoosterNode> {
  const plugins = await discoverInstalledPlugins(ROOT);
  return BoosterNode.start({
    settings: resolveSettings({ bind: '127.0.0.1', pport: 0, bport: 0, heartbeatMs, reconnectMs: 200 }),
    logger: silentLogger,
    plugins,
    key: NetworkKey.parse(process.env.BOOSTER_KEY!, 'BOOSTER_KEY'),
  });
}

/** A SOCKS5 CONNECT through `proxyPort` to `port`, left open until closed. */
function openTunnel(proxyPort: number, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(proxyPort, '127.0.0.1', () => s.write(Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, port >> 8, port & 255])));
    let got = 0;
    s.on('data', (d) => {
      got += d.length;
      if (got >= 12) resolve(s);
    });
    s.on('error', reject);
  });
}

async function propagation(samples: number): Promise<{ p50: number; p99: number; max: number }> {
  const origin = net.createServer((s) => s.on('data', () => undefined)).listen(0, '127.0.0.1');
  await new Promise((r) => origin.once('listening', r));
  const originPort = (origin.address() as net.AddressInfo).port;
  const a = await startNode(1000);
  const b = await startNode(1000);
  await a.network.connect(`127.0.0.1:${b.endpointAddress.port}`);
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    let opened = 0;
    const seen = new Promise<number>((resolve) => {
      const sub = a.network.onRemoteTunnel((e) => {
        if (e.operation === 'added') {
          sub.dispose();
          resolve(performance.now());
        }
      });
    });
    const sub = b.events.onTunnelOpened(() => {
      opened = performance.now();
      sub.dispose();
    });
    const sock = await openTunnel(b.proxyAddress.port, originPort);
    latencies.push((await seen) - opened);
    sock.destroy();
    await new Promise((r) => setTimeout(r, 2));
  }
  await a.stop();
  await b.stop();
  origin.close();
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies) };
}

function spawnNode(bport: number, pport: number, heartbeatMs: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'run'), 'start', '--bind', '127.0.0.1', '--bport', String(bport), '--pport', String(pport), '--heartbeat', String(heartbeatMs)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('booster endpoint listening')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`node exited ${code}: ${err}`)));
  });
}

async function detection(rounds: number, heartbeatMs: number): Promise<{ killed: number[]; frozen: number[] }> {
  const a = await startNode(heartbeatMs);
  const bport = await freePort();
  const pport = await freePort();
  const killed: number[] = [];
  const frozen: number[] = [];
  const downAfter = (from: number) =>
    new Promise<number>((resolve) => {
      const sub = a.events.onPeerChanged((e) => {
        if (e.change === 'down') {
          sub.dispose();
          resolve(performance.now() - from);
        }
      });
    });
  const upAgain = () =>
    new Promise<void>((resolve) => {
      const sub = a.events.onPeerChanged((e) => {
        if (e.change === 'up') {
          sub.dispose();
          resolve();
        }
      });
    });
  let b = await spawnNode(bport, pport, heartbeatMs);
  await a.network.connect(`127.0.0.1:${bport}`);
  for (let i = 0; i < rounds; i++) {
    await new Promise((r) => setTimeout(r, 300 + Math.random() * heartbeatMs));
    let t = performance.now();
    let down = downAfter(t);
    b.kill('SIGKILL');
    killed.push(await down);
    let up = upAgain();
    b = await spawnNode(bport, pport, heartbeatMs);
    await up;

    await new Promise((r) => setTimeout(r, 300 + Math.random() * heartbeatMs));
    t = performance.now();
    down = downAfter(t);
    b.kill('SIGSTOP');
    frozen.push(await down);
    up = upAgain();
    b.kill('SIGCONT');
    await up;
  }
  b.kill('SIGKILL');
  await a.stop();
  return { killed, frozen };
}

async function main(): Promise<void> {
  const samples = arg('samples', 500);
  const rounds = arg('rounds', 5);
  const heartbeatMs = arg('heartbeat', 1000);
  const prop = await propagation(samples);
  console.log(
    `workload propagation (tunnel opened on B → visible on A), ${samples} samples: p50 ${prop.p50.toFixed(3)} ms, p99 ${prop.p99.toFixed(3)} ms, max ${prop.max.toFixed(3)} ms  (target p99 ≤ 5 ms)`,
  );
  const det = await detection(rounds, heartbeatMs);
  const fmt = (v: number[]) => `max ${Math.max(...v).toFixed(0)} ms, median ${percentile(v, 50).toFixed(0)} ms (${v.map((x) => x.toFixed(0)).join(', ')})`;
  console.log(`killed peer detected (heartbeat ${heartbeatMs} ms), ${rounds} rounds: ${fmt(det.killed)}  (target ≤ 1000 ms)`);
  console.log(`frozen peer detected (SIGSTOP, heartbeat ${heartbeatMs} ms), ${rounds} rounds: ${fmt(det.frozen)}  (target ≤ 3000 ms)`);
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
