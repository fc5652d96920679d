/**
 * Soak: three nodes on 127.0.0.1 (A wired to B and C with `booster connect`,
 * all child processes), one peer SIGKILLed and restarted on the same ports
 * every 30 s, alternately; meanwhile a client downloads slices of random size
 * (64 KiB–4 MiB) of a deterministic pattern through A's proxy, 8 at a time,
 * and checks every body's sha256.
 *
 * Afterwards: A's descriptors back to where they were with both peers wired,
 * A's workload and every peer's reported open tunnels back to 0 (`status
 * --json` on A, B and C), no download reported complete with a wrong or short
 * body (a peer's death must reach the client as a reset, never as a clean
 * end), A never crashed.
 *
 *   npm run build && node dist/bench/soak.js
 *   SOAK_MS=60000 node dist/bench/soak.js        # a dry run
 *   env: SOAK_MS (600000), SOAK_KILL_MS (30000), SOAK_CONCURRENCY (8), SOAK_FD_TOLERANCE (2)
 */
import * as os from 'node:os';
import * as path from 'node:path';
import {
  benchEnv,
  cli,
  countLogLines,
  tcpConnections,
  fdCount,
  fdKinds,
  fetchVia,
  fmt,
  freePort,
  killAtExit,
  machineLine,
  openTunnelsOf,
  percentile,
  PATTERN,
  rssKiB,
  runBench,
  sleep,
  sliceSha256,
  spawnNode,
  startOrigin,
  status,
  stopNode,
  table,
  Targets,
  type NodeProc,
  type StatusEntry,
} from './lib/rig';

const SOAK_MS = Number(process.env.SOAK_MS ?? 600_000);
const KILL_MS = Number(process.env.SOAK_KILL_MS ?? 30_000);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 8);
/**
 * Descriptors A may hold above its baseline at the end. Both peer links are
 * up at both measurements, so the expected difference is 0; 2 allows for a
 * peer link being replaced at that very moment (a reconnection probe's socket
 * and the old link's socket not yet closed), which is not a leak.
 */
const FD_TOLERANCE = Number(process.env.SOAK_FD_TOLERANCE ?? 2);
const MIN = 64 * 1024;
const MAX = 4 * 1024 * 1024;

/** Every node's whole log goes here (B and C appended across restarts). */
const LOG_DIR = process.env.SOAK_LOG_DIR ?? os.tmpdir();
const logFile = (name: string) => path.join(LOG_DIR, `bst-soak-${process.pid}-${name}.log`);
const RESET = /reset (\d+) tunnel\(s\) through peer/;
const ERRORS = / ERROR /;
const BACK = /is back; wired again/;
countLogLines(RESET, ERRORS, BACK);

