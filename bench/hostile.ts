/**
 * A node under hostile input: its RSS (VmRSS every 100 ms), whether it keeps
 * running, and what a legitimate client fetching 1 KiB through its proxy every
 * ~20 ms sees (p50/p99), while, one after the other and then all together:
 *
 *  (a) 60 endpoint connections each send a packet header declaring 255
 *      modules of 65,535 bytes and then dribble the packet (up to one byte
 *      short of its 16.7 MB), reconnecting when cut: from another network
 *      namespace through 60 addresses (anonymous: the 4 KiB pre-auth cap) and
 *      from loopback (trusted as this machine: the 1 MiB packet cap);
 *  (b) an authenticated peer floods ProxyUpdates: a fake peer (our own
 *      server doing StartTls, TLS with the network key and the server side of
 *      the booster.v1 authentication) that the node is told to `connect` to,
 *      which answers Notify with unique 10 KB targets (limits.maxTargetLength)
 *      and then, on a second fake peer, unique short targets
 *      (limits.maxPeerTargets); the node must drop it and not reconnect;
 *  (c) slowloris: 1,000 endpoint connections (from the other namespace when
 *      there is one, else loopback) and 1,000 proxy connections (loopback)
 *      that send a few bytes and then nothing, reconnecting when cut.
 *
 * As root the whole bench runs inside a network namespace of its own (the
 * node binds 0.0.0.0 there, reachable only from a second namespace holding
 * the anonymous attackers, 10.234.N.0/24); both are removed at exit. Without
 * root only the loopback attacks run.
 *
 * Targets: RSS ≤ 250 MB, the node never exits, legit p99 < 50 ms in every
 * phase, the anonymous dribblers cut within 4 KiB and the local ones within
 * 1 MiB, every flooding peer dropped (and not reconnected).
 *
 *   npm run build && node dist/bench/hostile.js
 *   env: HOSTILE_PHASE_MS (15000), HOSTILE_SLOWLORIS (1000), HOSTILE_DRIBBLERS (60),
 *        HOSTILE_RECONNECT_MS (1000: a cut attacker connects again after 0.5–1.5 × this), HOSTILE_NETNS=0 (loopback only)
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import {
  benchEnv,
  countLogLines,
  fdCount,
  fetchVia,
  fmt,
  machineLine,
  percentile,
  RssSampler,
  runBench,
  atExit,
  sleep,
  spawnNode,
  startOrigin,
  stopNode,
  table,
  Targets,
} from './lib/rig';
import { RawLink } from '../test/helpers/raw-link';
import { ProtocolLink, type WireMessage } from '../src/network/link/protocol';
import { Authenticator, nonce, type Transcript } from '../src/security/auth';
import { NetworkKey } from '../src/security/key';
import { channelBinding, PskTls } from '../src/security/tls';

const PHASE_MS = Number(process.env.HOSTILE_PHASE_MS ?? 15_000);
const SLOWLORIS = Number(process.env.HOSTILE_SLOWLORIS ?? 1000);
const DRIBBLERS = Number(process.env.HOSTILE_DRIBBLERS ?? 60);
/** How long a cut attacker waits before it connects again (1 s ± 50 %): pressure without turning into a connection flood. */
const RECONNECT_MS = Number(process.env.HOSTILE_RECONNECT_MS ?? 1000);
/** Bytes a dribbler writes every 25 ms (640 KB/s per connection). */
const DRIBBLE_BYTES = 16 * 1024;
const RSS_TARGET_MB = 250;
const P99_TARGET_MS = 50;
const LEGIT_TIMEOUT_MS = 5000;

// ============================================================== attacker roles (child processes)

interface RoleResult {
  [k: string]: unknown;
}
const emit = (tag: 'ready' | 'result', data: RoleResult) => process.stdout.write(`@@${tag} ${JSON.stringify(data)}\n`);

