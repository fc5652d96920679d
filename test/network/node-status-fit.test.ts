import { expect } from 'chai';
import * as net from 'node:net';
import { fitNodeStatus } from '../../src/network/link/node-status-fit';
import { ProtocolLink, toPayloadNode, type NodeStatusView, type WireMessage } from '../../src/network/link/protocol';
import { decodeMessage, encodeJsonMessage, encodeMessage, MessageId, nodeStatusJson, PacketDecoder } from '../../src/wire';

const MAX_MODULE = 65_535;

/** A node with `n` distinct 255-byte targets (a peer at the default limits.maxTargetLength); a few are very busy. */
function busyNode(n: number): NodeStatusView {
  const tunnels = Array.from({ length: n }, (_, i) => {
    const name = `${i}-${'x'.repeat(255)}`.slice(0, 251);
    return { target: `${name}:443`, copies: i % 1000 === 999 ? 500 : (i % 7) + 1 };
  });
  return { id: 'f'.repeat(40), baddr: '192.168.1.20:4884', paddr: '192.168.1.20:1080', active: true, tunnels };
}

function decodeOne(packet: Buffer) {
  const packets = new PacketDecoder({ maxPacketBytes: 1024 * 1024 }).push(packet);
  expect(packets).to.have.length(1);
  return decodeMessage(packets[0]);
}

/** Two ProtocolLinks joined by a real socket on 127.0.0.1. */
async function linkPair(): Promise<{ a: ProtocolLink; b: ProtocolLink; received: WireMessage[]; close: () => void }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const a = new ProtocolLink(socket, 'a');
  const b = new ProtocolLink(await accepted, 'b', undefined, { maxPacketBytes: 1024 * 1024 });
  const received: WireMessage[] = [];
  b.onMessage((m) => received.push(m));
  return { a, b, received, close: () => (a.close(), b.close(), server.close()) };
}

describe('NodeStatus that would not fit in a packet', () => {
  it('a status that fits is left exactly as it is', () => {
    const node = busyNode(50);
    const fitted = fitNodeStatus(node, 'json');
    expect(fitted.node).to.equal(node);
    expect(fitted.omittedTargets).to.equal(0);
  });

  it('protobuf: 10,000 targets encode under 65,535 bytes, busiest first, and decode', () => {
    const node = busyNode(10_000);
    const fitted = fitNodeStatus(node, 'protobuf');
    expect(fitted.omittedTargets).to.be.greaterThan(0);
    expect(fitted.node.tunnels.length + fitted.omittedTargets).to.equal(10_000);
    const keptCopies = fitted.node.tunnels.map((t) => t.copies);
    const omitted = node.tunnels.filter((t) => !fitted.node.tunnels.includes(t));
    expect(Math.min(...keptCopies)).to.be.at.least(Math.max(...omitted.map((t) => t.copies)));
    expect(fitted.omittedCopies).to.equal(omitted.reduce((s, t) => s + t.copies, 0));

    const packet = encodeMessage(MessageId.NODE_STATUS, toPayloadNode(node));
    expect(packet.length).to.be.below(MAX_MODULE);
    const payload = decodeOne(packet).payload as { tunnels: { target: string; copies: number }[] };
    expect(payload.tunnels.map((t) => t.target)).to.deep.equal(fitted.node.tunnels.map((t) => t.target));
    expect(payload.tunnels.filter((t) => t.copies === 500)).to.have.length(10);
  });

  it('JSON (monitor): 10,000 targets encode under 65,535 bytes and parse, even with targets that escape to 6 bytes a character', () => {
    for (const node of [
      busyNode(10_000),
      { ...busyNode(10_000), tunnels: busyNode(10_000).tunnels.map((t) => ({ ...t, target: `\u0001${t.target}`.slice(0, 100) })) },
    ]) {
      const fitted = fitNodeStatus(node, 'json');
      const packet = encodeJsonMessage(MessageId.NODE_STATUS, nodeStatusJson(fitted.node));
      expect(packet.length).to.be.below(MAX_MODULE);
      const payload = decodeOne(packet).payload as { tunnels: unknown[] };
      expect(payload.tunnels).to.have.length(fitted.node.tunnels.length);
      expect(fitted.omittedTargets).to.equal(10_000 - fitted.node.tunnels.length);
    }
  });

  it('sending a 10,000-target NodeStatus over a real link does not throw; the other side gets the busiest', async () => {
    const { a, received, close } = await linkPair();
    try {
      a.sendNodeStatus(busyNode(10_000));
      a.sendNotify();
      const deadline = Date.now() + 5000;
      while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(received.map((m) => m.kind)).to.deep.equal(['node-status', 'notify']);
      const status = received[0] as Extract<WireMessage, { kind: 'node-status' }>;
      expect(status.node.tunnels.length).to.be.within(100, 9_999);
      expect(status.node.tunnels[0].copies).to.equal(500);
    } finally {
      close();
    }
  });

  it('a control reply too big for a packet becomes an error reply instead of throwing', async () => {
    const { a, received, close } = await linkPair();
    try {
      a.peerExtended = true;
      const hosts = Array.from({ length: 64 }, (_, i) => `${i}.${'h'.repeat(240)}.example`);
      const rules = Array.from({ length: 10 }, () => ({ type: 'avoid' as const, source: 'direct', hosts }));
      a.sendControlReply({ ok: true, policy: 'least-busy', available: ['least-busy'], rules, rulesOffset: 0, rulesTotal: 10, faults: {} });
      const deadline = Date.now() + 5000;
      while (received.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const reply = (received[0] as Extract<WireMessage, { kind: 'control-reply' }>).reply;
      expect(reply.ok).to.equal(false);
      expect(reply.error).to.match(/did not fit in one packet/);
      expect(reply.rules).to.deep.equal([]);
    } finally {
      close();
    }
  });
});
