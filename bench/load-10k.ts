/**
 * 10,000 concurrent tunnels through one node (raw SOCKS5 to a local origin,
 * in a child process, that sends 1 KiB and keeps the connection open): the
 * node's RSS and open descriptors (/proc/PID/fd) at the start, at the peak,
 * and after every tunnel is closed; twice, to see whether the second round
 * ends where the first did. The node runs under `ulimit -n 65536` (or the
 * hard limit, if lower) with limits.maxProxyConnections derived from it
 * ((ulimit − fdReserve) / 2); tunnels beyond that limit must be refused
 * promptly, never hang.
 *
 * Targets: min(N, the node's proxy connection limit) tunnels open at once,
 * the rest refused within the handshake timeout, the node's descriptors back
 * to the baseline after each round, the node alive.
 *
 *   npm run build && node dist/bench/load-10k.js [--n 10000] [--rounds 2] [--concurrency 200]
 */
import { fork, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import type * as net from 'node:net';
import {
  fdCount,
  fdKinds,
  fetchVia,
  fmt,
  machineLine,
  numberArg,
  openFilesLimit,
  pool,
  readBytes,
  rssKiB,
  runBench,
  atExit,
  sleep,
  socks5,
  spawnNode,
  startOrigin,
  startRawOrigin,
  stopNode,
  table,
  Targets,
} from './lib/rig';

const N = numberArg('n', 10_000);
const ROUNDS = numberArg('rounds', 2);
const CONCURRENCY = numberArg('concurrency', 200);
/** The hard RLIMIT_NOFILE caps what `ulimit -n` may ask for without CAP_SYS_RESOURCE. */
const HARD = (() => {
  const m = /^Max open files\s+\S+\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return m?.[1] === 'unlimited' ? Infinity : Number(m?.[1] ?? 1024);
})();
const ULIMIT = Math.min(65536, HARD);
const FD_RESERVE = 64; // DEFAULT_LIMITS.fdReserve
const NODE_LIMIT = Math.max(1, Math.floor((ULIMIT - FD_RESERVE) / 2));
const EXPECTED = Math.min(N, NODE_LIMIT);

async function main(): Promise<boolean> {
  console.log(`# load-10k — ${machineLine()}`);
  console.log(
    `${N} concurrent tunnels × ${ROUNDS} rounds, opened ${CONCURRENCY} at a time; node under ulimit -n ${ULIMIT} (hard limit ${HARD}), so its proxy takes ${NODE_LIMIT} connections at once: expecting ${EXPECTED} open${EXPECTED < N ? `, ${N - EXPECTED} refused` : ''}\n`,
  );
  const originChild = fork(__filename, ['--origin'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  atExit(() => originChild.kill('SIGKILL'));
  const origin = { port: await new Promise<number>((resolve) => originChild.once('message', (m) => resolve(Number(m)))) };
  const http = await startOrigin();
  const node = await spawnNode({ name: 'node', ulimit: ULIMIT, logLimit: 2_000_000 });
  atExit(() => node.kill('SIGKILL'));
  await sleep(1000);
  // Warm-up: the first tunnels load code and allocate pools that stay.
  await openAndClose(node.pport, origin.port, 200);
  await sleep(2000);
  const base = { fds: fdCount(node.pid)!, rss: rssKiB(node.pid)!, kinds: fdKinds(node.pid) };
  console.log(
    `node pid ${node.pid}: baseline ${base.fds} fds, RSS ${fmt(base.rss / 1024)} MiB (proxy connection limit from the log: ${/limit[^\n]*connections[^\n]*/i.exec(node.log())?.[0] ?? 'not logged'})`,
  );

  const rows: (string | number)[][] = [];
  const t = new Targets();
  for (let round = 1; round <= ROUNDS; round++) {
    const sockets: net.Socket[] = [];
    const errors = new Map<string, number>();
    let refusedMaxMs = 0;
    const t0 = Date.now();
    await pool(Array.from({ length: N }), CONCURRENCY, async () => {
      const r0 = Date.now();
      try {
        const s = await socks5(node.pport, '127.0.0.1', origin.port, { timeoutMs: 30_000 });
        await readBytes(s, 1024);
        s.on('error', () => undefined);
        sockets.push(s);
      } catch (err) {
        const m = (err as Error).message.replace(/:\d+/g, ':PORT');
        errors.set(m, (errors.get(m) ?? 0) + 1);
        refusedMaxMs = Math.max(refusedMaxMs, Date.now() - r0);
      }
    });
    const openMs = Date.now() - t0;
    await sleep(1000);
    const peak = { fds: fdCount(node.pid)!, rss: rssKiB(node.pid)! };
    // One more request while 10,000 are open: is the node still serving?
    const probe = await fetchVia(node.pport, '127.0.0.1', http.port, '/small', 10_000);
    const c0 = Date.now();
    for (const s of sockets) s.destroy();
    let after = fdCount(node.pid)!;
    while (after > base.fds && Date.now() - c0 < 30_000) {
      await sleep(250);
      after = fdCount(node.pid)!;
    }
    const drainMs = Date.now() - c0;
    await sleep(2000);
    after = fdCount(node.pid)!;
    const afterRss = rssKiB(node.pid)!;
    rows.push([
      round,
      sockets.length,
      N - sockets.length,
      fmt(openMs / 1000),
      fmt(sockets.length / (openMs / 1000), 0),
      peak.fds,
      fmt(peak.rss / 1024),
      `${probe.kind} ${fmt(probe.ms, 0)} ms`,
      after,
      fmt(drainMs / 1000),
      fmt(afterRss / 1024),
    ]);
    if (errors.size) console.log(`round ${round} failures: ${[...errors].map(([k, n]) => `${n} × ${k}`).join(', ')}`);
    t.check(`round ${round}: ${EXPECTED} tunnels open at once`, sockets.length >= EXPECTED, `${sockets.length} opened`);
    if (EXPECTED < N)
      t.check(
        `round ${round}: the ${N - EXPECTED} over the limit refused promptly`,
        N - sockets.length === N - EXPECTED && refusedMaxMs < 15_000,
        `${N - sockets.length} refused, slowest after ${refusedMaxMs} ms`,
      );
    t.check(`round ${round}: node fds back to baseline`, after <= base.fds, `${base.fds} → peak ${peak.fds} → ${after}`);
    if (after > base.fds) {
      const k = fdKinds(node.pid);
      console.log(
        `round ${round}: fd kinds above baseline: ${Object.keys(k)
          .filter((x) => (k[x] ?? 0) > (base.kinds[x] ?? 0))
          .map((x) => `${x} ${base.kinds[x] ?? 0}→${k[x]}`)
          .join(', ')}`,
      );
    }
  }
  console.log(
    table(
      [
        'round',
        'tunnels open',
        'refused',
        'open s',
        'tunnels/s',
        'fds at peak',
        'RSS peak MiB',
        'extra request at peak',
        'fds after close',
        'close→baseline s',
        'RSS after MiB',
      ],
      rows,
    ),
  );
  console.log(`\nbaseline: ${base.fds} fds, RSS ${fmt(base.rss / 1024)} MiB; node alive: ${node.alive}`);
  t.check('node kept running', node.alive, node.alive ? 'alive' : 'EXITED');
  console.log(`\n${t.report()}`);
  await stopNode(node, 10_000);
  originChild.kill('SIGTERM');
  await http.close();
  return t.ok;
}

async function openAndClose(proxyPort: number, originPort: number, n: number): Promise<void> {
  const sockets: net.Socket[] = [];
  await pool(Array.from({ length: n }), 50, async () => {
    const s = await socks5(proxyPort, '127.0.0.1', originPort);
    await readBytes(s, 1024);
    sockets.push(s);
  });
  for (const s of sockets) s.destroy();
}

if (process.argv.includes('--origin')) {
  void startRawOrigin('127.0.0.1', { holdBytes: 1024, backlog: 65535 }).then((o) => process.send!(o.port));
  process.on('disconnect', () => process.exit(0));
} else if (openFilesLimit() < Math.min(ULIMIT, N + 1000) && !process.env.LOAD10K_REEXEC) {
  // Node cannot raise its own RLIMIT_NOFILE: run again under bash's ulimit.
  const r = spawnSync(
    'bash',
    ['-c', `ulimit -n ${ULIMIT} || exit 97; exec "$@"`, 'x', process.execPath, ...process.execArgv, __filename, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
      env: { ...process.env, LOAD10K_REEXEC: '1' },
    },
  );
  if (r.status === 97) console.error(`cannot raise ulimit -n to ${ULIMIT} (needs root, or a hard limit that high); run as root or lower --n`);
  process.exit(r.status ?? 1);
} else {
  runBench('load-10k', main, 10 * 60_000);
}