async function main(): Promise<boolean> {
  console.log(`# soak — ${machineLine()}`);
  console.log(`SOAK_MS=${SOAK_MS} kill every ${KILL_MS} ms, ${CONCURRENCY} concurrent downloads of ${MIN / 1024} KiB–${MAX / 1024 / 1024} MiB\n`);
  benchEnv();
  const origin = await startOrigin();
  const ports = { b: [await freePort(), await freePort()], c: [await freePort(), await freePort()] };
  const peers: Record<'B' | 'C', NodeProc> = {
    B: await spawnNode({ name: 'B', pport: ports.b[0], bport: ports.b[1], logLimit: 200_000, logFile: logFile('B') }),
    C: await spawnNode({ name: 'C', pport: ports.c[0], bport: ports.c[1], logLimit: 200_000, logFile: logFile('C') }),
  };
  killAtExit(peers.B);
  killAtExit(peers.C);
  const a = await spawnNode({ name: 'A', logLimit: 2_000_000, logFile: logFile('A') });
  console.log(`logs: ${logFile('A')}, ${logFile('B')}, ${logFile('C')}`);
  killAtExit(a);
  await cli(['connect', `127.0.0.1:${a.bport}`, `127.0.0.1:${peers.B.bport}`]);
  await cli(['connect', `127.0.0.1:${a.bport}`, `127.0.0.1:${peers.C.bport}`]);
  await waitPeersUp(a, 2, 15_000);
  await sleep(1000);
  const fdBefore = fdCount(a.pid)!;
  const kindsBefore = fdKinds(a.pid);
  const rssBefore = rssKiB(a.pid)!;
  console.log(`A pid ${a.pid}: ${fdBefore} fds, RSS ${fmt(rssBefore / 1024)} MiB with B and C wired; soaking…`);

  // ---- the client
  const counts = { ok: 0, corrupt: 0, short: 0, reset: 0, refused: 0, timeout: 0, bad: 0 };
  const failures: { at: number; kind: string; detail: string }[] = [];
  const okMs: number[] = [];
  let bytes = 0;
  const started = Date.now();
  const deadline = started + SOAK_MS;
  const worker = async () => {
    while (Date.now() < deadline && a.alive) {
      const len = MIN + Math.floor(Math.random() * (MAX - MIN + 1));
      const off = Math.floor(Math.random() * (PATTERN.length - len + 1));
      const o = await fetchVia(a.pport, '127.0.0.1', origin.port, `/blob?off=${off}&len=${len}`, 60_000);
      if (o.kind === 'ok') {
        if (o.sha256 === sliceSha256(off, len)) {
          counts.ok++;
          bytes += o.bytes;
          okMs.push(o.ms);
        } else {
          counts.corrupt++;
          failures.push({ at: Date.now() - started, kind: 'corrupt', detail: `off ${off} len ${len}: sha256 mismatch` });
        }
      } else {
        counts[o.kind]++;
        failures.push({
          at: Date.now() - started,
          kind: o.kind,
          detail: 'error' in o ? o.error : o.kind === 'short' ? `${o.bytes}/${o.expected} bytes then a clean end` : `${o.bytes} bytes`,
        });
        if (o.kind === 'refused') await sleep(50); // no busy loop while every source is failing
      }
    }
  };
  const workers = Promise.all(Array.from({ length: CONCURRENCY }, worker));

  // ---- the killer, and a look at where the tunnels go
  const kills: { at: number; who: string; backMs: number; rssMiB: number; fds: number }[] = [];
  const peerShare: number[] = [];
  let turn: 'B' | 'C' = 'B';
  let nextKill = started + KILL_MS;
  while (Date.now() < deadline && a.alive) {
    await sleep(Math.max(0, Math.min(nextKill, deadline) - Date.now()));
    if (Date.now() >= deadline || !a.alive) break;
    try {
      const st = await status(a.bport);
      peerShare.push(
        st.slice(1).reduce((n, e) => n + openTunnelsOf(e), 0) /
          Math.max(
            1,
            st.reduce((n, e) => n + openTunnelsOf(e), 0),
          ),
      );
    } catch {
      // status is best effort here
    }
    const victim = peers[turn];
    const at = Date.now() - started;
    const backBefore = a.count(BACK);
    victim.kill('SIGKILL');
    await victim.exited;
    const t0 = Date.now();
    peers[turn] = await spawnNode({
      name: turn,
      pport: turn === 'B' ? ports.b[0] : ports.c[0],
      bport: turn === 'B' ? ports.b[1] : ports.c[1],
      logLimit: 200_000,
      logFile: logFile(turn),
    });
    killAtExit(peers[turn]);
    let backMs = NaN;
    for (let i = 0; i < 100 && a.alive; i++) {
      if (a.count(BACK) > backBefore) {
        backMs = Date.now() - t0;
        break;
      }
      await sleep(50);
    }
    kills.push({ at, who: turn, backMs, rssMiB: (rssKiB(a.pid) ?? NaN) / 1024, fds: fdCount(a.pid) ?? NaN });
    turn = turn === 'B' ? 'C' : 'B';
    nextKill += KILL_MS;
  }
  await workers;
  const elapsed = (Date.now() - started) / 1000;
  if (!a.alive) {
    const exit = await a.exited;
    console.log(
      `\n!! A EXITED after ${fmt(elapsed, 0)} s (code ${exit.code}, signal ${exit.signal}); the soak stopped there. End of A's log:\n${a.log().slice(-4000)}`,
    );
  }

  // ---- afterwards
  let peersUp = true;
  try {
    await waitPeersUp(a, 2, 15_000);
  } catch {
    peersUp = false;
  }
  const settled = await waitTunnelsZero([a, peers.B, peers.C], 20_000);
  await sleep(1000);
  let fdAfter = fdCount(a.pid) ?? NaN;
  for (let i = 0; i < 10 && fdAfter > fdBefore + FD_TOLERANCE; i++) {
    await sleep(500);
    fdAfter = fdCount(a.pid) ?? NaN;
  }
  const kindsAfter = fdKinds(a.pid);
  const rssAfter = rssKiB(a.pid) ?? NaN;
  const aliveA = a.alive;

  const failed = counts.reset + counts.refused + counts.timeout + counts.bad + counts.short + counts.corrupt;
  const nearKill = failures.filter((f) => kills.some((k) => f.at >= k.at && f.at - k.at <= 5000)).length;
  console.log('\n## downloads');
  console.log(
    table(
      [
        'completed ok',
        'sha256 mismatch',
        'short body, clean end',
        'reset',
        'refused (SOCKS)',
        'timeout',
        'no response (clean end)',
        'GiB ok',
        'MB/s',
        'p50 / p99 ms',
      ],
      [
        [
          counts.ok,
          counts.corrupt,
          counts.short,
          counts.reset,
          counts.refused,
          counts.timeout,
          counts.bad,
          fmt(bytes / 2 ** 30, 2),
          fmt(bytes / 1e6 / elapsed, 0),
          `${fmt(percentile(okMs, 50), 0)} / ${fmt(percentile(okMs, 99), 0)}`,
        ],
      ],
    ),
  );
  console.log(`\nfailures: ${failed}, of which ${nearKill} within 5 s after a kill`);
  const kinds = new Map<string, number>();
  for (const f of failures) kinds.set(`${f.kind}: ${f.detail}`, (kinds.get(`${f.kind}: ${f.detail}`) ?? 0) + 1);
  for (const [k, n] of [...kinds].sort((x, y) => y[1] - x[1]).slice(0, 8)) console.log(`  ${n} × ${k}`);
  console.log('\n## peers');
  console.log(
    `kills: ${kills.length} (${kills.map((k) => `${k.who}@${Math.round(k.at / 1000)}s→wired again ${fmt(k.backMs / 1000, 1)}s`).join(', ') || 'none'})`,
  );
  console.log(`share of A's open tunnels on peers, sampled before each kill: ${peerShare.map((x) => fmt(x * 100, 0) + '%').join(' ') || '–'}`);
  console.log(`A's RSS (MiB) / fds at each kill: ${kills.map((k) => `${fmt(k.rssMiB, 0)}/${k.fds}`).join(' ') || '–'}`);
  console.log(`A's log: ${a.count(RESET)} "reset … tunnel(s) through peer" lines, ${a.count(ERRORS)} ERROR lines`);
  console.log('\n## node A');
  console.log(
    table(
      ['', 'before', 'after', 'Δ'],
      [
        ['fds', fdBefore, fdAfter, fdAfter - fdBefore],
        ['RSS MiB', fmt(rssBefore / 1024), fmt(rssAfter / 1024), fmt((rssAfter - rssBefore) / 1024)],
      ],
    ),
  );
  if (fdAfter > fdBefore) {
    // Which side of a tunnel is left over: name each TCP connection A holds by the port at the other end.
    const name = (port: number) =>
      port === origin.port
        ? 'origin'
        : port === ports.b[0]
          ? "B's proxy"
          : port === ports.c[0]
            ? "C's proxy"
            : port === ports.b[1]
              ? "B's endpoint"
              : port === ports.c[1]
                ? "C's endpoint"
                : 'ephemeral (a client or CLI)';
    const groups = new Map<string, number>();
    for (const c of tcpConnections(a.pid)) {
      const k =
        c.state === 'LISTEN'
          ? `listening :${c.local}`
          : c.local === a.pport
            ? `client → A's proxy (${c.state})`
            : c.local === a.bport
              ? `→ A's endpoint from ${name(c.remote)} (${c.state})`
              : `A → ${name(c.remote)} (${c.state})`;
      groups.set(k, (groups.get(k) ?? 0) + 1);
    }
    console.log(`A's TCP connections at the end: ${[...groups].map(([k, n]) => `${n} × ${k}`).join(', ')}`);
  }
  const kindDiff = Object.keys({ ...kindsBefore, ...kindsAfter }).filter((k) => (kindsBefore[k] ?? 0) !== (kindsAfter[k] ?? 0));
  if (kindDiff.length) console.log(`fd kinds that changed: ${kindDiff.map((k) => `${k} ${kindsBefore[k] ?? 0}→${kindsAfter[k] ?? 0}`).join(', ')}`);
  console.log(`open tunnels at the end: ${settled.detail}`);

  const t = new Targets();
  t.check('A kept running', aliveA, aliveA ? `pid ${a.pid} alive` : `A exited after ${fmt(elapsed, 0)} s (see its log above)`);
  t.check('no body with a wrong sha256', counts.corrupt === 0, `${counts.corrupt}`);
  t.check(
    'no truncation reported as a clean end',
    counts.short === 0,
    `${counts.short} bodies shorter than their Content-Length ended by a clean FIN (${counts.bad} other failures: no response head, visible to any client)`,
  );
  t.check('no download hung (60 s)', counts.timeout === 0, `${counts.timeout}`);
  t.check('downloads completed', counts.ok > 0, `${counts.ok}`);
  t.check('B and C wired again at the end', peersUp, peersUp ? 'both up' : 'not both up');
  t.check(`A's fds back to baseline (+${FD_TOLERANCE})`, fdAfter <= fdBefore + FD_TOLERANCE, `${fdBefore} → ${fdAfter}`);
  t.check('workload and tunnels back to 0 (A, B, C)', settled.zero, settled.detail);
  console.log(`\n${t.report()}`);
  await stopNode(a);
  await stopNode(peers.B);
  await stopNode(peers.C);
  await origin.close();
  return t.ok;
}

