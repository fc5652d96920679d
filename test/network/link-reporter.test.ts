import { expect } from 'chai';
import * as sinon from 'sinon';
import { ConfigError, DEFAULT_SETTINGS, resolveSettings } from '../../src/core/config';
import { LINK_REPORT_REFRESH_MS, LinkReporter } from '../../src/network/sessions/link-reporter';
import type { ReportedLink } from '../../src/wire';

describe('link reporter (LinkReport rate limit)', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => clock.restore());

  function reporter(intervalMs = 2000) {
    let links: ReportedLink[] = [{ id: 'direct', kind: 'direct', capacity: 10_000_000, throughput: 100_000 }];
    const sent: { at: number; links: readonly ReportedLink[] }[] = [];
    const r = new LinkReporter({ intervalMs, links: () => links, send: (l) => sent.push({ at: Date.now(), links: l }) });
    return { r, sent, set: (l: Partial<ReportedLink>) => (links = [{ ...links[0], ...l }]), setAll: (l: ReportedLink[]) => (links = l) };
  }

  it('reports at once when started (on wiring)', () => {
    const { r, sent } = reporter();
    r.start();
    expect(sent.map((s) => s.at)).to.deep.equal([1_000_000]);
    r.dispose();
  });

  it('sends at most once per interval however often the figures change', () => {
    const { r, sent, set } = reporter(2000);
    r.start();
    // Throughput jumps between 100, 200 and 300 kB/s every 10 ms for 20 s: a report is due at every tick.
    for (let i = 0; i < 2000; i++) {
      set({ throughput: ((i % 3) + 1) * 100_000 });
      clock.tick(10);
    }
    expect(sent.length).to.be.within(10, 11);
    const gaps = sent.slice(1).map((s, i) => s.at - sent[i].at);
    expect(Math.min(...gaps)).to.be.at.least(2000);
    r.dispose();
  });

  it('stays quiet while no figure moves by more than 10 %, then refreshes every 30 s', () => {
    const { r, sent, set } = reporter(2000);
    r.start();
    set({ capacity: 10_900_000, throughput: 109_000 });
    clock.tick(LINK_REPORT_REFRESH_MS - 1);
    expect(sent).to.have.length(1);
    clock.tick(2000);
    expect(sent).to.have.length(2);
    expect(sent[1].at - sent[0].at).to.equal(LINK_REPORT_REFRESH_MS);
    r.dispose();
  });

  it('reports a capacity change of more than 10 % at the next interval', () => {
    const { r, sent, set } = reporter(2000);
    r.start();
    clock.tick(500);
    set({ capacity: 11_100_000 });
    clock.tick(1500);
    expect(sent).to.have.length(2);
    expect(sent[1].links[0].capacity).to.equal(11_100_000);
    r.dispose();
  });

  it('ignores changes of 1 KiB/s or less (a rate decaying towards 0)', () => {
    const { r, sent, set } = reporter(1000);
    set({ throughput: 900 });
    r.start();
    set({ throughput: 10 });
    clock.tick(5000);
    expect(sent).to.have.length(1);
    set({ throughput: 5000 });
    clock.tick(1000);
    expect(sent).to.have.length(2);
    r.dispose();
  });

  it('reports a link that appears or disappears', () => {
    const { r, sent, setAll } = reporter(1000);
    r.start();
    setAll([
      { id: 'direct', kind: 'direct', capacity: 10_000_000, throughput: 100_000 },
      { id: 'if:usb0:10.0.0.2', kind: 'interface', capacity: 0, throughput: 0 },
    ]);
    clock.tick(1000);
    expect(sent.map((s) => s.links.length)).to.deep.equal([1, 2]);
    r.dispose();
  });

  it('linkReportMs defaults to 2 s and must be a positive number of milliseconds', () => {
    expect(DEFAULT_SETTINGS.linkReportMs).to.equal(2000);
    expect(resolveSettings({ linkReportMs: 500 }).linkReportMs).to.equal(500);
    for (const bad of [0, -1, 'soon', Infinity]) {
      expect(() => resolveSettings({ linkReportMs: bad as number }), String(bad)).to.throw(
        ConfigError,
        /linkReportMs must be a positive number of milliseconds/,
      );
    }
  });

  it('sends nothing after dispose', () => {
    const { r, sent, set } = reporter(1000);
    r.start();
    r.dispose();
    set({ capacity: 1 });
    clock.tick(60_000);
    expect(sent).to.have.length(1);
  });
});