/** Packet: '>' 1 ':' 1 ':' 1 ':' 255, then 255 modules "[" id ":" 0xFFFF ":" 65535 bytes "]", then '<'. */
const MODULES = 255;
const MODULE_BYTES = 7 + 65535 + 1;
const PACKET_BYTES = 8 + MODULES * MODULE_BYTES + 1;
function packetBytes(off: number, len: number): Buffer {
  const out = Buffer.alloc(len, 0x41);
  for (let i = 0; i < len; i++) {
    const p = off + i;
    if (p < 8) out[i] = [0x3e, 1, 0x3a, 1, 0x3a, 1, 0x3a, MODULES][p];
    else if (p === PACKET_BYTES - 1) out[i] = 0x3c;
    else {
      const m = Math.floor((p - 8) / MODULE_BYTES);
      const q = (p - 8) % MODULE_BYTES;
      if (q === 0) out[i] = 0x5b;
      else if (q === 1) out[i] = 65 + Math.floor(m / 26);
      else if (q === 2) out[i] = 65 + (m % 26);
      else if (q === 3 || q === 6) out[i] = 0x3a;
      else if (q === 4 || q === 5) out[i] = 0xff;
      else if (q === MODULE_BYTES - 1) out[i] = 0x5d;
      else {
        // payload: 'A' already; skip ahead to the module's end
        const skip = Math.min(len - i, MODULE_BYTES - 1 - q) - 1;
        i += skip;
      }
    }
  }
  return out;
}

function connectFrom(host: string, port: number, localAddress?: string): net.Socket {
  return net.connect({ host, port, localAddress, noDelay: true });
}

interface AttackerParams {
  host: string;
  port: number;
  conns: number;
  durationMs: number;
  /** Local addresses to connect from, one per attacker in turn. */
  bindIps?: string[];
  reconnectMs: number;
}

/**
 * Says 'ready', then runs p.conns attackers until the phase ends: attacker k
 * waits up to `staggerMs`, then connects (from bindIps[k], round robin),
 * lets `attack` have the socket until it resolves, and, while time is left,
 * waits 0.5–1.5 × p.reconnectMs before it connects again. Resolves with the
 * number of connections made.
 */
async function attackers(p: AttackerParams, end: number, attack: (s: net.Socket, k: number) => Promise<void>, staggerMs = 0): Promise<number> {
  let connections = 0;
  const slot = async (k: number) => {
    if (staggerMs > 0) await sleep(Math.random() * staggerMs);
    while (Date.now() < end) {
      connections++;
      await attack(connectFrom(p.host, p.port, p.bindIps?.[k % p.bindIps.length]), k);
      if (Date.now() < end) await sleep(p.reconnectMs * (0.5 + Math.random()));
    }
  };
  emit('ready', {});
  await Promise.all(Array.from({ length: p.conns }, (_, k) => slot(k)));
  return connections;
}

/** (a) header + dribble, reconnecting when cut. */
async function roleDribble(p: AttackerParams): Promise<void> {
  const end = Date.now() + p.durationMs;
  const cutBytes: number[] = [];
  const cutMs: number[] = [];
  let survivors = 0;
  let unfinished = 0;
  let connectErrors = 0;
  const connections = await attackers(p, end, async (s) => {
    const outcome = await new Promise<{ written: number; ms: number; cut: boolean; connected: boolean; complete: boolean }>((resolve) => {
      let written = 0;
      let t0 = 0;
      let connected = false;
      let timer: NodeJS.Timeout | undefined;
      const total = PACKET_BYTES - 1; // one byte short
      const pump = () => {
        if (s.destroyed) return;
        if (Date.now() >= end) return finish(false);
        if (written >= total) return; // complete but one byte: hold it until the phase ends
        const n = Math.min(DRIBBLE_BYTES, total - written);
        const ok = s.write(packetBytes(written, n));
        written += n;
        if (ok) timer = setTimeout(pump, 25);
        else s.once('drain', () => (timer = setTimeout(pump, 25)));
      };
      const finish = (cut: boolean) => {
        clearTimeout(timer);
        clearTimeout(hold);
        s.destroy();
        resolve({ written, ms: Date.now() - t0, cut, connected, complete: written >= total });
      };
      const hold = setTimeout(() => finish(false), Math.max(0, end - Date.now()));
      s.on('data', () => undefined); // Hello, then whatever it says
      s.once('connect', () => {
        connected = true;
        t0 = Date.now();
        s.write(packetBytes(0, 15)); // prefix + the first module head, declaring 65,535 bytes
        written = 15;
        timer = setTimeout(pump, 25);
      });
      s.once('close', () => finish(true));
      s.on('error', () => undefined);
    });
    if (!outcome.connected) connectErrors++;
    else if (outcome.cut) {
      cutBytes.push(outcome.written);
      cutMs.push(outcome.ms);
    } else if (outcome.complete) survivors++;
    else unfinished++;
  });
  emit('result', {
    connections,
    connectErrors,
    cut: cutBytes.length,
    survivors,
    unfinished,
    perSecond: Math.round(connections / (p.durationMs / 1000)),
    maxBytesBeforeCut: Math.max(0, ...cutBytes),
    p50BytesBeforeCut: percentile(cutBytes, 50),
    p50CutMs: percentile(cutMs, 50),
    maxCutMs: Math.max(0, ...cutMs),
  });
}

