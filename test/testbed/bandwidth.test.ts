import { expect } from 'chai';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BoosterNode } from '../../src/core/node';
import { NamespaceHost, skipUnlessNetns } from '../helpers/netns';
import { startTestNode } from '../helpers/node';
import { getViaSocks } from '../helpers/socks';

/**
 * Real nodes with real, unequal uplinks: peers B (8 Mbit/s) and C (24 Mbit/s)
 * each live in a network namespace whose link from the origin is shaped with
 * tbf. Node A (here) reaches the origin only through them and balances a job of
 * downloads with bandwidth-weighted.
 */
describe('testbed: unequal links in network namespaces', function () {
  this.timeout(120_000);
  const slow = new NamespaceHost(`bsts${process.pid % 10000}`, 41, 8);
  const fast = new NamespaceHost(`bstf${process.pid % 10000}`, 42, 24);
  let origin: http.Server;
  let originPort: number;
  let a: BoosterNode | undefined;
  const file = Buffer.alloc(256 * 1024, 7);

  before(async function () {
    skipUnlessNetns(this);
    slow.create();
    fast.create();
    origin = http.createServer((_req, res) => res.end(file));
    await new Promise<void>((r) => origin.listen(0, slow.hostAddress, r));
    originPort = (origin.address() as AddressInfo).port;
    await Promise.all([slow.startNode(['--pport', '1080', '--bport', '4884']), fast.startNode(['--pport', '1080', '--bport', '4884'])]);
  });

  after(async () => {
    await a?.stop();
    origin?.close();
    slow.destroy();
    fast.destroy();
  });

  it('bandwidth-weighted keeps the slow and the fast peer proportionally loaded', async () => {
    a = await startTestNode({ settings: { policy: 'bandwidth-weighted', rules: [{ type: 'block', source: 'direct' }] } });
    await a.network.connect(`${slow.address}:4884`);
    await a.network.connect(`${fast.address}:4884`);
    const [slowId, fastId] = [slow.address, fast.address].map((addr) => a!.network.list().find((p) => p.host === addr)!.id);

    // A job: 64 downloads, 8 at a time.
    const queue = Array.from({ length: 64 }, (_, i) => i);
    const worker = async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
        const res = await getViaSocks(a!.proxyAddress.port, slow.hostAddress, originPort, `/f${i}`);
        expect(res.body.length).to.equal(file.length);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));

    const bytes = (id: string) => a!.sources.get(id)!.stats.bytesDown;
    const ratio = bytes(fastId) / bytes(slowId);
    expect(bytes(slowId), 'the slow link is used too').to.be.greaterThan(0);
    expect(ratio, `fast/slow bytes ${bytes(fastId)}/${bytes(slowId)}`).to.be.within(1.8, 5);
  });
});
