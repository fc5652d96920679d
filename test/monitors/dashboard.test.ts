import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { IncomingMessage } from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { WebSocket } from 'ws';
import type { MonitorApi } from '../../src/api/monitor';
import { silentLogger } from '../../src/kernel/logger';
import { httpToken } from '../../src/security/http-token';
import { DashboardAuth } from '../../plugins/http/src/dashboard/auth';
import { LiveUpdates } from '../../plugins/http/src/dashboard/live';
import { serveDashboard } from '../../plugins/http/src/dashboard/server';
import { parseDashboardOptions } from '../../plugins/http/src/index';
import { BIN } from '../helpers/cli';
import { useNodes } from '../helpers/cluster';
import { run } from '../helpers/exec';
import { startHttpServer, type TestHttpServer } from '../helpers/http';
import { TEST_KEY } from '../helpers/key';
import { waitUntil } from '../helpers/ports';
import { getViaSocks } from '../helpers/socks';
import { startMonitoredNode, type MonitoredNode } from './monitored-node';

const CHROMIUM = '/usr/bin/chromium';

/** Fresh profiles made by launchBrowser, removed after each test. */
const profiles: string[] = [];

async function launchBrowser(): Promise<BrowserContext> {
  const { chromium } = await import('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-chromium-'));
  profiles.push(profile);
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A new tab, or an error after 20 s (newPage itself waits without end for a renderer that never starts). */
function newPage(context: BrowserContext): Promise<Page> {
  return Promise.race([
    context.newPage(),
    new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('chromium opened no tab within 20 s')), 20_000).unref()),
  ]);
}

/**
 * Closes the browser; one that does not close within 10 s is killed, found by
 * its own profile folder, so a stuck Chromium never keeps mocha (exit: false) alive.
 */
async function closeBrowser(context: BrowserContext, profile: string | undefined): Promise<void> {
  const closed = await Promise.race([
    context.close().then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000).unref()),
  ]);
  if (closed || !profile) return;
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(`--user-data-dir=${profile}`)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Gone already, or not ours to read.
    }
  }
}

function skipWithoutBrowser(ctx: Mocha.Context): void {
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`      (skipped: no browser at ${CHROMIUM}; apt-get install chromium)`);
    ctx.skip();
  }
}

/** What the page's charts draw, per series (index 0 is time), read from uPlot's own data. */
function chartData(page: Page, chart: 'connections' | 'throughput'): Promise<{ ids: string[]; data: (number | null)[][] }> {
  return page.evaluate((key) => {
    const c = (globalThis as unknown as { boosterDashboard: { charts: Record<string, { ids: string[]; data: (number | null)[][] }> } }).boosterDashboard.charts[
      key
    ];
    return { ids: [...c.ids], data: c.data.map((s) => [...s]) };
  }, chart);
}

