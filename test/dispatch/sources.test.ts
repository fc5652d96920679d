import { expect } from 'chai';
import type { SourceHealthChange } from '../../src/api/sources';
import { EventHub } from '../../src/kernel/events';
import { SourceRegistry } from '../../src/dispatch/sources';
import { TunnelTable } from '../../src/dispatch/tunnels';

const target = { host: 'example.com', port: 80, kind: 'domain' as const };

describe('source registry', () => {
  let now: number;
  let events: EventHub;
  let sources: SourceRegistry;
  let tunnels: TunnelTable;
  const local = { id: 'direct', kind: 'direct' as const, label: 'direct', dialer: 'direct', local: true };
  const peer = (id: string) => ({ id, kind: 'peer' as const, label: id, dialer: 'socks5-chain', local: false, proxy: { host: '127.0.0.1', port: 1 } });

  beforeEach(() => {
    now = 0;
    events = new EventHub();
    sources = new SourceRegistry(events, { now: () => now });
    tunnels = new TunnelTable(events);
  });
  afterEach(() => sources.dispose());

  it('0.3 workload: a peer counts what it reports; the local node its total minus its peers', () => {
    sources.add(local);
    sources.add(peer('b'));
    for (let i = 0; i < 3; i++) tunnels.add(target, 'b', 'socks5', 'c');
    tunnels.add(target, 'direct', 'socks5', 'c');
    sources.setReportedWorkload('b', 5); // B also serves someone else
    expect(sources.get('b')!.stats.workload).to.equal(5);
    expect(sources.get('direct')!.stats.workload).to.equal(4 - 5);
    expect(sources.openTunnels).to.equal(4);
  });

  it('counts our own tunnels through a peer until its report catches up, and dials under way', () => {
    sources.add(local);
    sources.add(peer('b'));
    const end = sources.beginDial('b');
    expect(sources.get('b')!.stats.workload).to.equal(1);
    expect(sources.get('direct')!.stats.workload).to.equal(0);
    tunnels.add(target, 'b', 'socks5', 'c');
    end();
    expect(sources.get('b')!.stats.workload).to.equal(1);
  });

  it('ejects a source after 3 failed dials in a row, backs off (doubling) and retries it', () => {
    sources.add(peer('b'));
    const changes: SourceHealthChange[] = [];
    events.onSourceHealthChanged((c) => changes.push(c));
    for (let i = 0; i < 3; i++) sources.recordDial('b', false, 5, 'ECONNRESET');
    expect(sources.get('b')!.stats.health).to.equal('ejected');
    expect(sources.available()).to.have.length(0);
    expect(changes[0].reason).to.match(/3 dial failures in a row \(last: ECONNRESET\); retry in 5 s/);
    now = 5000;
    expect(sources.get('b')!.stats.health).to.equal('healthy');
    sources.recordDial('b', false, 5, 'ECONNRESET'); // half-open: one more failure ejects again, twice as long
    expect(sources.get('b')!.stats.health).to.equal('ejected');
    expect(changes.at(-1)!.reason).to.match(/retry in 10 s/);
    now = 15_000;
    sources.get('b');
    sources.recordDial('b', true, 12);
    expect(sources.get('b')!.stats).to.include({ health: 'healthy', consecutiveFailures: 0, connectLatencyMs: 12 });
  });

  it('a peer marked down is not available until it is back', () => {
    sources.add(peer('b'));
    sources.setDown('b', true, 'link closed');
    expect(sources.available()).to.have.length(0);
    sources.setDown('b', false, 'wired again');
    expect(sources.available().map((c) => c.id)).to.deep.equal(['b']);
  });

  it('load: tunnels open plus dials under way; for a peer, at least what it reports', () => {
    sources.add(local);
    sources.add(peer('b'));
    const ends = [sources.beginDial('direct'), sources.beginDial('direct'), sources.beginDial('b')];
    expect(sources.get('direct')!.stats).to.include({ pendingDials: 2, load: 2, openTunnels: 0 });
    tunnels.add(target, 'direct', 'socks5', 'c');
    ends[0]();
    expect(sources.get('direct')!.stats).to.include({ pendingDials: 1, load: 2, openTunnels: 1 });
    expect(sources.get('b')!.stats).to.include({ pendingDials: 1, load: 1 });
    sources.setReportedWorkload('b', 4); // its own users
    expect(sources.get('b')!.stats.load).to.equal(4);
    ends[1]();
    ends[2]();
    expect(sources.get('direct')!.stats.load).to.equal(1);
  });

  describe('capacity', () => {
    /** `seconds` of 250 ms ticks, each moving rate/4 bytes through every tunnel handle given. */
    const flow = (handles: { countDown(n: number): void }[], bytesPerSecondEach: number, seconds: number) => {
      for (let i = 0; i < seconds * 4; i++) {
        now += 250;
        for (const h of handles) h.countDown(bytesPerSecondEach / 4);
        sources.sample();
      }
    };

    it('measures all flows through a source together, and keeps the estimate while idle', () => {
      sources.add(local);
      expect(sources.get('direct')!.stats).to.include({ capacity: 0, capacitySource: 'unknown' });
      const handles = Array.from({ length: 5 }, () => tunnels.add(target, 'direct', 'socks5', 'c', sources.meter('direct')));
      flow(handles, 200_000, 3);
      expect(sources.get('direct')!.stats.capacity).to.be.closeTo(1_000_000, 10_000);
      expect(sources.get('direct')!.stats.capacitySource).to.equal('measured');
      expect(sources.get('direct')!.stats.throughputDown).to.be.within(600_000, 1_000_000);
      handles.forEach((h) => h.close());
      for (let i = 0; i < 4 * 600; i++) {
        now += 250;
        sources.sample();
      }
      expect(sources.get('direct')!.stats.capacity).to.be.closeTo(1_000_000, 10_000);
      expect(sources.get('direct')!.stats.throughputDown).to.be.below(1);
    });

    it('a peer: advertised capacity until measured; ours wins, then the advertisement again when ours is stale', () => {
      sources.add(peer('b'));
      sources.setAdvertisedLink('b', { capacity: 2_000_000, throughput: 0 });
      expect(sources.get('b')!.stats).to.include({ capacity: 2_000_000, capacitySource: 'advertised' });
      expect(sources.advertisedLink('b')).to.deep.equal({ capacity: 2_000_000, throughput: 0 });
      const h = tunnels.add(target, 'b', 'socks5', 'c', sources.meter('b'));
      flow([h], 500_000, 2); // the LAN between us is slower than its uplink
      expect(sources.get('b')!.stats).to.include({ capacitySource: 'measured' });
      expect(sources.get('b')!.stats.capacity).to.be.closeTo(500_000, 5000);
      h.close();
      now += 600_001;
      sources.sample();
      expect(sources.get('b')!.stats).to.include({ capacity: 2_000_000, capacitySource: 'advertised' });
      sources.setAdvertisedLink('b', undefined); // link lost: our old measurement again
      expect(sources.get('b')!.stats).to.include({ capacitySource: 'measured' });
    });

    it('a peer busy with its own users: only what is left counts', () => {
      sources.add(peer('b'));
      sources.setAdvertisedLink('b', { capacity: 2_000_000, throughput: 1_500_000 });
      expect(sources.get('b')!.stats.capacity).to.equal(500_000);
      sources.setAdvertisedLink('b', { capacity: 2_000_000, throughput: 100_000 });
      expect(sources.get('b')!.stats.capacity).to.equal(2_000_000);
    });

    it('local links report their own estimate to peers', () => {
      sources.add(local);
      sources.add(peer('b'));
      sources.recordProbe('direct', 3_000_000);
      expect(sources.get('direct')!.stats).to.include({ capacity: 3_000_000, capacitySource: 'probe' });
      expect(sources.localLinks()).to.deep.equal([{ id: 'direct', kind: 'direct', capacity: 3_000_000, throughput: 0 }]);
    });

    it('saved estimates: used until measured (also for sources added later), ignored when too old, the newest kept', () => {
      now = 1e9;
      const changes: number[] = [];
      sources.onEstimatesChanged(() => changes.push(now));
      sources.add(local);
      sources.restore(
        new Map([
          ['direct', { capacity: 4e6, at: now - 3600_000, via: 'measured' as const }],
          ['b', { capacity: 1e6, at: now - 60_000, via: 'measured' as const }],
          ['old', { capacity: 9e6, at: now - 8 * 24 * 3600_000, via: 'measured' as const }],
        ]),
      );
      expect(sources.get('direct')!.stats).to.include({ capacity: 4e6, capacitySource: 'persisted' });
      sources.add(peer('b'));
      sources.add(peer('old'));
      expect(sources.get('b')!.stats).to.include({ capacity: 1e6, capacitySource: 'persisted' });
      expect(sources.get('old')!.stats).to.include({ capacity: 0, capacitySource: 'unknown' });
      const h = tunnels.add(target, 'direct', 'socks5', 'c', sources.meter('direct'));
      flow([h], 2e6, 2);
      expect(sources.get('direct')!.stats).to.include({ capacitySource: 'measured' });
      expect(changes.length).to.be.greaterThan(0);
      const saved = sources.savedEstimates();
      expect([...saved.keys()]).to.deep.equal(['direct', 'b']);
      expect(saved.get('direct')!.capacity).to.be.closeTo(2e6, 2e4);
      h.close();
    });
  });

  it('tracks workload copies per target', () => {
    const t1 = tunnels.add(target, 'direct', 'socks5', 'c');
    tunnels.add(target, 'direct', 'socks5', 'c');
    tunnels.add({ host: '::1', port: 443, kind: 'ipv6' }, 'direct', 'socks5', 'c');
    expect(tunnels.workload().map((w) => [w.target, w.copies])).to.deep.equal([
      ['example.com:80', 2],
      ['[::1]:443', 1],
    ]);
    t1.close();
    t1.close();
    expect(tunnels.workload()[0].copies).to.equal(1);
  });
});