/** (c) slowloris: a few bytes, then nothing; reconnect when cut. */
async function roleSlowloris(p: AttackerParams & { kind: 'endpoint' | 'proxy' }): Promise<void> {
  const end = Date.now() + p.durationMs;
  const heldMs: number[] = [];
  let refusedFast = 0;
  let openNow = 0;
  let peakOpen = 0;
  const greetings = [Buffer.from([5, 1]), Buffer.from([4, 1]), Buffer.from('GET http://127.0.0.1/ HTTP/1.1\r\nHo')];
  // Staggered over 500 ms: do not all arrive in the same millisecond.
  const connections = await attackers(
    p,
    end,
    async (s, k) => {
      const r = await new Promise<{ ms: number; byNode: boolean }>((resolve) => {
        let t0 = Date.now();
        let connected = false;
        const hold = setTimeout(() => done(false), Math.max(0, end - Date.now()));
        const done = (byNode: boolean) => {
          clearTimeout(hold);
          if (connected) openNow--;
          s.destroy();
          resolve({ ms: Date.now() - t0, byNode: byNode && connected });
        };
        s.once('connect', () => {
          connected = true;
          t0 = Date.now();
          peakOpen = Math.max(peakOpen, ++openNow);
          s.write(p.kind === 'endpoint' ? Buffer.from('>\x01:') : greetings[k % greetings.length]);
        });
        s.on('data', () => undefined);
        s.on('error', () => undefined);
        s.once('close', () => done(true));
      });
      if (r.byNode) {
        if (r.ms < 200) refusedFast++;
        else heldMs.push(r.ms);
      }
    },
    500,
  );
  emit('result', {
    connections,
    perSecond: Math.round(connections / (p.durationMs / 1000)),
    peakOpen,
    refusedFast,
    heldByNode: heldMs.length,
    p50HeldMs: percentile(heldMs, 50),
    maxHeldMs: Math.max(0, ...heldMs),
  });
}

/**
 * (b) a fake peer: it answers the node's dial like a booster node would
 * (Hello with booster.v1, StartTls + TLS with the network key, the server
 * side of the authentication), then answers Notify with a ProxyUpdate flood.
 */
