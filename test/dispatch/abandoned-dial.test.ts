import { expect } from 'chai';
import * as net from 'node:net';
import * as path from 'node:path';
import type { PluginFault } from '../../src/api/events';
import type { BoosterNode } from '../../src/core/node';
import { startTestNode } from '../helpers/node';
import { FIXTURES } from '../helpers/paths';

/** SOCKS5 CONNECT to 127.0.0.1:port through the proxy; resolves with the reply code. */
function socksConnect(proxyPort: number, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxyPort, '127.0.0.1');
    let stage = 0;
    let buffered = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('connect', () => socket.write(Buffer.from([5, 1, 0])));
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (stage === 0 && buffered.length >= 2) {
        stage = 1;
        buffered = buffered.subarray(2);
        socket.write(Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, port >> 8, port & 0xff]));
      }
      if (stage === 1 && buffered.length >= 2) {
        resolve(buffered[1]);
        socket.destroy();
      }
    });
  });
}

describe('dispatch: a dialer that ignores its abort signal, through a running node', function () {
  this.timeout(20_000);
  let node: BoosterNode | undefined;
  afterEach(async () => {
    await node?.stop();
    node = undefined;
  });

  it('the client gets "TTL expired" at the dial timeout, the dial count is released, and the plugin is blamed', async () => {
    node = await startTestNode({
      settings: { dialTimeoutMs: 300, rules: [{ type: 'block', source: 'direct' }] },
      extraPlugins: [path.join(FIXTURES, 'plugins', 'deaf-dialer')],
    });
    const faults: PluginFault[] = [];
    node.events.onPluginFault((f) => faults.push(f));
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const started = Date.now();
      const reply = await socksConnect(node.proxyAddress.port, (server.address() as net.AddressInfo).port);
      expect(reply).to.equal(0x06);
      expect(Date.now() - started).to.be.within(250, 2_000);
      expect(node.sources.get('deaf-source')!.stats.pendingDials).to.equal(0);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(faults.map((f) => [f.plugin, f.contribution])).to.deep.equal([['fixture-deaf-dialer', 'dialers:deaf']]);
    } finally {
      server.close();
    }
  });
});
