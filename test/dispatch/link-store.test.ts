import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '../../src/api/logger';
import { resolveSettings } from '../../src/core/config';
import { EventHub } from '../../src/kernel/events';
import { LinkPersistence, LINKS_FILE, readLinksFile, writeLinksFile } from '../../src/dispatch/link-store';
import { SourceRegistry } from '../../src/dispatch/sources';
import { TunnelTable } from '../../src/dispatch/tunnels';

const target = { host: 'example.com', port: 80, kind: 'domain' as const };
const local = { id: 'direct', kind: 'direct' as const, label: 'direct', dialer: 'direct', local: true };
const peer = (id: string) => ({ id, kind: 'peer' as const, label: id, dialer: 'socks5-chain', local: false, proxy: { host: '127.0.0.1', port: 1 } });
const DAY = 24 * 3600_000;

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger & { warnings: string[] } = {
    warnings,
    error: () => undefined,
    warn: (m) => void warnings.push(m),
    info: () => undefined,
    debug: () => undefined,
    child: () => logger,
  };
  return logger;
}

describe('link capacity persistence (links.json)', () => {
  let dir: string;
  let now: number;
  const clock = { now: () => now };

  /** One "run" of a node: a registry and its persistence on the data dir. */
  const run = (capacity: Record<string, unknown> = {}) => {
    const settings = resolveSettings({ dataDir: dir, capacity: { saveDelayMs: 50, ...capacity } as never });
    const events = new EventHub();
    const sources = new SourceRegistry(events, clock, settings);
    const logger = recordingLogger();
    const persistence = new LinkPersistence(sources, settings, clock, logger);
    return { sources, persistence, logger, tunnels: new TunnelTable(events) };
  };

  const measure = (r: ReturnType<typeof run>, id: string, bytesPerSecond: number) => {
    const h = r.tunnels.add(target, id, 'socks5', 'c', r.sources.meter(id));
    for (let i = 0; i < 12; i++) {
      now += 250;
      h.countDown(bytesPerSecond / 4);
      r.sources.sample();
    }
    h.close();
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-links-'));
    now = 5_000_000;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a restart keeps the estimates: saved at stop (0600, atomically), loaded as "persisted", replaced by a measurement', async () => {
    const first = run();
    first.persistence.start();
    first.sources.add(local);
    first.sources.add(peer('b'));
    measure(first, 'direct', 3e6);
    measure(first, 'b', 1e6);
    await first.persistence.stop();
    const file = path.join(dir, LINKS_FILE);
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    expect(fs.readdirSync(dir)).to.deep.equal([LINKS_FILE]); // no temporary file left behind
    const stored = readLinksFile(file, 7 * DAY);
    expect(stored.get('direct')!.capacity).to.be.closeTo(3e6, 3e4);
    expect(stored.get('direct')!.via).to.equal('measured');
    expect(Math.abs(stored.get('direct')!.measuredAt - Date.now())).to.be.below(5000);

    now += 1000; // a new process: its clock starts elsewhere, the wall clock goes on
    const second = run();
    second.sources.add(local);
    second.persistence.start();
    second.sources.add(peer('b'));
    expect(second.sources.get('direct')!.stats.capacitySource).to.equal('persisted');
    expect(second.sources.get('direct')!.stats.capacity).to.be.closeTo(3e6, 3e4);
    expect(second.sources.get('b')!.stats.capacity).to.be.closeTo(1e6, 1e4);
    measure(second, 'direct', 5e6);
    expect(second.sources.get('direct')!.stats.capacitySource).to.equal('measured');
    expect(second.sources.get('direct')!.stats.capacity).to.be.closeTo(5e6, 5e4);
    await second.persistence.stop();
    expect(second.logger.warnings).to.deep.equal([]);
  });

  it('saves a while after a change (debounced), without waiting for the stop', async () => {
    const r = run({ saveDelayMs: 30 });
    r.persistence.start();
    r.sources.add(local);
    measure(r, 'direct', 2e6);
    const file = path.join(dir, LINKS_FILE);
    expect(fs.existsSync(file)).to.equal(false);
    for (let i = 0; i < 100 && !fs.existsSync(file); i++) await new Promise((res) => setTimeout(res, 10));
    expect(readLinksFile(file, DAY).get('direct')!.capacity).to.be.closeTo(2e6, 2e4);
    await r.persistence.stop();
  });

  it('a corrupt or unreadable file is one warning, ignored, and replaced at the next save', async () => {
    const file = path.join(dir, LINKS_FILE);
    for (const bad of ['{"version": 1, "links": {"direct": ', '[1, 2]', '{"version": 9, "links": {}}']) {
      fs.writeFileSync(file, bad);
      const r = run();
      r.sources.add(local);
      r.persistence.start();
      expect(r.logger.warnings).to.have.length(1);
      expect(r.logger.warnings[0]).to.match(/ignoring saved capacity estimates: cannot use .*links\.json/);
      expect(r.sources.get('direct')!.stats.capacitySource).to.equal('unknown');
      measure(r, 'direct', 1e6);
      await r.persistence.stop();
      expect(readLinksFile(file, DAY).get('direct')!.capacity).to.be.closeTo(1e6, 1e4);
    }
    // A directory where the file should be: unreadable, one warning, and the save fails with one warning too.
    fs.rmSync(file);
    fs.mkdirSync(file);
    const r = run();
    r.sources.add(local);
    r.persistence.start();
    measure(r, 'direct', 1e6);
    await r.persistence.stop();
    expect(r.logger.warnings).to.have.length(2);
    expect(r.logger.warnings[1]).to.match(/cannot save capacity estimates/);
  });

  it('entries older than maxAgeMs, malformed or from the future are ignored; the rest are used', async () => {
    const wall = Date.now();
    fs.writeFileSync(
      path.join(dir, LINKS_FILE),
      JSON.stringify({
        version: 1,
        links: {
          direct: { capacity: 2e6, measuredAt: wall - 8 * DAY, via: 'measured' },
          b: { capacity: 1e6, measuredAt: wall - DAY, via: 'probe' },
          c: { capacity: 'fast', measuredAt: wall },
          d: { capacity: 1e6, measuredAt: wall + DAY },
        },
      }),
    );
    const r = run();
    r.persistence.start();
    r.sources.add(local);
    for (const id of ['b', 'c', 'd']) r.sources.add(peer(id));
    expect(r.sources.get('direct')!.stats.capacitySource).to.equal('unknown');
    expect(r.sources.get('b')!.stats).to.include({ capacity: 1e6, capacitySource: 'persisted' });
    expect(r.sources.get('c')!.stats.capacitySource).to.equal('unknown');
    expect(r.sources.get('d')!.stats.capacitySource).to.equal('unknown');
    expect(r.logger.warnings).to.deep.equal([]);
    // With a longer maxAgeMs the 8-day-old one counts.
    const longer = run({ maxAgeMs: 30 * DAY });
    longer.persistence.start();
    longer.sources.add(local);
    expect(longer.sources.get('direct')!.stats).to.include({ capacity: 2e6, capacitySource: 'persisted' });
    await Promise.all([r.persistence.stop(), longer.persistence.stop()]);
  });

  it('capacity.persist false: nothing read, nothing written', async () => {
    await writeLinksFile(path.join(dir, LINKS_FILE), new Map([['direct', { capacity: 2e6, measuredAt: Date.now(), via: 'measured' as const }]]));
    const r = run({ persist: false });
    r.persistence.start();
    r.sources.add(local);
    expect(r.sources.get('direct')!.stats.capacitySource).to.equal('unknown');
    measure(r, 'direct', 4e6);
    await r.persistence.stop();
    expect(readLinksFile(path.join(dir, LINKS_FILE), DAY).get('direct')!.capacity).to.equal(2e6);
  });
});