async function roleFakePeer(p: { mode: 'long' | 'short'; cap: number; durationMs: number; pport: number }): Promise<void> {
  const key = NetworkKey.parse(process.env.BOOSTER_KEY!, 'BOOSTER_KEY');
  const auth = new Authenticator(key);
  const tls = new PskTls(key);
  let links = 0;
  let sent = 0;
  let floodStarted = 0;
  let closedAfterMs = -1;
  let closeReason = '';
  let authenticated = false;
  let droppedAt = 0;
  let reconnects = 0;
  let finished!: () => void;
  const over = new Promise<void>((r) => (finished = r));
  const server = net.createServer((socket) => {
    links++;
    if (droppedAt) reconnects++;
    socket.setNoDelay(true);
    const bport = (server.address() as net.AddressInfo).port;
    let link = new ProtocolLink(socket, 'fake peer', undefined, { maxBufferBytes: 256 * 1024 * 1024 });
    const serve = (l: ProtocolLink) => {
      let challenge: Transcript | undefined;
      l.onClose((reason) => {
        if (l !== link) return;
        if (floodStarted && !droppedAt) {
          droppedAt = Date.now();
          closedAfterMs = droppedAt - floodStarted;
          closeReason = reason;
          setTimeout(finished, 3000); // watch for a reconnection
        } else if (!floodStarted && !droppedAt) {
          closeReason = `closed before the flood: ${reason}`;
          finished();
        }
      });
      l.onMessage((m: WireMessage) => {
        switch (m.kind) {
          case 'start-tls': {
            l.sendStartTls();
            const raw = l.release();
            void tls.server(raw, 5000).then(
              (secured: Duplex) => {
                link = new ProtocolLink(secured, 'fake peer (TLS)', undefined, { maxBufferBytes: 256 * 1024 * 1024 });
                serve(link);
                link.sendHello(bport, p.pport);
              },
              (err: Error) => {
                closeReason = `TLS failed: ${err.message}`;
                finished();
              },
            );
            return;
          }
          case 'auth-init':
            challenge = {
              role: m.role as 'peer',
              clientNonce: m.nonce,
              serverNonce: nonce(),
              bport,
              pport: p.pport,
              binding: channelBinding(l.transportStream),
            };
            l.sendAuthChallenge(challenge.serverNonce, auth.proof('server', challenge));
            return;
          case 'auth-proof':
            if (!challenge || !auth.verify('client', challenge, m.proof)) {
              closeReason = 'the node sent a wrong proof';
              l.close();
              return;
            }
            authenticated = true;
            l.sendResult(0, 'authenticated as peer');
            return;
          case 'heartbeat':
            l.sendHeartbeat({ hops: m.beat.hops + 1, ttl: Date.now() + 1000 });
            return;
          case 'notify':
            if (!floodStarted) void flood(l);
            return;
          default:
        }
      });
    };
    serve(link);
    link.sendHello(bport, p.pport);
  });
  const flood = async (l: ProtocolLink) => {
    floodStarted = Date.now();
    const stream = l.transportStream;
    const pad = 'a'.repeat(10 * 1024);
    const until = floodStarted + p.durationMs;
    while (sent < p.cap && !l.isClosed && Date.now() < until) {
      const target = p.mode === 'long' ? `h${sent}-${pad}.example:443` : `h${sent}.example:443`;
      l.sendProxyUpdate(target, 'added', 'fakepeer');
      sent++;
      if (stream.writableLength > 1024 * 1024)
        await new Promise<void>((r) => {
          const t = setTimeout(r, 200);
          stream.once('drain', () => {
            clearTimeout(t);
            r();
          });
        });
      else if (sent % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    if (!l.isClosed) setTimeout(finished, 3000); // not dropped: give up after a while
  };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  emit('ready', { port: (server.address() as net.AddressInfo).port });
  await Promise.race([over, sleep(p.durationMs + 15_000)]);
  server.close();
  emit('result', { links, authenticated, sent, dropped: droppedAt > 0, closedAfterMs, closeReason, reconnects });
}

// ============================================================== coordinator

/** utime + stime of a process in ms (100 ticks/s). */
function cpuMs(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

/** All CPUs' busy and total ticks from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - (f[4] ?? 0), total };
}

interface Role {
  readonly ready: Promise<RoleResult>;
  readonly result: Promise<RoleResult>;
  kill(): void;
}

function spawnRole(role: string, params: object, netns?: string): Role {
  const argv = [process.execPath, __filename, '--role', role, JSON.stringify(params)];
  const child = netns
    ? spawn('ip', ['netns', 'exec', netns, 'bash', '-c', 'ulimit -n 16384; exec "$@"', 'x', ...argv], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, ...benchEnv() },
      })
    : spawn('bash', ['-c', 'ulimit -n 16384; exec "$@"', 'x', ...argv], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...benchEnv() } });
  atExit(() => child.kill('SIGKILL'));
  let buf = '';
  let onReady!: (r: RoleResult) => void;
  let onResult!: (r: RoleResult) => void;
  const ready = new Promise<RoleResult>((r) => (onReady = r));
  const result = new Promise<RoleResult>((r) => (onResult = r));
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const m = /^@@(ready|result) (.*)$/.exec(line);
      if (m) (m[1] === 'ready' ? onReady : onResult)(JSON.parse(m[2]) as RoleResult);
    }
  });
  child.once('exit', (code) => {
    onReady({ error: `exited ${code}` });
    onResult({ error: `${role} exited ${code} without a result` });
  });
  return { ready, result, kill: () => child.kill('SIGKILL') };
}

interface Net {
  /** Where attackers in the other namespace reach the node. */
  readonly nodeIp: string;
  readonly attackerNs: string;
  readonly attackerIps: string[];
}

/** Root: two namespaces joined by a veth pair; this coordinator re-runs itself in the first. */
function setUpNamespaces(): { nodeNs: string; net: Net; teardown: () => void } {
  const used = execFileSync('ip', ['-o', 'addr'], { encoding: 'utf8' });
  let n = 1 + (process.pid % 200);
  while (used.includes(`10.234.${n}.`)) n = 1 + ((n + 1) % 254);
  const tag = `${process.pid % 100000}`;
  const nodeNs = `bst-bench-hn${tag}`;
  const attackerNs = `bst-bench-ha${tag}`;
  const sh = (...a: string[]) => execFileSync(a[0], a.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  const teardown = () => {
    for (const ns of [nodeNs, attackerNs]) {
      try {
        sh('ip', 'netns', 'del', ns);
      } catch {
        // gone
      }
    }
  };
  teardown();
  sh('ip', 'netns', 'add', nodeNs);
  sh('ip', 'netns', 'add', attackerNs);
  try {
    const a = `bsthn${tag}`.slice(0, 15);
    const b = `bstha${tag}`.slice(0, 15);
    sh('ip', '-n', nodeNs, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', attackerNs);
    sh('ip', '-n', nodeNs, 'addr', 'add', `10.234.${n}.1/24`, 'dev', a);
    sh('ip', '-n', nodeNs, 'link', 'set', a, 'up');
    sh('ip', '-n', nodeNs, 'link', 'set', 'lo', 'up');
    const attackerIps: string[] = [];
    for (let i = 2; i < 2 + 60; i++) {
      sh('ip', '-n', attackerNs, 'addr', 'add', `10.234.${n}.${i}/24`, 'dev', b);
      attackerIps.push(`10.234.${n}.${i}`);
    }
    sh('ip', '-n', attackerNs, 'link', 'set', b, 'up');
    sh('ip', '-n', attackerNs, 'link', 'set', 'lo', 'up');
    return { nodeNs, net: { nodeIp: `10.234.${n}.1`, attackerNs, attackerIps }, teardown };
  } catch (err) {
    teardown();
    throw err;
  }
}

interface PhaseRow {
  readonly name: string;
  readonly nodeCpu: number;
  readonly machineBusy: number;
  readonly ms: number;
  readonly rssMax: number;
  readonly rssEnd: number;
  readonly fdMax: number;
  readonly legit: number[];
  readonly legitFailed: number;
  readonly notes: string[];
}

async function coordinator(netInfo: Net | undefined): Promise<boolean> {
  console.log(`# hostile — ${machineLine()}`);
  console.log(
    `phases of ${PHASE_MS} ms; ${DRIBBLERS} dribblers, ${SLOWLORIS} + ${SLOWLORIS} slowloris; ${netInfo ? `anonymous attackers from namespace ${netInfo.attackerNs} (${netInfo.attackerIps.length} addresses) → ${netInfo.nodeIp}` : 'loopback only (no namespaces: not root, or HOSTILE_NETNS=0)'}\n`,
  );
  const DROP = /dropping peer .*it broke a limit: (.*)$/gm;
  const DROPPING = /dropping peer/;
  const ERRORS = / ERROR /;
  // Why the node cut a dribbler, from its own log: the cap it applied to that connection.
  const CUT = {
    ns: {
      atCap: /10\.234\.\d+\.\d+:\d+ sent a bad packet: packet exceeds the 4096-byte limit/,
      other: /10\.234\.\d+\.\d+:\d+ sent a bad packet: packet exceeds the (?!4096-)\d+-byte limit/,
    },
    lo: {
      atCap: /127\.0\.0\.1:\d+ sent a bad packet: packet exceeds the 1048576-byte limit/,
      other: /127\.0\.0\.1:\d+ sent a bad packet: packet exceeds the (?!1048576-)\d+-byte limit/,
    },
  };
  countLogLines(DROPPING, ERRORS, CUT.ns.atCap, CUT.ns.other, CUT.lo.atCap, CUT.lo.other);
  const origin = await startOrigin();
  const node = await spawnNode({ name: 'node', bind: netInfo ? '0.0.0.0' : '127.0.0.1', ulimit: 8192, logLimit: 4_000_000 });
  atExit(() => node.kill('SIGKILL'));
  const sampler = new RssSampler(node.pid, 100).start();
  let fdMax = 0;
  const fdTimer = setInterval(() => (fdMax = Math.max(fdMax, fdCount(node.pid) ?? 0)), 500);

  // ---- the legitimate client
  let legit: number[] = [];
  let legitFailed = 0;
  let legitStop = false;
  const failures = new Map<string, number>();
  const legitLoop = (async () => {
    while (!legitStop) {
      const t0 = Date.now();
      const o = await fetchVia(node.pport, '127.0.0.1', origin.port, '/small', LEGIT_TIMEOUT_MS);
      if (o.kind === 'ok') legit.push(o.ms);
      else {
        legitFailed++;
        legit.push(o.ms); // a failure counts with the time it took
        const why = `${o.kind}${'error' in o ? `: ${o.error}` : ''}`;
        failures.set(why, (failures.get(why) ?? 0) + 1);
      }
      await sleep(Math.max(0, 20 - (Date.now() - t0)));
    }
  })();

  const rows: PhaseRow[] = [];
  const t = new Targets();
  const phase = async (name: string, run: () => Promise<string[]>) => {
    sampler.phase = name;
    legit = [];
    legitFailed = 0;
    fdMax = 0;
    const t0 = Date.now();
    const cpu0 = cpuMs(node.pid);
    const m0 = machineTicks();
    const notes = await run();
    const s = sampler.stats(name);
    const m1 = machineTicks();
    const nodeCpu = (cpuMs(node.pid) - cpu0) / (Date.now() - t0);
    const machineBusy = (m1.busy - m0.busy) / Math.max(1, m1.total - m0.total);
    rows.push({ name, nodeCpu, machineBusy, ms: Date.now() - t0, rssMax: s.maxMiB * 1.048576, rssEnd: s.lastMiB * 1.048576, fdMax, legit, legitFailed, notes });
    console.log(
      `${name}: done in ${fmt((Date.now() - t0) / 1000)} s, RSS max ${fmt(s.maxMiB * 1.048576)} MB, legit p99 ${fmt(percentile(legit, 99))} ms; ${notes.join('; ')}`,
    );
  };

  // ---- attacks
  let phaseTag = '';
  const dribble = async (where: 'ns' | 'lo', durationMs: number): Promise<string[]> => {
    const atCap0 = node.count(CUT[where].atCap);
    const other0 = node.count(CUT[where].other);
    const r =
      netInfo && where === 'ns'
        ? spawnRole(
            'dribble',
            { host: netInfo.nodeIp, port: node.bport, conns: DRIBBLERS, durationMs, bindIps: netInfo.attackerIps, reconnectMs: RECONNECT_MS },
            netInfo.attackerNs,
          )
        : spawnRole('dribble', { host: '127.0.0.1', port: node.bport, conns: DRIBBLERS, durationMs, reconnectMs: RECONNECT_MS });
    const res = await r.result;
    await sleep(200); // the node's last log lines
    const atCap = node.count(CUT[where].atCap) - atCap0;
    const other = node.count(CUT[where].other) - other0;
    const label = where === 'ns' ? 'anonymous' : 'local';
    // Bytes written are not bytes read: when the node's loop lags, what we wrote waits in kernel buffers. The node's log says which cap it applied.
    t.check(
      `(a) ${label} dribblers cut at the ${where === 'ns' ? '4 KiB pre-auth' : '1 MiB'} cap${phaseTag}`,
      Number(res.survivors) === 0 && Number(res.cut) > 0 && atCap > 0 && other === 0,
      `${res.cut} cut (node log: ${atCap} "exceeds the ${where === 'ns' ? 4096 : 1048576}-byte limit", ${other} at another cap; the rest refused at accept); bytes written before the cut p50 ${res.p50BytesBeforeCut}, max ${res.maxBytesBeforeCut}; p50 ${res.p50CutMs} ms; ${res.survivors} sent all but one byte uncut; ${res.unfinished} still dribbling at the end`,
    );
    return [
      `${label} dribble: ${res.connections} conns (${res.perSecond}/s), cut ${res.cut} (≤ ${res.maxBytesBeforeCut} B written, p50 ${res.p50BytesBeforeCut} B, p50 ${res.p50CutMs} ms to cut), never cut ${res.survivors}, still dribbling at the end ${res.unfinished}${res.error ? `, ${res.error}` : ''}`,
    ];
  };
  const floodPeer = async (mode: 'long' | 'short', durationMs: number): Promise<string[]> => {
    const role = spawnRole('fakepeer', { mode, cap: mode === 'long' ? 2000 : 20_000, durationMs, pport: 9 });
    const ready = await role.ready;
    const drops = node.count(DROPPING);
    let connectReply = '';
    // Local attackers may hold the loopback reserve of the endpoint for a moment: retry a few times.
    for (let attempt = 1; attempt <= 30; attempt++) {
      try {
        const link = await RawLink.connect(node.bport);
        await link.next('hello');
        link.link.sendConnect(`127.0.0.1:${ready.port}`);
        const m = await link.next('result', 15_000);
        connectReply = m.message;
        link.close();
        break;
      } catch (err) {
        connectReply = `connect failed (attempt ${attempt}): ${(err as Error).message}`;
        await sleep(200);
      }
    }
    const res = await role.result;
    const dropLine = [...node.log().slice(-400_000).matchAll(DROP)].pop()?.[1] ?? '';
    const dropped = node.count(DROPPING) > drops && Boolean(res.dropped);
    const which = mode === 'long' ? 'maxTargetLength' : 'maxPeerTargets';
    t.check(
      `(b) flooding peer (${mode} targets) dropped at limits.${which}, not rewired${phaseTag}`,
      dropped && Number(res.reconnects) === 0 && dropLine.includes(which),
      `${res.sent} updates written, link closed ${res.closedAfterMs} ms after the flood began; reconnects ${res.reconnects}; node: "${dropLine.slice(0, 100)}"${dropped ? '' : `; connect: ${connectReply}; peer: ${res.closeReason ?? res.error}`}`,
    );
    return [
      `${mode} flood: ${res.sent} updates written, dropped ${res.dropped} after ${res.closedAfterMs} ms ("${dropLine.slice(0, 60)}…"), reconnects ${res.reconnects}`,
    ];
  };
  const slowloris = async (durationMs: number): Promise<string[]> => {
    const ep = netInfo
      ? spawnRole(
          'slowloris',
          { host: netInfo.nodeIp, port: node.bport, conns: SLOWLORIS, durationMs, kind: 'endpoint', bindIps: netInfo.attackerIps, reconnectMs: RECONNECT_MS },
          netInfo.attackerNs,
        )
      : spawnRole('slowloris', { host: '127.0.0.1', port: node.bport, conns: SLOWLORIS, durationMs, kind: 'endpoint', reconnectMs: RECONNECT_MS });
    const px = spawnRole('slowloris', { host: '127.0.0.1', port: node.pport, conns: SLOWLORIS, durationMs, kind: 'proxy', reconnectMs: RECONNECT_MS });
    // Meanwhile: does the endpoint still serve this machine's CLI (the loopback reserve)?
    await sleep(Math.min(durationMs / 2, 8000));
    let cliNote: string;
    const c0 = Date.now();
    try {
      const link = await RawLink.connect(node.bport);
      await link.next('hello', 5000);
      link.link.sendControl({ op: 'status' });
      const r = await link.next('control-reply', 5000);
      cliNote = `a local control request (this machine's CLI) answered in ${Date.now() - c0} ms (${r.reply.ok ? 'ok' : r.reply.error})`;
      link.close();
    } catch (err) {
      cliNote = `a local control request (this machine's CLI) was NOT served (${Date.now() - c0} ms: ${(err as Error).message.slice(0, 80)})${phaseTag ? '; local dribblers hold loopback sessions too, so the reserve of 16 is not guaranteed to the CLI in this phase' : ''}`;
    }
    const [e, p] = await Promise.all([ep.result, px.result]);
    return [
      `endpoint slowloris${netInfo ? ' (anonymous)' : ''}: ${e.connections} conns (${e.perSecond}/s), peak open ${e.peakOpen}, refused at once ${e.refusedFast}, held by the node p50 ${e.p50HeldMs} ms`,
      `proxy slowloris: ${p.connections} conns (${p.perSecond}/s), peak open ${p.peakOpen}, refused at once ${p.refusedFast}, held by the node p50 ${p.p50HeldMs} ms`,
      cliNote,
    ];
  };

  await phase('baseline', async () => {
    await sleep(5000);
    return [];
  });
  if (netInfo) await phase('a: header+dribble, anonymous', () => dribble('ns', PHASE_MS));
  await phase('a: header+dribble, local', () => dribble('lo', PHASE_MS));
  await phase('b: ProxyUpdate floods', async () => [...(await floodPeer('long', PHASE_MS)), ...(await floodPeer('short', PHASE_MS))]);
  await phase('c: slowloris', () => slowloris(Math.max(PHASE_MS, 22_000)));
  await phase('all together', async () => {
    phaseTag = ' — all together';
    const d = Math.max(PHASE_MS, 22_000);
    const parts = await Promise.all([
      netInfo ? dribble('ns', d) : Promise.resolve([]),
      dribble('lo', d),
      (async () => [...(await floodPeer('long', d / 2)), ...(await floodPeer('short', d / 2))])(),
      slowloris(d),
    ]);
    return parts.flat();
  });
  phaseTag = '';
  await phase('cool-down', async () => {
    await sleep(8000);
    return [];
  });
  legitStop = true;
  await legitLoop;
  clearInterval(fdTimer);
  sampler.stop();

  console.log('\n## node RSS and the legitimate client (1 KiB via the proxy every ~20 ms)');
  console.log(
    table(
      ['phase', 's', 'RSS max MB', 'RSS end MB', 'fds max', 'node CPU', 'machine busy', 'legit n', 'p50 ms', 'p99 ms', 'max ms', 'failed'],
      rows.map((r) => [
        r.name,
        fmt(r.ms / 1000, 0),
        fmt(r.rssMax),
        fmt(r.rssEnd),
        r.fdMax,
        `${fmt(r.nodeCpu * 100, 0)} %`,
        `${fmt(r.machineBusy * 100, 0)} %`,
        r.legit.length,
        fmt(percentile(r.legit, 50)),
        fmt(percentile(r.legit, 99)),
        fmt(Math.max(...r.legit)),
        r.legitFailed,
      ]),
    ),
  );
  console.log('\n## attacks');
  for (const r of rows) for (const n of r.notes) console.log(`- ${r.name}: ${n}`);
  if (failures.size) console.log(`\nlegit failures: ${[...failures].map(([k, n]) => `${n} × ${k}`).join(', ')}`);
  console.log(`node log: ${node.count(DROPPING)} "dropping peer" lines, ${node.count(ERRORS)} ERROR lines`);

  const rssMax = Math.max(...rows.map((r) => r.rssMax));
  const base = rows[0].rssMax;
  t.check(`RSS ≤ ${RSS_TARGET_MB} MB`, rssMax <= RSS_TARGET_MB, `max ${fmt(rssMax)} MB (baseline ${fmt(base)} MB)`);
  t.check('node kept running', node.alive, node.alive ? `pid ${node.pid} alive` : 'EXITED');
  for (const r of rows.slice(1)) {
    const p99 = percentile(r.legit, 99);
    t.check(
      `legit p99 < ${P99_TARGET_MS} ms — ${r.name}`,
      p99 < P99_TARGET_MS,
      `p50 ${fmt(percentile(r.legit, 50))} ms, p99 ${fmt(p99)} ms, ${r.legitFailed} failed of ${r.legit.length}`,
    );
  }
  console.log(`\n${t.report()}`);
  await stopNode(node);
  await origin.close();
  return t.ok;
}

// ============================================================== entry

const roleAt = process.argv.indexOf('--role');
if (roleAt > 0) {
  const role = process.argv[roleAt + 1];
  const params = JSON.parse(process.argv[roleAt + 2]);
  const run = role === 'dribble' ? roleDribble : role === 'slowloris' ? roleSlowloris : role === 'fakepeer' ? roleFakePeer : undefined;
  if (!run) throw new Error(`unknown role ${role}`);
  setTimeout(() => process.exit(4), Number(params.durationMs) + 60_000).unref();
  void run(params).then(() => process.exit(0));
} else if (process.argv.includes('--inside')) {
  const netInfo = JSON.parse(process.argv[process.argv.indexOf('--inside') + 1]) as Net;
  runBench('hostile', () => coordinator(netInfo), 20 * 60_000);
} else {
  const canNetns = process.getuid?.() === 0 && process.env.HOSTILE_NETNS !== '0';
  if (!canNetns) runBench('hostile', () => coordinator(undefined), 20 * 60_000);
  else {
    const { nodeNs, net: netInfo, teardown } = setUpNamespaces();
    const child = spawn('ip', ['netns', 'exec', nodeNs, process.execPath, __filename, '--inside', JSON.stringify(netInfo)], { stdio: 'inherit' });
    const stop = () => child.kill('SIGTERM');
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    child.once('exit', (code) => {
      teardown();
      process.exit(code ?? 1);
    });
  }
}
