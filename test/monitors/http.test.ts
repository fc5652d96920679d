import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import parsePrometheusTextFormat = require('parse-prometheus-text-format');
import type { NodeSettings } from '../../src/api/settings';
import { httpToken } from '../../src/security/http-token';
import { startHttpServer, type TestHttpServer } from '../helpers/http';
import { TEST_KEY } from '../helpers/key';
import { NamespaceHost, skipUnlessNetns } from '../helpers/netns';
import { waitUntil } from '../helpers/ports';
import { getViaSocks } from '../helpers/socks';
import { parseListenAddress, rejectionReason } from '../../plugins/http/src/index';
import { HTTP_PLUGIN, startMonitoredNode, type MonitoredNode } from './monitored-node';

interface Family {
  name: string;
  type: string;
  metrics: { labels?: Record<string, string>; value?: string }[];
}

async function scrape(url: string): Promise<Family[]> {
  const res = await fetch(url);
  expect(res.status).to.equal(200);
  expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusTextFormat(await res.text()) as Family[];
}

function value(families: Family[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  if (!family) throw new Error(`no metric ${name}`);
  const matching = family.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return matching.reduce((n, m) => n + Number(m.value), 0);
}

function listeningServers(): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h) => h instanceof net.Server && h.listening).length;
}

describe('HTTP monitors (plugin-http)', function () {
  let origin: TestHttpServer;
  let m: MonitoredNode | undefined;

  before(async () => {
    origin = await startHttpServer('127.0.0.1', 256 * 1024);
  });
  after(() => origin.close());
  afterEach(async () => {
    await m?.node.stop();
    m = undefined;
  });

  it('is off by default: no monitor starts and no port opens', async () => {
    const before = listeningServers();
    m = await startMonitoredNode({});
    // The proxy and the booster endpoint, nothing else.
    expect(listeningServers() - before).to.equal(2);
    expect(m.log.lines.filter((l) => l.fields?.monitor !== undefined)).to.deep.equal([]);
    expect(m.node.plugins.plugins.find((p) => p.name === HTTP_PLUGIN)?.status).to.equal('active');
  });

  it('/metrics parses as Prometheus text and its counters match a known job', async () => {
    m = await startMonitoredNode({ metrics: '127.0.0.1:0' });
    const url = m.urls.get('metrics')!;
    expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const N = 5;
    for (let i = 0; i < N; i++) {
      const { status, body } = await getViaSocks(m.node.proxyAddress.port, '127.0.0.1', origin.port, '/blob');
      expect(status).to.equal(200);
      expect(body.length).to.equal(origin.blob.length);
    }
    // One connection the proxy refuses: not SOCKS, not HTTP.
    await new Promise<void>((resolve) => {
      const s = net.connect(m!.node.proxyAddress.port, '127.0.0.1', () => s.end(Buffer.from([0x07, 0x01, 0x02, 0x03])));
      s.on('close', () => resolve());
      s.on('error', () => resolve());
      s.resume();
    });
    await waitUntil('tunnels to close', () => m!.node.tunnels.size === 0, 5_000);

    const families = await scrape(url);
    for (const f of families) {
      expect(f.name).to.match(/^booster_/);
      if (f.type === 'COUNTER') expect(f.name).to.match(/_total$/);
    }
    expect(value(families, 'booster_dials_total', { source: 'direct', result: 'ok' })).to.equal(N);
    expect(value(families, 'booster_dials_total', { result: 'error' })).to.equal(0);
    expect(value(families, 'booster_tunnels_total', { source: 'direct' })).to.equal(N);
    expect(value(families, 'booster_policy_decisions_total')).to.equal(N);
    expect(value(families, 'booster_bytes_total', { source: 'direct', direction: 'down' })).to.be.at.least(N * origin.blob.length);
    expect(value(families, 'booster_bytes_total', { source: 'direct', direction: 'up' })).to.be.greaterThan(0);
    expect(value(families, 'booster_tunnels_open', { source: 'direct' })).to.equal(0);
    expect(value(families, 'booster_source_up', { source: 'direct' })).to.equal(1);
    expect(value(families, 'booster_peers_up')).to.equal(0);
    expect(value(families, 'booster_policy_info', { policy: m.node.settings.policy })).to.equal(1);
    expect(value(families, 'booster_proxy_rejections_total')).to.equal(1);
    const reasons = families.find((f) => f.name === 'booster_proxy_rejections_total')!.metrics.map((x) => x.labels!.reason);
    expect(reasons).to.have.members(['timeout', 'auth', 'not-allowed', 'tls', 'limit', 'protocol', 'other']);
    expect(families.map((f) => f.name)).to.include.members([
      'booster_source_capacity_bytes_per_second',
      'booster_policy_faults_total',
      'booster_plugin_faults_total',
    ]);
  });

  it('serves the JSON API routes in their documented shapes; only GET', async () => {
    m = await startMonitoredNode({ api: '127.0.0.1:0' });
    const base = m.urls.get('http-api')!.replace(/\/health$/, '');
    const get = async (path: string) => {
      const res = await fetch(base + path);
      expect(res.status, path).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      return (await res.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a test reads arbitrary JSON
    };
    // One tunnel held open while the routes are read.
    const slow = getViaSocks(m.node.proxyAddress.port, '127.0.0.1', origin.port, '/slow?ms=60000');
    await waitUntil('the slow tunnel', () => m!.node.tunnels.size === 1, 5_000);

    const health = await get('/health');
    expect(health).to.include({ status: 'ok', nodeId: m.node.id, policy: m.node.settings.policy });
    expect(health.sources).to.deep.equal({ total: 1, healthy: 1 });
    expect(health.peers).to.deep.equal({ total: 0, up: 0 });
    expect(health.tunnels).to.deep.equal({ open: 1 });

    const sources = await get('/sources');
    expect(sources.total).to.equal(1);
    expect(sources.sources[0]).to.include({ id: 'direct', kind: 'direct', local: true, health: 'healthy' });
    expect(sources.sources[0].stats).to.include({ openTunnels: 1 });

    expect(await get('/peers')).to.deep.equal({ total: 0, peers: [] });

    const tunnels = await get('/tunnels');
    expect(tunnels.total).to.equal(1);
    expect(tunnels.tunnels[0]).to.include({ target: `127.0.0.1:${origin.port}`, source: 'direct', protocol: 'socks5' });
    expect(tunnels.tunnels[0].openedAt).to.match(/^\d{4}-\d\d-\d\dT/);
    expect(await get('/tunnels?limit=0')).to.deep.equal({ total: 1, tunnels: [] });

    const policy = await get('/policy');
    expect(policy.current).to.equal(m.node.settings.policy);
    expect(policy.available).to.include.members(['least-busy', 'round-robin']);
    expect(policy.rules).to.deep.equal([]);
    expect(policy).to.have.property('faults');

    expect((await fetch(`${base}/nope`)).status).to.equal(404);
    const post = await fetch(`${base}/health`, { method: 'POST', body: 'x' });
    expect(post.status).to.equal(405);
    expect(post.headers.get('allow')).to.equal('GET');
    // A page that rebinds its own name to 127.0.0.1 sends that name as Host: refused.
    const hostStatus = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(`${base}/health`);
        http.get({ host: u.hostname, port: u.port, path: u.pathname, headers: { host } }, (res) => resolve(res.resume().statusCode ?? 0)).on('error', reject);
      });
    expect(await hostStatus('evil.example')).to.equal(403);
    expect(await hostStatus(`evil.example:${new URL(base).port}`)).to.equal(403);
    expect(await hostStatus(`localhost:${new URL(base).port}`)).to.equal(200);
    origin.finishSlow();
    expect((await slow).status).to.equal(200);
  });

  it('off loopback, every request needs the bearer token; refusals are logged rate-limited', async () => {
    m = await startMonitoredNode({ metrics: '0.0.0.0:0', api: '0.0.0.0:0' });
    for (const [id, url] of m.urls) {
      expect(url, id).to.match(/\/\/0\.0\.0\.0:\d+\//);
      const local = url.replace('0.0.0.0', '127.0.0.1');
      const bare = await fetch(local);
      expect(bare.status, id).to.equal(401);
      expect(bare.headers.get('www-authenticate')).to.match(/^Bearer/);
      expect((await fetch(local, { headers: { authorization: 'Bearer 00' } })).status, id).to.equal(401);
      expect((await fetch(local, { headers: { authorization: `Bearer ${'a'.repeat(64)}` } })).status, id).to.equal(401);
      expect((await fetch(local, { headers: { authorization: `Bearer ${httpToken(TEST_KEY)}` } })).status, id).to.equal(200);
    }
    const refused = m.log.lines.filter((l) => /refused \d+ request\(s\) without a valid bearer token/.test(l.message));
    // One line per monitor for its first refusal; the next two wait for the interval.
    expect(refused).to.have.length(2);
  });

  it('/metrics counts every limit hit (booster_limit_hits_total), also those the log only summarises', async () => {
    m = await startMonitoredNode({ metrics: '127.0.0.1:0' }, { limits: { maxProxyConnections: 2 } as NodeSettings['limits'] });
    const url = m.urls.get('metrics')!;
    expect(value(await scrape(url), 'booster_limit_hits_total')).to.equal(0);
    // Two idle clients fill the proxy; each of the next three is refused at the limit.
    const open = (): Promise<net.Socket> =>
      new Promise((resolve, reject) => {
        const s = net.connect(m!.node.proxyAddress.port, '127.0.0.1', () => resolve(s)).once('error', reject);
      });
    // Each held client is past the SOCKS5 greeting (answered), so the proxy counts it.
    const greeted = async () => {
      const s = await open();
      s.write(Buffer.from([0x05, 0x01, 0x00]));
      await new Promise((resolve) => s.once('data', resolve));
      return s;
    };
    const held = [await greeted(), await greeted()];
    try {
      const refused: Promise<void>[] = [];
      for (let i = 0; i < 3; i++) refused.push(open().then((s) => new Promise((resolve) => s.once('close', () => resolve()).resume())));
      await Promise.all(refused);
      const families = await scrape(url);
      expect(value(families, 'booster_limit_hits_total', { limit: 'proxy-connections' })).to.equal(3);
      expect(m.log.lines.filter((l) => /limit: proxy at its connection limit 2/.test(l.message))).to.have.length(1);
    } finally {
      held.forEach((s) => s.destroy());
    }
  });

  it("/metrics shows each up peer's heartbeat RTT (booster_peer_heartbeat_rtt_seconds)", async () => {
    m = await startMonitoredNode({ metrics: '127.0.0.1:0' }, { heartbeatMs: 200 });
    const b = await startMonitoredNode({}, { heartbeatMs: 200 });
    try {
      const url = m.urls.get('metrics')!;
      expect((await scrape(url)).find((f) => f.name === 'booster_peer_heartbeat_rtt_seconds')?.metrics ?? []).to.deep.equal([]);
      await m.node.network.connect(`127.0.0.1:${b.node.endpointAddress.port}`);
      const peer = m.node.network.list().find((p) => p.bport === b.node.endpointAddress.port)!;
      // The first answer to our first beat gives the first sample (about one period).
      await waitUntil('an RTT sample', () => peer.rttMs !== undefined, 3_000);
      const families = await scrape(url);
      const rtt = families.find((f) => f.name === 'booster_peer_heartbeat_rtt_seconds')!.metrics;
      expect(rtt).to.have.length(1);
      expect(rtt[0].labels).to.deep.equal({ peer: peer.id });
      // Loopback: well under the 200 ms period the other side holds each beat (which must not be counted).
      expect(Number(rtt[0].value)).to.be.at.least(0).and.below(0.1);
      expect(families.find((f) => f.name === 'booster_peer_heartbeat_rtt_seconds')!.type).to.equal('GAUGE');
      // A peer that goes down has no RTT.
      await b.node.stop();
      await waitUntil('peer down', () => peer.state !== 'up', 3_000);
      expect((await scrape(url)).find((f) => f.name === 'booster_peer_heartbeat_rtt_seconds')?.metrics ?? []).to.deep.equal([]);
    } finally {
      await b.node.stop();
    }
  });

  it('a monitor given an address that is not [HOST:]PORT does not start; the node runs on', async () => {
    m = await startMonitoredNode({}, { plugins: { [HTTP_PLUGIN]: { metrics: 'nowhere' } } });
    const state = m.node.plugins.plugins.find((p) => p.name === HTTP_PLUGIN)!;
    expect(state.status).to.equal('failed');
    expect(state.error).to.match(/metrics must be \[HOST:\]PORT/);
    expect((await getViaSocks(m.node.proxyAddress.port, '127.0.0.1', origin.port, '/hello')).status).to.equal(200);
  });

  it('parses [HOST:]PORT and normalizes rejection reasons', () => {
    expect(parseListenAddress('metrics', 9464)).to.deep.equal({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddress('metrics', 'localhost:1')).to.deep.equal({ host: '127.0.0.1', port: 1 });
    expect(parseListenAddress('api', '[::1]:80')).to.deep.equal({ host: '::1', port: 80 });
    for (const bad of ['', 'x:1', '1.2.3.4:70000', '1.2.3.4', 'http://1.2.3.4:80', true]) {
      expect(() => parseListenAddress('metrics', bad), String(bad)).to.throw(/\[HOST:\]PORT/);
    }
    expect(rejectionReason('handshake timed out after 10000 ms')).to.equal('timeout');
    expect(rejectionReason('SOCKS5 username/password rejected')).to.equal('auth');
  });

  describe('bound to a real non-loopback address (network namespace)', function () {
    const ns = new NamespaceHost('bhttpmon', 207, 100);
    before(function () {
      skipUnlessNetns(this, ['ip', 'tc', 'curl']);
      ns.create();
    });
    after(() => ns.destroy());

    it('a client on another host gets 401 without the token and 200 with it', async () => {
      m = await startMonitoredNode({ api: `${ns.hostAddress}:0` });
      const url = m.urls.get('http-api')!;
      expect(url).to.contain(ns.hostAddress);
      const curl = (...args: string[]) =>
        new Promise<string>((resolve, reject) => {
          // Async: the node answering lives in this process's event loop.
          execFile('ip', ['netns', 'exec', ns.name, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', ...args, url], (err, out) =>
            err ? reject(err) : resolve(out),
          );
        });
      expect(await curl()).to.equal('401');
      expect(await curl('-H', `Authorization: Bearer ${httpToken(TEST_KEY)}`)).to.equal('200');
    });
  });
});