/** A speedtest-like job: `workers` downloads of /blob through the proxy, back to back, until stopped. */
function downloadJob(proxyPort: number, origin: TestHttpServer, workers: number) {
  let running = true;
  let done = 0;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      await getViaSocks(proxyPort, '127.0.0.1', origin.port, '/blob').then(
        () => done++,
        () => new Promise((r) => setTimeout(r, 50)),
      );
    }
  });
  return {
    get done() {
      return done;
    },
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('live dashboard (plugin-http)', function () {
  this.timeout(90_000);
  const nodes = useNodes();
  let m: MonitoredNode | undefined;
  let browser: BrowserContext | undefined;

  afterEach(async () => {
    if (browser) await closeBrowser(browser, profiles.at(-1));
    browser = undefined;
    // Chromium's helpers may still be writing for a moment after close.
    for (const p of profiles.splice(0)) fs.rmSync(p, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    await m?.node.stop();
    m = undefined;
  });

  it('in a real browser: both sources live, charts move, a killed peer turns down within 3 s, the policy switches', async function () {
    skipWithoutBrowser(this);
    const origin = await startHttpServer('127.0.0.1', 256 * 1024);
    try {
      m = await startMonitoredNode({ dashboard: '127.0.0.1:0' }, { heartbeatMs: 500, reconnectMs: 300, policy: 'least-busy' });
      const a = m.node;
      const b = await nodes.child(['--heartbeat', '500']);
      const { peer } = await a.network.connect(b.address);
      const job = downloadJob(a.proxyAddress.port, origin, 4);
      try {
        browser = await launchBrowser();
        const page = await newPage(browser);
        const url = m.urls.get('dashboard')!;
        expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);
        await page.goto(url);
        // A card per source: direct and the peer, both up.
        await page.waitForSelector('[data-source="direct"][data-state="up"]', { timeout: 10_000 });
        await page.waitForSelector(`[data-source="${peer.id}"][data-state="up"]`, { timeout: 10_000 });
        expect(await page.textContent('#policy-current')).to.equal('least-busy');

        // Both sources carry the job: the page's chart data shows tunnels and throughput for each, and it moves.
        await waitUntil(
          'both sources in the charts with traffic',
          async () => {
            const t = await chartData(page, 'throughput');
            return [0, 1].every((i) => t.ids.length === 2 && t.data[i + 1].some((v) => (v ?? 0) > 0));
          },
          20_000,
          200,
        );
        const first = await chartData(page, 'throughput');
        await page.waitForTimeout(2_000);
        const second = await chartData(page, 'throughput');
        expect(second.data[0].at(-1)!, 'time axis').to.be.greaterThan(first.data[0].at(-1)!);
        for (const id of ['direct', peer.id]) {
          const at = (d: typeof first) => d.data[d.ids.indexOf(id) + 1];
          expect(at(second).slice(-2), `throughput of ${id}`).to.not.deep.equal(at(first).slice(-2));
        }
        const connections = await chartData(page, 'connections');
        for (const id of ['direct', peer.id])
          expect(Math.max(...connections.data[connections.ids.indexOf(id) + 1].map((v) => v ?? 0)), `tunnels through ${id}`).to.be.greaterThan(0);
        expect(job.done).to.be.greaterThan(0);

        // Kill B: its card turns down within 3 s.
        const killedAt = Date.now();
        b.cli.kill('SIGKILL');
        await page.waitForSelector(`[data-source="${peer.id}"][data-state="down"]`, { timeout: 3_000 });
        expect(Date.now() - killedAt).to.be.below(3_000);
        expect(await page.textContent(`[data-source="${peer.id}"] .reason`)).to.match(/\S/);
        await page.waitForSelector(`#peers tr[data-peer="${peer.id}"][data-state="down"]`, { timeout: 3_000 });

        // Switch the policy from the page: `booster policy list` (a control request) sees it, and it is logged.
        await page.selectOption('#policy-select', 'round-robin');
        await page.click('#policy-use');
        await page.waitForSelector('#policy-message[data-ok="true"]', { timeout: 5_000 });
        const listed = await run(process.execPath, [BIN, 'policy', 'list', '-t', `127.0.0.1:${a.endpointAddress.port}`, '--json']);
        expect(listed.code, listed.stderr).to.equal(0);
        expect(JSON.parse(listed.stdout)).to.deep.include({ policy: 'round-robin' });
        await page.waitForFunction("document.getElementById('policy-current').textContent === 'round-robin'", undefined, { timeout: 3_000 });
        expect(m.log.lines.some((l) => l.level === 'info' && /policy is now round-robin/.test(l.message))).to.equal(true);
      } finally {
        await job.stop();
      }
    } finally {
      origin.finishSlow();
      await origin.close();
    }
  });

  it('off loopback: page, assets and WebSocket need the token; the login form exchanges it for a cookie', async function () {
    m = await startMonitoredNode({ dashboard: '0.0.0.0:0' });
    const url = m.urls.get('dashboard')!.replace('0.0.0.0', '127.0.0.1');
    const base = new URL(url);
    const token = httpToken(TEST_KEY);
    // Without the token: the login form (401, nothing of the node in it), no assets, no state, no WebSocket.
    const bare = await fetch(url);
    expect(bare.status).to.equal(401);
    const body = await bare.text();
    expect(body).to.match(/name="token"/);
    expect(body).to.not.include(m.node.id);
    for (const p of ['/dashboard.js', '/uPlot.iife.min.js', '/api/state']) expect((await fetch(new URL(p, base))).status, p).to.equal(401);
    expect(await wsStatus(`ws://${base.host}/live`, { origin: base.origin })).to.equal(401);
    expect(await wsStatus(`ws://${base.host}/live`, { origin: base.origin, authorization: 'Bearer 00' })).to.equal(401);
    // A wrong token at /login: refused, no cookie.
    const wrong = await postForm(url, 'login', 'token=nope', base.origin);
    expect(wrong.status).to.equal(401);
    expect(wrong.headers.get('set-cookie')).to.equal(null);
    // Failed logins are logged, but not one line each.
    expect((await postForm(url, 'login', 'token=nope', base.origin)).status).to.equal(401);
    expect(m.log.lines.filter((l) => /dashboard: refused \d+ login\(s\) with a wrong token/.test(l.message))).to.have.length(1);
    // With it: a bearer token works for scripts...
    expect((await fetch(new URL('/api/state', base), { headers: { authorization: `Bearer ${token}` } })).status).to.equal(200);
    expect(await wsStatus(`ws://${base.host}/live`, { origin: base.origin, authorization: `Bearer ${token}` })).to.equal(101);
    // ...and the login form sets an HttpOnly SameSite=Strict session cookie that opens the page, assets and WebSocket.
    const login = await postForm(url, 'login', `token=${token}`, base.origin);
    expect(login.status).to.equal(303);
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).to.match(/^booster_session=[\w-]{43}; HttpOnly; SameSite=Strict; Path=\//);
    const session = cookie.split(';')[0];
    const page = await fetch(url, { headers: { cookie: session } });
    expect(page.status).to.equal(200);
    expect(await page.text()).to.include('/dashboard.js');
    expect((await fetch(new URL('/uPlot.iife.min.js', base), { headers: { cookie: session } })).status).to.equal(200);
    expect(await wsStatus(`ws://${base.host}/live`, { origin: base.origin, cookie: session })).to.equal(101);
    // A forged cookie does not.
    expect((await fetch(url, { headers: { cookie: 'booster_session=' + 'A'.repeat(43) } })).status).to.equal(401);
    // A login form posted from another site is refused (login CSRF).
    expect((await postForm(url, 'login', `token=${token}`, 'http://evil.example')).status).to.equal(403);

    // In a browser: the form, then the live page.
    if (!fs.existsSync(CHROMIUM)) return console.log(`      (browser part skipped: no browser at ${CHROMIUM})`);
    browser = await launchBrowser();
    const tab = await newPage(browser);
    await tab.goto(url);
    await tab.fill('input[name="token"]', token);
    await tab.click('button[type="submit"]');
    await tab.waitForSelector('[data-source="direct"][data-state="up"]', { timeout: 10_000 });
    expect(await tab.textContent('#connection')).to.equal('live');
  });

  it('CSRF: a policy switch needs this origin and the custom header; an unknown policy is a clear error', async () => {
    m = await startMonitoredNode({ dashboard: '127.0.0.1:0' });
    const url = m.urls.get('dashboard')!;
    const origin = new URL(url).origin;
    const post = (headers: Record<string, string>, body = JSON.stringify({ policy: 'round-robin' })) =>
      fetch(new URL('/api/policy', url), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const before = m.node.policies.current;
    expect(before).to.not.equal('round-robin');
    let res = await post({ origin: 'http://evil.example', 'x-booster-csrf': '1' });
    expect(res.status).to.equal(403);
    expect(((await res.json()) as { error: string }).error).to.match(/cross-origin/);
    res = await post({ origin });
    expect(res.status).to.equal(403);
    expect(((await res.json()) as { error: string }).error).to.match(/x-booster-csrf/);
    res = await post({ 'x-booster-csrf': '1' });
    expect(res.status).to.equal(403);
    expect(m.node.policies.current).to.equal(before);
    // A WebSocket opened by another site's page is refused too (cross-site WebSocket hijacking).
    expect(await wsStatus(`ws://${new URL(url).host}/live`, { origin: 'http://evil.example' })).to.equal(403);
    // DNS rebinding: a Host that is not this machine is refused on loopback.
    expect(await statusWithHost(new URL('/api/state', url), 'evil.example')).to.equal(403);
    expect(await statusWithHost(new URL('/api/state', url), `localhost:${new URL(url).port}`)).to.equal(200);

    res = await post({ origin, 'x-booster-csrf': '1' }, JSON.stringify({ policy: 'no-such' }));
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { error: string }).error).to.match(/unknown policy "no-such" \(available: .*round-robin/);
    res = await post({ origin, 'x-booster-csrf': '1' }, '{not json');
    expect(res.status).to.equal(400);
    res = await post({ origin, 'x-booster-csrf': '1' }, JSON.stringify({ policy: 'x'.repeat(5000) }));
    expect(res.status).to.equal(413);
    res = await post({ origin, 'x-booster-csrf': '1' });
    expect(res.status).to.equal(200);
    expect(m.node.policies.current).to.equal('round-robin');
  });

  it('bounds WebSocket clients (dashboardMaxClients) and pushes about once per dashboardPushMs', async () => {
    m = await startMonitoredNode({ dashboard: '127.0.0.1:0', dashboardMaxClients: 2, dashboardPushMs: 200 });
    const host = new URL(m.urls.get('dashboard')!).host;
    const origin = `http://${host}`;
    const clients = [new WebSocket(`ws://${host}/live`, { origin }), new WebSocket(`ws://${host}/live`, { origin })];
    try {
      const counts = [0, 0];
      clients.forEach((c, i) => c.on('message', () => counts[i]++));
      await Promise.all(clients.map((c) => new Promise((resolve, reject) => c.once('open', resolve).once('error', reject))));
      expect(await wsStatus(`ws://${host}/live`, { origin })).to.equal(503);
      await new Promise((r) => setTimeout(r, 1_100));
      // The first snapshot at once, then one per 200 ms.
      for (const n of counts) expect(n).to.be.within(4, 8);
      expect(m.log.lines.some((l) => /at most 2 live clients|2 already connected/.test(l.message))).to.equal(true);
      // A closed client frees its slot.
      clients[0].close();
      await waitUntil('a slot', async () => (await wsStatus(`ws://${host}/live`, { origin })) === 101, 3_000, 50);
    } finally {
      clients.forEach((c) => c.terminate());
    }
  });

  it('drops a client that does not read once its backlog passes dashboardMaxBufferedBytes', () => {
    const api = fakeApi();
    const lines: string[] = [];
    const log = { warn: (s: string) => lines.push(s), info() {}, error() {}, debug() {}, child: () => log };
    const live = new LiveUpdates(api, log, { pushMs: 60_000, maxBufferedBytes: 4096 });
    try {
      const reader = fakeSocket(0);
      const stalled = fakeSocket(5000);
      live.add(reader as unknown as WebSocket);
      live.add(stalled as unknown as WebSocket);
      expect(reader.sent).to.have.length(1);
      expect(stalled.sent).to.have.length(0);
      expect(stalled.terminated).to.equal(true);
      expect(live.size).to.equal(1);
      expect(lines.join('\n')).to.match(/dropped a WebSocket client that is not reading \(5000 bytes unsent, dashboardMaxBufferedBytes 4096\)/);
    } finally {
      live.dispose();
    }
  });

  it('login sessions: at most dashboardMaxSessions (the oldest is forgotten), each ends after dashboardSessionMs', () => {
    let t = 0;
    const auth = new DashboardAuth(
      true,
      (token) => token === 'right',
      { maxSessions: 2, sessionMs: 1000 },
      () => t,
    );
    const request = (cookie?: string) => ({ headers: cookie ? { cookie } : {} }) as unknown as IncomingMessage;
    const session = () => auth.login('right')!.cookie.split(';')[0];
    expect(auth.login('wrong')).to.equal(undefined);
    expect(auth.refusal(request())?.status).to.equal(401);
    const [first, second] = [session(), session()];
    expect(auth.refusal(request(first))).to.equal(undefined);
    expect(auth.refusal(request(`other=1; ${second}`))).to.equal(undefined);
    const third = session();
    expect(auth.refusal(request(first))?.status, 'the oldest, forgotten').to.equal(401);
    expect(auth.refusal(request(second))).to.equal(undefined);
    expect(auth.refusal(request(third))).to.equal(undefined);
    t = 1000;
    expect(auth.refusal(request(third))?.status, 'expired').to.equal(401);
    expect(auth.login('right')!.cookie).to.match(/; Max-Age=1$/);
  });

  it('a dashboard that cannot have its port fails, and releases its live feed (event subscriptions)', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    let live = 0;
    const subscribe = () => {
      live++;
      return { dispose: () => live-- };
    };
    const api = { onSourceHealthChanged: subscribe, onSourceChanged: subscribe, onPeerChanged: subscribe, onPolicyChanged: subscribe } as unknown as MonitorApi;
    try {
      const failed = await serveDashboard(api, parseDashboardOptions({ dashboard: `127.0.0.1:${port}` })!, silentLogger, () => false).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(failed?.message).to.match(/EADDRINUSE|in use/);
      expect(live, 'event subscriptions left behind').to.equal(0);
    } finally {
      taken.close();
    }
  });

  it('options: off without an address; bad limits are clear errors', () => {
    expect(parseDashboardOptions({})).to.equal(undefined);
    expect(parseDashboardOptions({ dashboard: 8090 })).to.deep.include({ address: { host: '127.0.0.1', port: 8090 }, maxClients: 8 });
    expect(() => parseDashboardOptions({ dashboard: 'x' })).to.throw(/dashboard must be \[HOST:\]PORT/);
    expect(() => parseDashboardOptions({ dashboard: 1, dashboardMaxClients: 0 })).to.throw(/dashboardMaxClients must be an integer from 1 to 1000, got 0/);
    expect(() => parseDashboardOptions({ dashboard: 1, dashboardPushMs: '1s' })).to.throw(/dashboardPushMs must be an integer/);
    expect(parseDashboardOptions({ dashboard: 1, dashboardMaxSessions: 3, dashboardSessionMs: 5000, dashboardMaxBufferedBytes: 2048 })).to.deep.include({
      maxSessions: 3,
      sessionMs: 5000,
      maxBufferedBytes: 2048,
    });
  });
});

