import { expect } from 'chai';
import type { ContributionKind } from '../../src/api/plugin';
import { ContributionRegistry } from '../../src/extensions/contributions';
import { ActivatingRegistry, type Activator } from '../../src/extensions/registries';

/** An activator whose "plugin" registers `provides` into `live` when activated for it. */
function fakeHost(live: ContributionRegistry<string>, provides: Record<string, string>) {
  const asked: string[] = [];
  const host: Activator = {
    async activateContribution(kind: ContributionKind, id: string) {
      asked.push(`${kind}:${id}`);
      if (id in provides && !live.has(id)) live.register('fixture-plugin', id, provides[id]);
      return live.has(id);
    },
    declared: (kind) => (kind === live.kind ? Object.keys(provides) : []),
    declarer: (kind, id) => (kind === live.kind && id in provides ? 'fixture-plugin' : undefined),
  };
  return { host, asked };
}

describe('ActivatingRegistry (Registry<T> over plugin contributions)', () => {
  it('activates the declaring plugin on the first load of an id, and not again once registered', async () => {
    const live = new ContributionRegistry<string>('dialers');
    const { host, asked } = fakeHost(live, { direct: 'the direct dialer' });
    const registry = new ActivatingRegistry(live, host);
    expect(registry.get('direct')).to.equal(undefined, 'get never activates');
    expect(asked).to.deep.equal([]);
    expect(await registry.load('direct')).to.equal('the direct dialer');
    expect(await registry.load('direct')).to.equal('the direct dialer');
    expect(asked).to.deep.equal(['dialers:direct']);
    expect(registry.ids()).to.deep.equal(['direct']);
    expect(registry.ownerOf('direct')).to.equal('fixture-plugin');
  });

  it('gives undefined for an id no plugin provides, and reports declarations of its own kind only', async () => {
    const live = new ContributionRegistry<string>('policies');
    const { host, asked } = fakeHost(live, { 'least-busy': 'factory' });
    const registry = new ActivatingRegistry(live, host);
    expect(await registry.load('nope')).to.equal(undefined);
    expect(asked).to.deep.equal(['policies:nope']);
    expect(registry.declared()).to.deep.equal(['least-busy']);
    expect(registry.declarer('least-busy')).to.equal('fixture-plugin');
    expect(registry.declarer('nope')).to.equal(undefined);
  });
});
