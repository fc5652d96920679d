// What the HTTP monitors cost the proxy: new connections per second through
// two booster nodes started side by side, one with no monitors and one with
// --metrics, --http-api and --dashboard on while a scraper reads /metrics and
// /health every SCRAPE_MS and a dashboard client takes the live updates (far more often than Prometheus' default 15 s). Rounds
// alternate between the two, so other load on the machine hits both alike.
// Reports conn/s (the target: under 5 % lower with monitors on) and
// each node's CPU time per connection, which is steadier on a busy machine.
//   node dist/bench/monitor-cost.js   (ROUNDS=4 SECONDS_RATE=3 CONCURRENCY=32 SCRAPE_MS=1000)
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WebSocket } from 'ws';
import { startHttpServer } from '../test/helpers/http';

const ROOT = path.resolve(__dirname, '..', '..');
const ROUNDS = Number(process.env.ROUNDS ?? 4);
const SECONDS_RATE = Number(process.env.SECONDS_RATE ?? 3);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);
const SCRAPE_MS = Number(process.env.SCRAPE_MS ?? 1000);

interface Started {
  readonly child: ChildProcess;
  readonly pport: number;
}

function startNode(name: string, pport: number, extra: readonly string[], dataDir: string): Promise<Started> {
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin', 'run'),
      'start',
      '--bind',
      '127.0.0.1',
      '--pport',
      String(pport),
      '--bport',
      String(pport + 1000),
      '--data-dir',
      dataDir,
      '--no-announce',
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: process.env },
  );
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${log}`)), 15_000);
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      const monitorsUp = extra.length === 0 || (log.includes('metrics at') && log.includes('http-api at') && log.includes('dashboard at'));
      if (log.includes('booster endpoint listening') && monitorsUp) {
        clearTimeout(timer);
        resolve({ child, pport });
      }
    });
    child.once('exit', (code) => reject(new Error(`${name} exited ${code}: ${log}`)));
  });
}

function connrate(proxyPort: number, targetPort: number): Promise<{ perSecond: number; errors: number; p50: number; p99: number }> {
  return new Promise((resolve, reject) => {
    const args = [
      path.join(ROOT, 'bench', 'connrate.js'),
      '--target',
      `127.0.0.1:${targetPort}`,
      '--proxy',
      `127.0.0.1:${proxyPort}`,
      '--concurrency',
      String(CONCURRENCY),
      '--seconds',
      String(SECONDS_RATE),
      '--path',
      '/hello',
    ];
    execFile(process.execPath, args, (err, out) => (err ? reject(err) : resolve(JSON.parse(out))));
  });
}

/** CPU time (user + system, ms) a process has used so far, from /proc/PID/stat (Linux). */
function cpuMs(pid: number): number {
  const fields = fs
    .readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const origin = await startHttpServer('127.0.0.1', 1024);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-monitor-cost-'));
  const nodes: Started[] = [];
  try {
    const off = await startNode('monitors off', 12380, [], path.join(work, 'off'));
    nodes.push(off);
    const on = await startNode(
      'monitors on',
      12381,
      ['--metrics', '127.0.0.1:12390', '--http-api', '127.0.0.1:12391', '--dashboard', '127.0.0.1:12392'],
      path.join(work, 'on'),
    );
    nodes.push(on);
    let liveUpdates = 0;
    const dashboard = new WebSocket('ws://127.0.0.1:12392/live', { origin: 'http://127.0.0.1:12392' });
    dashboard.on('message', () => liveUpdates++).on('error', (err) => console.error(`dashboard client: ${err.message}`));
    let scrapes = 0;
    let scrapeErrors = 0;
    const scraper = setInterval(() => {
      for (const url of ['http://127.0.0.1:12390/metrics', 'http://127.0.0.1:12391/health', 'http://127.0.0.1:12391/tunnels']) {
        fetch(url).then(
          (r) => (r.ok ? r.text().then(() => scrapes++) : scrapeErrors++),
          () => scrapeErrors++,
        );
      }
    }, SCRAPE_MS);
    // Warm-up (JIT, caches) for both, not counted.
    await connrate(off.pport, origin.port);
    await connrate(on.pport, origin.port);
    const rates: Record<'off' | 'on', number[]> = { off: [], on: [] };
    // CPU per connection hardly depends on what else the machine does; conn/s does.
    const cpuPerConn: Record<'off' | 'on', number[]> = { off: [], on: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order: ('off' | 'on')[] = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      for (const which of order) {
        const node = which === 'off' ? off : on;
        const cpuBefore = cpuMs(node.child.pid!);
        const r = await connrate(node.pport, origin.port);
        rates[which].push(r.perSecond);
        cpuPerConn[which].push(((cpuMs(node.child.pid!) - cpuBefore) * 1000) / (r.perSecond * SECONDS_RATE));
        console.error(
          `round ${round + 1} monitors ${which}: ${r.perSecond.toFixed(0)} conn/s (errors ${r.errors}, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms)`,
        );
      }
    }
    clearInterval(scraper);
    dashboard.terminate();
    const offMedian = median(rates.off);
    const onMedian = median(rates.on);
    const result = {
      rounds: ROUNDS,
      secondsPerRun: SECONDS_RATE,
      concurrency: CONCURRENCY,
      scrapeEveryMs: SCRAPE_MS,
      cpus: os.cpus().length,
      offPerSecond: rates.off.map(Math.round),
      onPerSecond: rates.on.map(Math.round),
      offMedian: Math.round(offMedian),
      onMedian: Math.round(onMedian),
      costPercent: Number((((offMedian - onMedian) / offMedian) * 100).toFixed(1)),
      cpuMicrosPerConnOff: Math.round(median(cpuPerConn.off)),
      cpuMicrosPerConnOn: Math.round(median(cpuPerConn.on)),
      cpuCostPercent: Number((((median(cpuPerConn.on) - median(cpuPerConn.off)) / median(cpuPerConn.off)) * 100).toFixed(1)),
      scrapes,
      scrapeErrors,
      liveUpdates,
    };
    console.log(JSON.stringify(result));
  } finally {
    await Promise.all(nodes.map((n) => new Promise((resolve) => (n.child.once('exit', resolve), n.child.kill('SIGTERM')))));
    await origin.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
