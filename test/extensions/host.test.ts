import { expect } from 'chai';
import * as path from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import type { PluginFault } from '../../src/api/events';
import { resolveSettings } from '../../src/core/config';
import { createNodeContainer } from '../../src/core/container';
import { EventHub } from '../../src/core/events';
import { silentLogger } from '../../src/core/logger';
import { Contributions, ExtensionHost } from '../../src/extensions/host';
import { parseManifest, readDescription } from '../../src/extensions/manifest';
import { builtinPlugins } from '../helpers/node';
import { FIXTURES } from '../helpers/paths';

const fixture = (name: string) => readDescription(path.join(FIXTURES, 'plugins', name), 'link');

describe('extension host', () => {
  let container: DependencyContainer;
  let faults: PluginFault[];

  async function hostWith(...fixtures: string[]): Promise<ExtensionHost> {
    const plugins = [...(await builtinPlugins()), ...fixtures.map(fixture)];
    container = createNodeContainer({ settings: resolveSettings({}), logger: silentLogger, plugins });
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

  it('refuses a registration the manifest does not declare', async () => {
    const host = await hostWith('undeclared');
    await host.activateStartup();
    const state = host.plugins.find((p) => p.name === 'fixture-undeclared')!;
    expect(state.status).to.equal('failed');
    expect(state.error).to.match(/registers policies id "not-declared" that its package.json does not declare/);
  });
});

describe('plugin manifest', () => {
  it('accepts a minimal block and defaults activation to onStartup', () => {
    expect(parseManifest({}).activationEvents).to.deep.equal(['onStartup']);
  });

  for (const [name, raw, message] of [
    ['a non-object', 'x', /must be an object/],
    ['an unknown contribution point', { contributes: { widgets: [] } }, /unknown contribution point "widgets"/],
    ['a duplicate id', { contributes: { policies: [{ id: 'a' }, { id: 'a' }] } }, /declares "a" twice/],
    ['an unknown activation event', { activationEvents: ['onMoon'] }, /unknown activation event "onMoon"/],
    ['an event for an undeclared id', { contributes: { policies: [{ id: 'a' }] }, activationEvents: ['onPolicy:b'] }, /names a policy the plugin does not contribute/],
  ] as const) {
    it(`rejects ${name}`, () => {
      expect(() => parseManifest(raw)).to.throw(message);
    });
  }
});