async function waitPeersUp(a: NodeProc, n: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    let st: StatusEntry[] = [];
    try {
      st = await status(a.bport);
    } catch {
      // retry
    }
    if (st.slice(1).filter((e) => e.active).length >= n) return;
    if (Date.now() > until) throw new Error(`A has not ${n} active peers: ${JSON.stringify(st.map((e) => [e.baddr, e.active]))}`);
    await sleep(300);
  }
}

/** Polls `status --json` on every node until all report no open tunnel (A: its own and its peers' reported workload). */
async function waitTunnelsZero(nodes: NodeProc[], timeoutMs: number): Promise<{ zero: boolean; detail: string }> {
  const until = Date.now() + timeoutMs;
  let detail = '';
  for (;;) {
    const parts: string[] = [];
    let total = 0;
    for (const n of nodes) {
      try {
        const st = await status(n.bport);
        const seen = st.map((e, i) => `${i === 0 ? n.name : `${n.name}'s view of ${e.baddr}`}=${openTunnelsOf(e)}`);
        total += st.reduce((x, e) => x + openTunnelsOf(e), 0);
        parts.push(seen.join(' '));
      } catch (err) {
        total += 1;
        parts.push(`${n.name}: status failed (${(err as Error).message.slice(0, 120)})`);
      }
    }
    detail = parts.join('; ');
    if (total === 0) return { zero: true, detail };
    if (Date.now() > until) return { zero: false, detail };
    await sleep(500);
  }
}

runBench('soak', main, SOAK_MS + 10 * 60_000);
