import { expect } from 'chai';
import * as path from 'node:path';
import type { BoosterNode } from '../../src/core/node';
import { run } from '../helpers/exec';
import { startHttpServer, type TestHttpServer } from '../helpers/http';
import { startTestNode } from '../helpers/node';
import { FIXTURES } from '../helpers/paths';
import { waitUntil } from '../helpers/ports';

const fixture = (name: string) => path.join(FIXTURES, 'plugins', name);

describe('a node with faulty plugins', function () {
  this.timeout(20_000);
  let origin: TestHttpServer;
  let node: BoosterNode;

  before(async () => {
    origin = await startHttpServer();
    node = await startTestNode({ extraPlugins: ['bad-manifest', 'throws', 'dup-policy', 'undeclared', 'counting-monitor'].map(fixture) });
  });
  after(async () => {
    await node.stop();
    await origin.close();
  });

  it('keeps serving, with every faulty plugin reported', async () => {
    const res = await run('curl', ['-sS', '--socks5-hostname', `127.0.0.1:${node.proxyAddress.port}`, `${origin.url}/hello`]);
    expect(res.stdout).to.equal('hello\n');
    const status = Object.fromEntries(node.plugins.plugins.map((p) => [p.name, p.status]));
    expect(status).to.include({
      'fixture-bad-manifest': 'invalid',
      'fixture-throws': 'failed',
      'fixture-dup-policy': 'invalid',
      'fixture-undeclared': 'failed',
      'fixture-counting-monitor': 'active',
    });
  });

  it('gives a monitor plugin the typed tunnel events, and disposes it on stop', async () => {
    const state = (globalThis as unknown as { __counterMonitor: { opened: number; closed: number; disposed: boolean; deactivated: boolean } }).__counterMonitor;
    const before = state.opened;
    await run('curl', ['-sS', '-o', '/dev/null', '--socks5-hostname', `127.0.0.1:${node.proxyAddress.port}`, `${origin.url}/hello`]);
    await waitUntil('tunnel closed event', () => state.closed >= before + 1);
    expect(state.opened).to.equal(before + 1);
    const other = await startTestNode({ extraPlugins: [fixture('counting-monitor')] });
    const fresh = (globalThis as unknown as { __counterMonitor: typeof state }).__counterMonitor;
    await other.stop();
    expect(fresh.disposed).to.equal(true);
    expect(fresh.deactivated).to.equal(true);
  });
});
