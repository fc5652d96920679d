import { expect } from 'chai';
import * as sinon from 'sinon';
import { PassThrough } from 'node:stream';
import type { DependencyContainer } from 'tsyringe';
import type { Dialer, DialRequest, DialResult } from '../../src/api/dialer';
import type { PluginFault } from '../../src/api/events';
import type { BalancingPolicy } from '../../src/api/policy';
import type { SourceDescriptor } from '../../src/api/sources';
import { resolveSettings } from '../../src/core/config';
import { createNodeContainer } from '../../src/core/container';
import { EventHub } from '../../src/kernel/events';
import { silentLogger } from '../../src/kernel/logger';
import { Dispatcher } from '../../src/dispatch/dispatcher';
import { DialFailure, Socks5Reply } from '../../src/kernel/connector-errors';
import { PolicyManager } from '../../src/dispatch/policies';
import { SourceRegistry } from '../../src/dispatch/sources';
import { Contributions, ExtensionHost } from '../../src/extensions/host';
import { builtinPlugins } from '../helpers/node';

const source = (id: string, dialer: string): SourceDescriptor => ({ id, kind: 'interface', label: id, dialer, local: true });
const TARGET = { host: 'example.com', port: 443, kind: 'domain' as const };

describe('dispatcher: rankings and dialers that misbehave', () => {
  let container: DependencyContainer;
  let faults: PluginFault[];
  let dialed: string[];
  let policyCalls: number;

  async function setup(dialers: Dialer[], ranking: string[]): Promise<void> {
    container = createNodeContainer({ settings: resolveSettings({ dialTimeoutMs: 1000 }), logger: silentLogger, plugins: await builtinPlugins() });
    faults = [];
    dialed = [];
    policyCalls = 0;
    container.resolve(EventHub).onPluginFault((f) => faults.push(f));
    const contributions = container.resolve(Contributions);
    for (const d of dialers) contributions.dialers.register('fixture-dialers', d.id, d);
    const ranked: BalancingPolicy = {
      id: 'ranked',
      choose: (_r, candidates) => {
        policyCalls++;
        return ranking.map((id) => candidates.find((c) => c.id === id)).filter((c) => c !== undefined);
      },
    };
    contributions.policies.register('fixture-policy', 'ranked', () => ranked);
    await container.resolve(PolicyManager).use('ranked');
  }

  afterEach(async () => {
    await container.resolve(ExtensionHost).deactivateAll();
    container.resolve(SourceRegistry).dispose();
    await container.dispose();
  });

  const open = (signal = new AbortController().signal) =>
    container.resolve(Dispatcher).open({ target: TARGET, protocol: 'socks5', client: '127.0.0.1:5000' }, signal);

  it("follows the policy's ranking when a dial fails, before asking the policy again", async () => {
    const fake: Dialer = {
      id: 'fake',
      dial: async ({ source: s }: DialRequest): Promise<DialResult> => {
        dialed.push(s.id);
        if (s.id !== 'c') throw Object.assign(new Error(`no route via ${s.id}`), { code: 'ENETUNREACH' });
        return { socket: new PassThrough() };
      },
    };
    await setup([fake], ['b', 'a', 'c']);
    const sources = container.resolve(SourceRegistry);
    for (const id of ['a', 'b', 'c']) sources.add(source(id, 'fake'));
    const opened = await open();
    expect(dialed).to.deep.equal(['b', 'a', 'c']);
    expect(policyCalls, 'one decision served all three attempts').to.equal(1);
    expect(opened.source.id).to.equal('c');
    opened.upstream.destroy();
    opened.tunnel.close();
  });

  it('a ranked source that went down meanwhile is skipped', async () => {
    const fake: Dialer = {
      id: 'fake',
      dial: async ({ source: s }: DialRequest): Promise<DialResult> => {
        dialed.push(s.id);
        if (s.id === 'b') {
          container.resolve(SourceRegistry).setDown('a', true, 'test');
          throw Object.assign(new Error('no route'), { code: 'ENETUNREACH' });
        }
        return { socket: new PassThrough() };
      },
    };
    await setup([fake], ['b', 'a', 'c']);
    const sources = container.resolve(SourceRegistry);
    for (const id of ['a', 'b', 'c']) sources.add(source(id, 'fake'));
    const opened = await open();
    expect(dialed).to.deep.equal(['b', 'c']);
    opened.upstream.destroy();
    opened.tunnel.close();
  });

  it('abandons a dialer that ignores its abort signal: the client gets a reply, the dial count is released, the fault is reported, a late socket is destroyed', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let deliver!: (r: DialResult) => void;
      const deaf: Dialer = { id: 'deaf', dial: () => new Promise<DialResult>((resolve) => (deliver = resolve)) };
      await setup([deaf], ['x']);
      const sources = container.resolve(SourceRegistry);
      sources.add(source('x', 'deaf'));
      const outcome = open().then(
        () => undefined,
        (e: unknown) => e,
      );
      await clock.tickAsync(0);
      expect(sources.get('x')!.stats.pendingDials).to.equal(1);
      await clock.tickAsync(1000);
      const err = await outcome;
      expect(err).to.be.instanceOf(DialFailure);
      expect((err as DialFailure).reply).to.equal(Socks5Reply.TtlExpired);
      expect((err as DialFailure).message).to.match(/dial timed out after 1000 ms/);
      expect(sources.get('x')!.stats.pendingDials, 'dials under way').to.equal(0);
      expect(faults, 'not blamed before it had a dial timeout to notice the abort').to.deep.equal([]);
      await clock.tickAsync(1000);
      expect(faults).to.have.length(1);
      expect(faults[0]).to.include({ plugin: 'fixture-dialers', contribution: 'dialers:deaf' });
      expect(faults[0].message).to.match(/ignored its abort signal/);
      const late = new PassThrough();
      deliver({ socket: late });
      await clock.tickAsync(0);
      expect(late.destroyed, 'a socket delivered after the abort').to.equal(true);
    } finally {
      clock.restore();
    }
  });

  it('a dialer that resolves without a socket is a fault of its plugin; the next ranked source serves the connection', async () => {
    const broken: Dialer = { id: 'broken', dial: async () => ({}) as DialResult };
    const fake: Dialer = { id: 'fake', dial: async () => ({ socket: new PassThrough() }) };
    await setup([broken, fake], ['x', 'y']);
    const sources = container.resolve(SourceRegistry);
    sources.add(source('x', 'broken'));
    sources.add(source('y', 'fake'));
    const opened = await open();
    expect(opened.source.id).to.equal('y');
    expect(faults.map((f) => [f.plugin, f.contribution, f.message])).to.deep.equal([
      ['fixture-dialers', 'dialers:broken', 'dial resolved without a socket ({ socket: Duplex } expected)'],
    ]);
    opened.upstream.destroy();
    opened.tunnel.close();
  });

  it('a dialer that honours the abort is not reported', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const polite: Dialer = {
        id: 'polite',
        dial: ({ signal }) =>
          new Promise<DialResult>((_, reject) => signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' })))),
      };
      await setup([polite], ['x']);
      container.resolve(SourceRegistry).add(source('x', 'polite'));
      const outcome = open().then(
        () => undefined,
        (e: unknown) => e,
      );
      await clock.tickAsync(3000);
      expect(await outcome).to.be.instanceOf(DialFailure);
      expect(faults).to.deep.equal([]);
    } finally {
      clock.restore();
    }
  });
});
