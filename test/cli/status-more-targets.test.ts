import { expect } from 'chai';
import * as net from 'node:net';
import { decodeMessage, encodeMessage, MessageId, PacketDecoder } from '../../src/wire';
import { BIN, spawnCli, type RunningCli } from '../helpers/cli';
import { run } from '../helpers/exec';

const TARGETS = 1_000;
// Long names, so far fewer than TARGETS fit in one status packet.
const target = (i: number) => `${i}-${'t'.repeat(240)}`.slice(0, 245) + ':443';

/** A 0.3 node that, once wired, reports TARGETS distinct open targets. */
async function startBusyLegacyPeer(): Promise<{ port: number; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const port = (server.address() as net.AddressInfo).port;
    socket.write(encodeMessage(MessageId.HELLO, { bport: String(port), pport: '1' }));
    const decoder = new PacketDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const packet of decoder.push(chunk)) {
        if (decodeMessage(packet).header.id !== MessageId.NOTIFY) continue;
        for (let i = 0; i < TARGETS; i++) socket.write(encodeMessage(MessageId.PROXY_UPDATE, { target: target(i), operation: 1, nodeID: 'busy' }));
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => (sockets.forEach((s) => s.destroy()), server.close()) };
}

describe('booster status: a peer with more targets than fit in its NodeStatus (real CLI)', function () {
  this.timeout(60_000);
  let node: RunningCli;
  let peer: { port: number; close: () => void };
  let endpoint: string;

  before(async () => {
    peer = await startBusyLegacyPeer();
    node = spawnCli(['start', '--pport', '0', '--bport', '0', '--bind', '127.0.0.1', '--allow-legacy-peers', '127.0.0.1', '--heartbeat', '60000']);
    const [, port] = await node.waitFor(/booster endpoint listening on 127\.0\.0\.1:(\d+)/);
    endpoint = `127.0.0.1:${port}`;
    const wired = await run(process.execPath, [BIN, 'connect', '-n', endpoint, `127.0.0.1:${peer.port}`]);
    expect(wired.code, wired.stderr).to.equal(0);
  });
  after(async () => {
    node?.kill('SIGKILL');
    await node?.exited();
    peer?.close();
  });

  it('lists the busiest targets, then says how many more there are, and counts them in the workload', async () => {
    let lines: string[] = [];
    // The peer's PROXY_UPDATEs arrive after connect returns: wait until status shows them all.
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 300))) {
      const res = await run(process.execPath, [BIN, 'status', '-n', endpoint]);
      expect(res.code, res.stderr).to.equal(0);
      // run() hands stdout over as latin1; the note's "…" is UTF-8.
      lines = Buffer.from(res.stdout, 'latin1').toString('utf8').split('\n');
      if (lines.some((l) => new RegExp(`^peer .*workload ${TARGETS}\\b`).test(l))) break;
    }
    const peerAt = lines.findIndex((l) => l.startsWith('peer '));
    expect(lines[peerAt], lines.join('\n')).to.match(new RegExp(`workload ${TARGETS}\\b`));
    const listed = lines.slice(peerAt + 1).filter((l) => /^ {4}\d+-t+:443$/.test(l)).length;
    expect(listed).to.be.within(50, TARGETS - 1);
    const more = TARGETS - listed;
    expect(lines, lines.filter((l) => !/^ {4}\d+-t/.test(l)).join('\n')).to.include(
      `    … and ${more} more targets (${more} tunnels) not listed: only the busiest fit in one status packet`,
    );
    // The node's own list is short: no note under it.
    expect(lines.slice(0, peerAt).join('\n')).to.not.include('more target');
  });
});
