import { expect } from 'chai';
import * as path from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import type { PluginFault } from '../../src/api/events';
import { resolveSettings } from '../../src/core/config';
import { createNodeContainer } from '../../src/core/container';
import { EventHub } from '../../src/kernel/events';
import { silentLogger } from '../../src/kernel/logger';
import { Contributions, ExtensionHost } from '../../src/extensions/host';
import { checkEngine, parseManifest, readDescription } from '../../src/extensions/manifest';
import type { PluginContext } from '../../src/api/plugin';
import type { NodeSettings } from '../../src/api/settings';
import { PLUGIN_API_VERSION } from '../../src/api/version';
import { SourceRegistry } from '../../src/dispatch/sources';

const globals = globalThis as Record<string, unknown>;
import { builtinPlugins } from '../helpers/node';
import { FIXTURES } from '../helpers/paths';

const fixture = (name: string) => readDescription(path.join(FIXTURES, 'plugins', name), 'link');

describe('extension host', () => {
  let container: DependencyContainer;
  let faults: PluginFault[];

  async function hostWith(...fixtures: string[]): Promise<ExtensionHost> {
    return hostWithSettings({}, ...fixtures);
  }

  async function hostWithSettings(settings: Partial<NodeSettings>, ...fixtures: string[]): Promise<ExtensionHost> {
    const plugins = [...(await builtinPlugins()), ...fixtures.map(fixture)];
    container = createNodeContainer({ settings: resolveSettings(settings), logger: silentLogger, plugins });
    faults = [];
    container.resolve(EventHub).onPluginFault((f) => faults.push(f));
    return container.resolve(ExtensionHost);
  }

  afterEach(async () => {
    await container.resolve(ExtensionHost).deactivateAll();
    await container.dispose();
  });

  it('finds the built-in plugins through oclif, validated but not activated', async () => {
    const host = await hostWith();
    const names = host.plugins.map((p) => p.name);
    expect(names).to.include.members(['@booster/plugin-local', '@booster/plugin-least-busy', '@booster/plugin-round-robin']);
    expect(host.plugins.every((p) => p.status === 'inactive')).to.equal(true);
    expect(host.declared('policies')).to.include.members(['least-busy', 'round-robin']);
  });

  it('activates on startup and on demand, and deactivation disposes every registration', async () => {
    const host = await hostWith();
    const contributions = container.resolve(Contributions);
    await host.activateStartup();
    expect(contributions.dialers.has('direct')).to.equal(true);
    expect(contributions.policies.has('round-robin')).to.equal(false, 'round-robin activates only when asked for');
    expect(await host.activateContribution('policies', 'round-robin')).to.equal(true);
    expect(host.plugins.find((p) => p.name === '@booster/plugin-round-robin')?.status).to.equal('active');
    await host.deactivateAll();
    expect(contributions.policies.ids()).to.deep.equal([]);
    expect(contributions.dialers.ids()).to.deep.equal([]);
  });

  it('refuses an invalid manifest without running the plugin, naming it and the reason', async () => {
    const host = await hostWith('bad-manifest');
    const state = host.plugins.find((p) => p.name === 'fixture-bad-manifest')!;
    expect(state.status).to.equal('invalid');
    expect(state.error).to.match(/contributes\.policies\[0\]\.id/);
    expect(faults.map((f) => f.plugin)).to.include('fixture-bad-manifest');
  });

  it('reports a plugin whose activate throws, and releases what it registered; the others still work', async () => {
    const host = await hostWith('throws');
    await host.activateStartup();
    const state = host.plugins.find((p) => p.name === 'fixture-throws')!;
    expect(state.status).to.equal('failed');
    expect(state.error).to.contain('boom in activate');
    expect(container.resolve(Contributions).policies.has('explodes')).to.equal(false);
    expect(globals.__fixtureThrowsDisposed, 'what it pushed into context.subscriptions is disposed').to.equal(1);
    expect(await host.activateContribution('policies', 'least-busy')).to.equal(true);
  });

  it('refuses a plugin contributing an id another plugin already contributes', async () => {
    const host = await hostWith('dup-policy');
    const state = host.plugins.find((p) => p.name === 'fixture-dup-policy')!;
    expect(state.status).to.equal('invalid');
    expect(state.error).to.equal('contributes policies id "least-busy", already contributed by @booster/plugin-least-busy');
    await host.activateStartup();
    expect(await host.activateContribution('policies', 'least-busy')).to.equal(true);
    expect(container.resolve(Contributions).policies.ownerOf('least-busy')).to.equal('@booster/plugin-least-busy');
  });

  it('refuses a plugin whose engines.booster range excludes our plugin API version, without running it', async () => {
    const host = await hostWith('wrong-engine');
    await host.activateStartup();
    const state = host.plugins.find((p) => p.name === 'fixture-wrong-engine')!;
    expect(state.status).to.equal('invalid');
    expect(state.error).to.equal(`requires booster plugin API ^2.0.0 (engines.booster), but this node provides ${PLUGIN_API_VERSION}; not activated`);
    expect(faults.find((f) => f.plugin === 'fixture-wrong-engine')?.message).to.equal(state.error);
    expect(globals.__fixtureWrongEngineRan).to.equal(undefined);
    expect(await host.activateContribution('policies', 'least-busy'), 'the others still work').to.equal(true);
  });

  it('fails an activate that does not finish in time (limits.pluginActivateTimeoutMs) and disposes everything it registered or pushed, even late', async () => {
    const host = await hostWithSettings({ limits: { pluginActivateTimeoutMs: 50 } as NodeSettings['limits'] }, 'hangs');
    await host.activateStartup();
    const state = host.plugins.find((p) => p.name === 'fixture-hangs')!;
    expect(state.status).to.equal('failed');
    expect(state.error).to.equal('activate failed: activate did not finish within 50 ms');
    const hangs = globals.__fixtureHangs as { disposed: number; late: () => void };
    expect(hangs.disposed).to.equal(1);
    expect(container.resolve(Contributions).policies.has('never-ready')).to.equal(false);
    hangs.late();
    await new Promise((resolve) => setImmediate(resolve));
    expect(hangs.disposed, 'a subscription pushed after the timeout is disposed too').to.equal(2);
    expect((hangs as { lateRegisterError?: string }).lateRegisterError).to.equal(
      'plugin fixture-hangs: registers policies id "never-ready" after its activation failed',
    );
    expect(container.resolve(Contributions).policies.has('never-ready')).to.equal(false);
  });

  it('does not wait forever for deactivate (limits.pluginDeactivateTimeoutMs): reports it and still disposes the registrations', async () => {
    const host = await hostWithSettings(
      { limits: { pluginDeactivateTimeoutMs: 50 } as NodeSettings['limits'], plugins: { 'fixture-context-probe': { hangDeactivate: true } } },
      'context-probe',
    );
    await host.activateStartup();
    await host.deactivateAll();
    expect(faults.map((f) => f.message)).to.include('deactivate failed: did not finish within 50 ms');
    expect(container.resolve(Contributions).dialers.has('probe-dialer')).to.equal(false);
    expect(container.resolve(SourceRegistry).get('probe-source')).to.equal(undefined);
  });

  describe('the context a plugin gets', () => {
    let ctx: PluginContext;
    beforeEach(async () => {
      const host = await hostWithSettings(
        {
          auth: { username: 'u', password: 'secret-pw' },
          interfaces: ['eth9'],
          plugins: { 'fixture-context-probe': { nested: { n: 1 } }, other: { token: 'theirs' } },
        },
        'context-probe',
      );
      await host.activateStartup();
      ctx = globals.__fixtureContext as PluginContext;
    });

    it('a frozen view of the settings it needs, and its own options only, deep-frozen', () => {
      expect(ctx.node).to.deep.equal({ interfaces: ['eth9'], dialTimeoutMs: resolveSettings({}).dialTimeoutMs });
      expect(JSON.stringify(ctx)).to.not.contain('secret-pw').and.not.contain('theirs');
      expect('settings' in ctx).to.equal(false);
      expect(Object.isFrozen(ctx.node.interfaces)).to.equal(true);
      expect(() => ((ctx.options.nested as { n: number }).n = 2)).to.throw(TypeError);
    });

    it('subscribe-only events, scoped to its contributions; subscriptions end on deactivation', async () => {
      const events = ctx.events as unknown as Record<string, unknown>;
      expect(Object.values(events).every((e) => typeof e === 'function')).to.equal(true);
      expect('fire' in (ctx.events.onDial as object)).to.equal(false);
      expect(() => ctx.events.onPeerChanged(() => undefined)).to.throw(
        /fixture-context-probe: may not subscribe to onPeerChanged: its contributions \(dialers\) give it onDial, onSourceChanged, onSourceHealthChanged/,
      );
      const seen: string[] = [];
      ctx.events.onDial((d) => seen.push(d.sourceId));
      ctx.events.onDial(() => {
        throw new Error('listener bug');
      });
      const hub = container.resolve(EventHub);
      hub.dial.fire({ target: { host: 'h', port: 1, kind: 'domain' }, sourceId: 's1', ok: true, latencyMs: 1 });
      expect(seen).to.deep.equal(['s1']);
      expect(faults.find((f) => f.plugin === 'fixture-context-probe')?.message).to.equal('onDial listener threw: listener bug');
      await container.resolve(ExtensionHost).deactivateAll();
      hub.dial.fire({ target: { host: 'h', port: 1, kind: 'domain' }, sourceId: 's2', ok: true, latencyMs: 1 });
      expect(seen).to.deep.equal(['s1']);
    });

    it('reportProbe only on sources it added: others are refused and counted as its fault', () => {
      const sources = container.resolve(SourceRegistry);
      sources.add({ id: 'someone-elses', kind: 'peer', label: 'p', dialer: 'socks5-chain', local: false });
      expect(() => ctx.sources.reportProbe('someone-elses', false, 'lies')).to.throw(
        /fixture-context-probe: reportProbe\("someone-elses"\): not a source this plugin added \(it added: probe-source\)/,
      );
      expect(sources.get('someone-elses')!.stats.health).to.equal('healthy');
      expect(faults.map((f) => f.plugin)).to.include('fixture-context-probe');
      ctx.sources.reportProbe('probe-source', false, 'no route');
      expect(sources.get('probe-source')!.stats.health).to.equal('down');
    });

    it('sources are frozen snapshots: a plugin cannot change the live statistics', () => {
      const mine = ctx.sources.get('probe-source')!;
      expect(() => ((mine.stats as { openTunnels: number }).openTunnels = 5)).to.throw(TypeError);
      expect(ctx.sources.list().every((c) => Object.isFrozen(c.stats))).to.equal(true);
    });
  });

  it('refuses a registration the manifest does not declare', async () => {
    const host = await hostWith('undeclared');
    await host.activateStartup();
    const state = host.plugins.find((p) => p.name === 'fixture-undeclared')!;
    expect(state.status).to.equal('failed');
    expect(state.error).to.match(/registers policies id "not-declared" that its package.json does not declare/);
  });
});

