import { expect } from 'chai';
import type { SourceHealthChange } from '../../src/api/sources';
import { EventHub } from '../../src/core/events';
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

  it('tracks workload copies per target', () => {
    const t1 = tunnels.add(target, 'direct', 'socks5', 'c');
    tunnels.add(target, 'direct', 'socks5', 'c');
    tunnels.add({ host: '::1', port: 443, kind: 'ipv6' }, 'direct', 'socks5', 'c');
    expect(tunnels.workload().map((w) => [w.target, w.copies])).to.deep.equal([['example.com:80', 2], ['[::1]:443', 1]]);
    t1.close();
    t1.close();
    expect(tunnels.workload()[0].copies).to.equal(1);
  });
});
