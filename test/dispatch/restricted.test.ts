import { expect } from 'chai';
import * as net from 'node:net';
import type { DependencyContainer } from 'tsyringe';
import { resolveSettings } from '../../src/core/config';
import { createNodeContainer } from '../../src/core/container';
import { EventHub } from '../../src/kernel/events';
import { silentLogger } from '../../src/kernel/logger';
import { Dispatcher } from '../../src/dispatch/dispatcher';
import { DialFailure, Socks5Reply } from '../../src/kernel/connector-errors';
import { PolicyManager } from '../../src/dispatch/policies';
import { SourceRegistry } from '../../src/dispatch/sources';
import { ExtensionHost } from '../../src/extensions/host';
import { TEST_KEY } from '../helpers/key';
import { builtinPlugins } from '../helpers/node';

describe('dispatch: requests from clients that are not on this machine', function () {
  this.timeout(10_000);
  let container: DependencyContainer;
  let server: net.Server;
  let port: number;

  before(async () => {
    server = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
    container = createNodeContainer({
      settings: resolveSettings({ bind: '127.0.0.1', pport: 0, bport: 0 }),
      logger: silentLogger,
      plugins: await builtinPlugins(),
      key: TEST_KEY,
    });
    await container.resolve(ExtensionHost).activateStartup();
    await container.resolve(PolicyManager).use('least-busy');
  });

  after(async () => {
    await container.resolve(ExtensionHost).deactivateAll();
    container.resolve(SourceRegistry).dispose();
    container.resolve(EventHub).dispose();
    await container.dispose();
    await new Promise((resolve) => server.close(resolve));
  });

  const open = (restricted: boolean) =>
    container
      .resolve(Dispatcher)
      .open({ target: { host: '127.0.0.1', port, kind: 'ipv4' }, protocol: 'socks5', client: '10.0.0.9:5000', restricted }, new AbortController().signal);

  it('a restricted request for this machine fails with "not allowed", and the source is not held responsible', async () => {
    for (let i = 0; i < 5; i++) {
      const err = await open(true).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(DialFailure);
      expect((err as DialFailure).reply).to.equal(Socks5Reply.NotAllowed);
      expect((err as DialFailure).message).to.match(/127\.0\.0\.1 is a loopback/);
    }
    const sources = container.resolve(SourceRegistry);
    expect(sources.get('direct')!.stats.consecutiveFailures).to.equal(0);
    expect(
      sources.available().map((c) => c.id),
      'direct is not ejected',
    ).to.include('direct');
  });

  it('the same request from this machine is dialed', async () => {
    const { upstream, tunnel } = await open(false);
    upstream.destroy();
    tunnel.close();
  });
});