/** The HTTP status a WebSocket upgrade gets (101 when accepted; the socket is closed at once). */
function wsStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const { origin, ...rest } = headers;
    const ws = new WebSocket(url, { headers: rest, ...(origin ? { origin } : {}) });
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', reject);
  });
}

function statusWithHost(url: URL, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

function postForm(pageUrl: string, route: string, body: string, origin: string): Promise<Response> {
  return fetch(new URL(`/${route}`, pageUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    body,
  });
}

function fakeSocket(bufferedAmount: number) {
  return Object.assign(new EventEmitter(), {
    readyState: WebSocket.OPEN,
    bufferedAmount,
    sent: [] as string[],
    terminated: false,
    send(this: { sent: string[] }, m: string) {
      this.sent.push(m);
    },
    terminate(this: { terminated: boolean }) {
      this.terminated = true;
    },
  });
}

function fakeApi(): MonitorApi {
  const none = () => ({ dispose() {} });
  return {
    nodeId: 'n',
    onTunnelOpened: none,
    onTunnelClosed: none,
    onWorkloadChanged: none,
    onDial: none,
    onSourceChanged: none,
    onSourceHealthChanged: none,
    onPeerChanged: none,
    onPluginFault: none,
    onProxyRejected: none,
    onPolicyChanged: none,
    tunnels: () => [],
    workload: () => [],
    sources: () => [],
    peers: () => [],
    rules: () => [],
    policy: () => ({ current: 'p', fallback: 'p', available: ['p'], faults: {} }),
    sourceState: () => undefined,
    usePolicy: async () => {},
  } as unknown as MonitorApi;
}
