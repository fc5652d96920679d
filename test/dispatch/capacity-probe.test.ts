import { expect } from 'chai';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, resolveSettings } from '../../src/core/config';
import type { BoosterNode } from '../../src/core/node';
import { startTestNode } from '../helpers/node';
import { freePort, waitUntil } from '../helpers/ports';

/** Serves /paced: 32 KiB every 25 ms (about 1.3 MB/s) for as long as the client reads, counting requests. */
async function pacedServer(): Promise<{ port: number; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url !== '/paced') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const chunk = Buffer.alloc(32 * 1024, 0x62);
    const t = setInterval(() => res.write(chunk), 25);
    timers.add(t);
    res.on('close', () => {
      clearInterval(t);
      timers.delete(t);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () => {
      timers.forEach(clearInterval);
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

describe('capacity probe (optional, off by default)', function () {
  this.timeout(30_000);
  let node: BoosterNode | undefined;
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-probe-'));
  });
  afterEach(async () => {
    await node?.stop();
    node = undefined;
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('is off unless configured', async () => {
    const server = await pacedServer();
    try {
      node = await startTestNode({ settings: { dataDir } });
      await new Promise((r) => setTimeout(r, 300));
      expect(server.requests).to.deep.equal([]);
      expect(node.sources.get('direct')!.stats.capacitySource).to.equal('unknown');
    } finally {
      await server.close();
    }
  });

  it('downloads the URL through the direct source, records the rate ("probe"), and does not probe again while fresh', async () => {
    const server = await pacedServer();
    try {
      node = await startTestNode({
        settings: { dataDir, capacityProbe: { url: `http://127.0.0.1:${server.port}/paced`, intervalMs: 200, maxBytes: 1_000_000, timeoutMs: 5000 } },
      });
      await waitUntil('direct probed', () => node!.sources.get('direct')!.stats.capacitySource === 'probe', 10_000);
      const { capacity } = node.sources.get('direct')!.stats;
      // 32 KiB / 25 ms = 1.31 MB/s; a loaded machine's timers only make it slower.
      expect(capacity).to.be.within(0.4e6, 1.5e6);
      await new Promise((r) => setTimeout(r, 800)); // four more rounds: direct is fresh now
      expect(server.requests).to.deep.equal(['GET /paced']);
    } finally {
      await server.close();
    }
  });

  it('an unreachable URL or a too short answer measures nothing, and the node carries on', async () => {
    const dead = await freePort();
    node = await startTestNode({
      settings: { dataDir, capacityProbe: { url: `http://127.0.0.1:${dead}/x`, intervalMs: 100, maxBytes: 100_000, timeoutMs: 1000 } },
    });
    await new Promise((r) => setTimeout(r, 400));
    expect(node.sources.get('direct')!.stats.capacitySource).to.equal('unknown');
    const server = await pacedServer();
    try {
      await node.stop();
      node = await startTestNode({
        settings: { dataDir, capacityProbe: { url: `http://127.0.0.1:${server.port}/missing`, intervalMs: 100, maxBytes: 100_000, timeoutMs: 1000 } },
      });
      await waitUntil('a probe request', () => server.requests.length > 0, 5000);
      await new Promise((r) => setTimeout(r, 200));
      expect(node.sources.get('direct')!.stats.capacitySource).to.equal('unknown');
    } finally {
      await server.close();
    }
  });
});

describe('capacity settings', () => {
  it('defaults: bandwidth-weighted, estimates saved, no probe', () => {
    const s = resolveSettings({});
    expect(s.policy).to.equal('bandwidth-weighted');
    expect(s.capacity).to.include({ tickMs: 250, persist: true, maxAgeMs: 7 * 24 * 3600_000 });
    expect(s.capacityProbe).to.equal(undefined);
  });

  it('a probe given only a url gets the default interval, size and timeout', () => {
    expect(resolveSettings({ capacityProbe: { url: 'http://127.0.0.1:8080/f' } as never }).capacityProbe).to.deep.equal({
      url: 'http://127.0.0.1:8080/f',
      intervalMs: 3_600_000,
      maxBytes: 4_000_000,
      timeoutMs: 10_000,
    });
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['probe url not http', { capacityProbe: { url: 'ftp://x/y' } }, /capacityProbe\.url must be an http:\/\/ URL, got "ftp:\/\/x\/y"/],
    ['probe url not a URL', { capacityProbe: { url: 'speedtest' } }, /capacityProbe\.url must be an http:\/\/ URL/],
    ['probe interval', { capacityProbe: { url: 'http://a/b', intervalMs: 0 } }, /capacityProbe\.intervalMs must be a positive number of milliseconds, got 0/],
    ['probe size', { capacityProbe: { url: 'http://a/b', maxBytes: 1000 } }, /capacityProbe\.maxBytes must be an integer of at least 65536/],
    ['probe typo', { capacityProbe: { url: 'http://a/b', maxbytes: 1 } }, /unknown capacityProbe setting "maxbytes"/],
    ['probe not an object', { capacityProbe: 'http://a/b' }, /capacityProbe must be an object/],
    ['capacity typo', { capacity: { tickMS: 100 } }, /unknown capacity setting "tickMS" \(known: tickMs,/],
    ['capacity tick', { capacity: { tickMs: -1 } }, /capacity\.tickMs must be a positive number of milliseconds, got -1/],
    [
      'rate window below the tick',
      { capacity: { tickMs: 500, rateWindowMs: 250 } },
      /capacity\.rateWindowMs \(250\) must be at least capacity\.tickMs \(500\)/,
    ],
    ['busy window below the rate window', { capacity: { busyWindowMs: 500 } }, /capacity\.busyWindowMs \(500\) must be at least capacity\.rateWindowMs/],
    ['percentile', { capacity: { percentile: 0 } }, /capacity\.percentile must be a number in \(0, 1\], got 0/],
    ['busy share', { capacity: { busyShare: 2 } }, /capacity\.busyShare must be a number in \[0, 1\], got 2/],
    ['persist', { capacity: { persist: 'yes' } }, /capacity\.persist must be true or false/],
    ['max records', { capacity: { maxRecords: 1.5 } }, /capacity\.maxRecords must be a positive integer/],
    ['capacity not an object', { capacity: 5 }, /capacity must be an object/],
  ];
  for (const [name, layer, message] of bad) {
    it(`refuses ${name} with a clear error`, () => {
      expect(() => resolveSettings(layer)).to.throw(ConfigError, message);
    });
  }
});
