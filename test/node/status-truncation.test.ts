import { expect } from 'chai';
import * as net from 'node:net';
import { tcpTransport } from '../../plugins/tcp/src';
import { BoosterClient } from '../../src/client/client';
import type { BoosterNode } from '../../src/core/node';
import { omissionsIn } from '../../src/network/link/node-status-fit';
import type { NodeStatusView, WireMessage } from '../../src/network/link/protocol';
import { decodeMessage, encodeMessage, MessageId, PacketDecoder } from '../../src/wire';
import { startTestNode } from '../helpers/node';
import { waitUntil } from '../helpers/ports';

const TARGETS = 10_000;
const target = (i: number) => `${i}-${'t'.repeat(240)}`.slice(0, 245) + ':443';

/** A 0.3 node (no booster.v1) that, once wired, reports TARGETS distinct open targets; every 1000th has 50 copies. */
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
        for (let i = 0; i < TARGETS; i++) {
          for (let c = 0; c < (i % 1000 === 0 ? 50 : 1); c++)
            socket.write(encodeMessage(MessageId.PROXY_UPDATE, { target: target(i), operation: 1, nodeID: 'busy' }));
        }
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => (sockets.forEach((s) => s.destroy()), server.close()) };
}

describe('status of a node whose peer has 10,000 targets', function () {
  this.timeout(60_000);
  let node: BoosterNode;
  let peer: { port: number; close: () => void };
  let client: BoosterClient;

  before(async () => {
    peer = await startBusyLegacyPeer();
    node = await startTestNode({ settings: { allowLegacyPeers: ['127.0.0.1/32'], heartbeatMs: 60_000 } });
    await node.network.connect(`127.0.0.1:${peer.port}`);
    await waitUntil("the peer's workload", () => node.network.list()[0]?.workload.total === TARGETS + 10 * 49, 20_000);
    client = await BoosterClient.open(tcpTransport, `127.0.0.1:${node.endpointAddress.port}`);
  });
  after(async () => {
    client?.close();
    await node?.stop();
    peer?.close();
  });

  it("monitor node: the peer's NodeStatus lists its busiest targets, and the closing Result says how many were left out", async () => {
    const messages: WireMessage[] = [];
    const stop = client.monitor(
      'node',
      (m) => messages.push(m),
      () => undefined,
    );
    await waitUntil('the end of the snapshot', () => messages.some((m) => m.kind === 'result'));
    stop();
    const statuses = messages.filter((m): m is Extract<WireMessage, { kind: 'node-status' }> => m.kind === 'node-status').map((m) => m.node);
    expect(statuses).to.have.length(2);
    const busy = statuses[1];
    expect(busy.tunnels.length).to.be.within(100, TARGETS - 1);
    expect(busy.tunnels.slice(0, 10).map((t) => t.copies)).to.deep.equal(Array(10).fill(50));
    const result = messages.find((m): m is Extract<WireMessage, { kind: 'result' }> => m.kind === 'result')!;
    expect(result.message).to.include(`node ${busy.id}: … and ${TARGETS - busy.tunnels.length} more targets (${TARGETS - busy.tunnels.length} tunnels)`);
    expect(omissionsIn(result.message)).to.deep.equal([{ nodeId: busy.id, targets: TARGETS - busy.tunnels.length, copies: TARGETS - busy.tunnels.length }]);
  });

  it('connect again: the protobuf NodeStatus answer fits too', async () => {
    const other = await BoosterClient.open(tcpTransport, `127.0.0.1:${node.endpointAddress.port}`);
    try {
      const outcome = await other.connect(`127.0.0.1:${peer.port}`);
      expect(outcome.message).to.match(/already connected/);
      const status = outcome.node as NodeStatusView;
      expect(status.tunnels.length).to.be.within(100, TARGETS - 1);
      expect(status.tunnels[0].copies).to.equal(50);
    } finally {
      other.close();
    }
  });
});
