/**
 * Memory per idle tunnel: an origin sends 300 KiB on each connection and then
 * keeps it open; N tunnels (1,000) are opened through the proxy (raw SOCKS5),
 * each reads its 300 KiB and then stays open and idle. The proxy's RSS before
 * (after a warm-up of 50 such tunnels, closed again) and after (at once, and
 * after a few seconds of settling) gives (after − before) / N. Target: ≤ 32 KiB
 * per idle tunnel for booster. microsocks, if installed (`apt-get install
 * microsocks`), is measured the same way in the same run as a reference.
 *
 *   npm run build && node dist/bench/idle-tunnels.js [--n 1000] [--settle-ms 5000]
 */
import { spawn } from 'node:child_process';
import type * as net from 'node:net';
import {
  fdCount,
  fmt,
  freePort,
  machineLine,
  numberArg,
  pool,
  readBytes,
  rssKiB,
  runBench,
  atExit,
  sleep,
  socks5,
  spawnNode,
  startRawOrigin,
  stopNode,
  table,
  Targets,
} from './lib/rig';

const N = numberArg('n', 1000);
const SETTLE_MS = numberArg('settle-ms', 5000);
const HOLD_BYTES = 300 * 1024;
const TARGET_KIB = 32;

interface Row {
  readonly proxy: string;
  readonly cold: number;
  readonly before: number;
  readonly after: number;
  readonly settled: number;
  readonly closed: number;
  readonly fdsOpen: number;
  readonly opened: number;
  readonly openMs: number;
}

/** Opens `n` tunnels through the proxy, each reading HOLD_BYTES; resolves with the open sockets. */
async function openIdle(proxyPort: number, originPort: number, n: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  await pool(Array.from({ length: n }), 50, async () => {
    const s = await socks5(proxyPort, '127.0.0.1', originPort, { timeoutMs: 20_000 });
    await readBytes(s, HOLD_BYTES, 20_000);
    s.on('error', () => undefined);
    sockets.push(s);
  });
  return sockets;
}

async function measure(proxy: string, pid: number, proxyPort: number, originPort: number): Promise<Row> {
  await sleep(1000);
  const cold = rssKiB(pid)!;
  const warm = await openIdle(proxyPort, originPort, 50);
  for (const s of warm) s.destroy();
  await sleep(2000);
  const before = rssKiB(pid)!;
  const t0 = Date.now();
  const sockets = await openIdle(proxyPort, originPort, N);
  const openMs = Date.now() - t0;
  const after = rssKiB(pid)!;
  await sleep(SETTLE_MS);
  const settled = rssKiB(pid)!;
  const fdsOpen = fdCount(pid) ?? NaN;
  for (const s of sockets) s.destroy();
  await sleep(2000);
  const closed = rssKiB(pid)!;
  return { proxy, cold, before, after, settled, closed, fdsOpen, opened: sockets.length, openMs };
}

async function main(): Promise<boolean> {
  console.log(`# idle tunnels — ${machineLine()}`);
  console.log(`N = ${N} tunnels, each read ${HOLD_BYTES / 1024} KiB and then idle; settle ${SETTLE_MS} ms\n`);
  const origin = await startRawOrigin('127.0.0.1', { holdBytes: HOLD_BYTES });
  const rows: Row[] = [];

  const node = await spawnNode({ name: 'booster', ulimit: 8192 });
  atExit(() => node.kill('SIGKILL'));
  rows.push(await measure('booster', node.pid, node.pport, origin.port));
  await stopNode(node);

  let microsocks = 'not installed (apt-get install -y microsocks)';
  const port = await freePort();
  const ms = spawn('microsocks', ['-i', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const spawned = await new Promise<boolean>((resolve) => {
    ms.once('error', () => resolve(false));
    ms.once('spawn', () => resolve(true));
  });
  if (spawned) {
    atExit(() => ms.kill('SIGKILL'));
    await sleep(300);
    rows.push(await measure('microsocks', ms.pid!, port, origin.port));
    ms.kill('SIGTERM');
    microsocks = 'measured';
  }
  await origin.close();

  const per = (r: Row) => (r.settled - r.before) / r.opened;
  console.log(
    table(
      [
        'proxy',
        'tunnels',
        'open s',
        'RSS cold MiB',
        'before MiB',
        'after MiB',
        'settled MiB',
        'closed MiB',
        'fds open',
        'KiB / idle tunnel (settled)',
        'KiB / tunnel (at once)',
      ],
      rows.map((r) => [
        r.proxy,
        r.opened,
        fmt(r.openMs / 1000),
        fmt(r.cold / 1024),
        fmt(r.before / 1024),
        fmt(r.after / 1024),
        fmt(r.settled / 1024),
        fmt(r.closed / 1024),
        r.fdsOpen,
        fmt(per(r)),
        fmt((r.after - r.before) / r.opened),
      ]),
    ),
  );
  if (!spawned) console.log(`\nmicrosocks: ${microsocks}`);
  const t = new Targets();
  const b = rows[0];
  t.check(`booster ≤ ${TARGET_KIB} KiB per idle tunnel`, b.opened === N && per(b) <= TARGET_KIB, `${fmt(per(b))} KiB (${b.opened}/${N} tunnels)`);
  console.log(`\n${t.report()}`);
  return t.ok;
}

runBench('idle-tunnels', main, 10 * 60_000);
