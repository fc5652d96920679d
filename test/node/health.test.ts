import { expect } from 'chai';
import * as net from 'node:net';
import type { SourceHealthChange } from '../../src/api/sources';
import type { BoosterNode } from '../../src/core/node';
import { startTestNode } from '../helpers/node';
import { freePort, waitUntil } from '../helpers/ports';

describe('source health: active probes', function () {
  this.timeout(20_000);
  let node: BoosterNode | undefined;
  let server: net.Server | undefined;
  afterEach(async () => {
    await node?.stop();
    server?.close();
  });

  it('takes a local source out of rotation while its probe fails, and back when it succeeds', async () => {
    const port = await freePort();
    node = await startTestNode({
      settings: { plugins: { '@booster/plugin-local': { probe: { target: `127.0.0.1:${port}`, intervalMs: 100, timeoutMs: 500 } } } },
    });
    const changes: SourceHealthChange[] = [];
    node.events.onSourceHealthChanged((c) => changes.push(c));
    await waitUntil('direct marked down', () => node!.sources.get('direct')?.stats.health === 'down', 5000);
    expect(changes[0]).to.deep.include({ health: 'down' });
    expect(changes[0].reason).to.match(/probe: cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED/);
    server = net.createServer((s) => s.destroy()).listen(port, '127.0.0.1');
    await waitUntil('direct healthy again', () => node!.sources.get('direct')?.stats.health === 'healthy', 5000);
    expect(changes.at(-1)).to.deep.include({ health: 'healthy' });
  });

  it('refuses a malformed probe option with a clear plugin error, and the node still runs', async () => {
    node = await startTestNode({ settings: { plugins: { '@booster/plugin-local': { probe: { target: 'nowhere' } } } } });
    const local = node.plugins.plugins.find((p) => p.name === '@booster/plugin-local')!;
    expect(local.status).to.equal('failed');
    expect(local.error).to.match(/probe\.target must be "host:port"/);
  });
});