describe('plugin manifest', () => {
  for (const [range, error] of [
    [undefined, undefined],
    ['^1.0.0', undefined],
    ['>=1 <3', undefined],
    ['^2.0.0', `requires booster plugin API ^2.0.0 (engines.booster), but this node provides 1.0.0; not activated`],
    ['not a range', 'invalid manifest: "engines.booster" must be a semver range such as "^1.0.0", got "not a range"'],
    [7, 'invalid manifest: "engines.booster" must be a semver range such as "^1.0.0", got 7'],
  ] as const) {
    it(`engines.booster ${JSON.stringify(range)} against plugin API 1.0.0: ${error ? 'refused' : 'accepted'}`, () => {
      expect(checkEngine(range === undefined ? {} : { booster: range }, '1.0.0').error).to.equal(error);
    });
  }

  it('accepts a minimal block and defaults activation to onStartup', () => {
    expect(parseManifest({}).activationEvents).to.deep.equal(['onStartup']);
  });

  for (const [name, raw, message] of [
    ['a non-object', 'x', /must be an object/],
    ['an unknown contribution point', { contributes: { widgets: [] } }, /unknown contribution point "widgets"/],
    ['a duplicate id', { contributes: { policies: [{ id: 'a' }, { id: 'a' }] } }, /declares "a" twice/],
    ['an unknown activation event', { activationEvents: ['onMoon'] }, /unknown activation event "onMoon"/],
    [
      'an event for an undeclared id',
      { contributes: { policies: [{ id: 'a' }] }, activationEvents: ['onPolicy:b'] },
      /names a policy the plugin does not contribute/,
    ],
  ] as const) {
    it(`rejects ${name}`, () => {
      expect(() => parseManifest(raw)).to.throw(message);
    });
  }
});
