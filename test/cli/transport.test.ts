import { expect } from 'chai';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Config } from '@oclif/core';
import { cliTransport } from '../../src/cli/transport';
import { resolveSettings } from '../../src/core/config';
import { SourceRegistry } from '../../src/dispatch/sources';
import { discoverPlugins } from '../../src/extensions/discovery';
import { Contributions, ExtensionHost } from '../../src/extensions/host';
import { EventHub } from '../../src/kernel/events';
import { silentLogger } from '../../src/kernel/logger';
import { systemClock } from '../../src/kernel/tokens';
import { NetworkKey } from '../../src/security/key';
import { NodeSecurity } from '../../src/security/node-security';
import { REPO_ROOT } from '../helpers/paths';

const globals = globalThis as Record<string, unknown>;

/** A plugin that records its activation: cliTransport must not activate it (it is no node, nothing starts up). */
function spyPlugin(dir: string, name: string, booster: object, register = ''): { name: string; version: string; root: string; type: string; pjson: object } {
  const root = path.join(dir, name);
  fs.mkdirSync(root);
  const pjson = { name, version: '1.0.0', main: 'index.js', engines: { booster: '^1.0.0' }, oclif: {}, booster };
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify(pjson));
  fs.writeFileSync(path.join(root, 'index.js'), `exports.activate = (ctx) => { globalThis[${JSON.stringify(name)}] = true; ${register} };\n`);
  return { name, version: '1.0.0', root, type: 'link', pjson };
}

describe('cli transport: one plugin, no node', () => {
  let dir: string;
  let config: Config;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-cli-transport-'));
    const real = await Config.load(REPO_ROOT);
    const spies = [
      spyPlugin(dir, 'spy-startup', { activationEvents: ['onStartup'] }),
      spyPlugin(
        dir,
        'spy-policy',
        { contributes: { policies: [{ id: 'spy' }] }, activationEvents: ['onPolicy:spy'] },
        "ctx.subscriptions.push(ctx.policies.register('spy', () => ({ id: 'spy', choose: (request, candidates) => candidates[0] })));",
      ),
    ];
    config = Object.assign(Object.create(real) as Config, {
      getPluginsList: () => [...real.getPluginsList(), ...spies] as unknown as ReturnType<Config['getPluginsList']>,
    });
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    delete globals['spy-startup'];
    delete globals['spy-policy'];
  });

  it('activates only the plugin that declares the transport, and the transport works', async () => {
    const transport = await cliTransport(config, 'tcp');
    expect(transport.id).to.equal('tcp');
    expect(globals['spy-startup'], 'a startup plugin was activated').to.equal(undefined);
    expect(globals['spy-policy'], 'a policy plugin was activated').to.equal(undefined);

    const server = net.createServer((s) => s.end('hi'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const stream = await transport.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).to.equal('hi');
    } finally {
      server.close();
    }
  });

  it('refuses a transport no plugin provides, saying where to look', async () => {
    let error: Error | undefined;
    await cliTransport(config, 'carrier-pigeon').catch((err: Error) => (error = err));
    expect(error?.message).to.equal('no plugin provides transport "carrier-pigeon" (see "booster plugins")');
    expect(globals['spy-startup']).to.equal(undefined);
  });

  // The control for the two above: the spies are valid plugins that do record an activation.
  it('the spies record their activation when a host does start up', async () => {
    const settings = resolveSettings({});
    const events = new EventHub();
    const host = new ExtensionHost(
      discoverPlugins(config),
      settings,
      silentLogger,
      new Contributions(),
      new SourceRegistry(events, systemClock, settings),
      events,
      new NodeSecurity(NetworkKey.generate('spy'), settings),
    );
    await host.activateStartup();
    expect(globals['spy-startup']).to.equal(true);
    expect(await host.activateContribution('policies', 'spy')).to.equal(true);
    expect(globals['spy-policy']).to.equal(true);
    await host.deactivateAll();
  });
});
