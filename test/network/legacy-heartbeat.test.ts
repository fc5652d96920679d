import { expect } from 'chai';
import * as net from 'node:net';
import type { BoosterNode } from '../../src/core/node';
import { decodeMessage, encodeMessage, fromMillis, MessageId, PacketDecoder, toMillis } from '../../src/wire';
import { startTestNode } from '../helpers/node';
import { waitUntil } from '../helpers/ports';

/** Periods scaled down from 0.3's 8 s (and ±5 s of skew) to keep the test short: the same proportions. */
const LEGACY_T = 600;
const SKEW = Math.round((5 / 8) * LEGACY_T);

/**
 * One link of a 0.3 node on real sockets, its clock `skewMs` behind ours (our
 * clock is skewMs ahead): packets without booster.v1; it reads a heartbeat's
 * ttl as a time on its own clock, closes the link on one that has passed,
 * answers when its clock reaches it with hops + 1 and ttl = its now + T, and
 * closes the link when no heartbeat follows one of its own within 2·T.
 */
class Link03 {
  readonly hops: number[] = [];
  closedBy03?: string;
  closedByOther = false;
  private deadline?: NodeJS.Timeout;
  private reply?: NodeJS.Timeout;
  private readonly decoder = new PacketDecoder();

  constructor(
    readonly socket: net.Socket,
    private readonly skewMs: number,
    private readonly periodMs = LEGACY_T,
  ) {
    socket.on('data', (chunk: Buffer) => {
      for (const p of this.decoder.push(chunk)) {
        const m = decodeMessage(p);
        if (m.header.id === MessageId.HEARTBEAT) this.onHeartbeat(m.payload as { hops: number; ttl: { seconds: number; nanos: number } });
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.stop();
      if (!this.closedBy03) this.closedByOther = true;
    });
  }

  now(): number {
    return Date.now() - this.skewMs;
  }

  send(id: MessageId, payload?: object): void {
    this.socket.write(encodeMessage(id, payload, { now: this.now() }));
  }

  heartbeat(hops: number): void {
    this.send(MessageId.HEARTBEAT, { id: 'heartbeat', hops, ttl: fromMillis(this.now() + this.periodMs) });
    clearTimeout(this.deadline);
    this.deadline = setTimeout(() => this.close(`no heartbeat within 2·T (${2 * this.periodMs} ms)`), 2 * this.periodMs);
  }

  stop(): void {
    clearTimeout(this.deadline);
    clearTimeout(this.reply);
  }

  private onHeartbeat(beat: { hops: number; ttl: { seconds: number; nanos: number } }): void {
    this.hops.push(beat.hops);
    clearTimeout(this.deadline);
    const wait = toMillis(beat.ttl) - this.now();
    if (wait < 0) return this.close(`heartbeat ttl ${-wait} ms in the past`);
    this.reply = setTimeout(() => this.heartbeat(beat.hops + 1), wait);
  }

  private close(reason: string): void {
    this.closedBy03 = reason;
    this.stop();
    this.socket.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('heartbeats with a 0.3 node on real sockets, clocks skewed', function () {
  this.timeout(30_000);
  let node: BoosterNode;

  before(async () => {
    // A fast booster heartbeat, as for booster.v1 peers; 0.3 nodes get legacyHeartbeatMs.
    node = await startTestNode({ settings: { heartbeatMs: 200, legacyHeartbeatMs: LEGACY_T, reconnectMs: 100, allowLegacyPeers: ['127.0.0.1/32'] } });
  });
  after(() => node?.stop());

  for (const skewMs of [-SKEW, SKEW]) {
    const ours = `our clock ${skewMs > 0 ? 'ahead of' : 'behind'} it by ${Math.abs(skewMs)} ms (5 s of 0.3's 8 s)`;

    it(`we wire the 0.3 node: the link holds over several beats, ${ours}`, async () => {
      const links: Link03[] = [];
      const server = net.createServer((socket) => {
        const l = new Link03(socket, skewMs);
        links.push(l);
        l.send(MessageId.HELLO, { bport: String((server.address() as net.AddressInfo).port), pport: '1' });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const downs: string[] = [];
      const sub = node.events.onPeerChanged((e) => e.change === 'down' && downs.push(e.reason ?? ''));
      try {
        const { peer } = await node.network.connect(`127.0.0.1:${(server.address() as net.AddressInfo).port}`);
        await sleep(5 * LEGACY_T * 2);
        const [l] = links;
        expect(l.closedBy03, 'the 0.3 node closed the link').to.equal(undefined);
        expect(downs, 'we dropped the 0.3 node').to.deep.equal([]);
        expect(links, 'one link, never re-dialed').to.have.length(1);
        expect(l.hops.slice(0, 4)).to.deep.equal([1, 3, 5, 7]);
        expect(node.network.get(peer.id)?.state).to.equal('up');
        node.network.disconnect(peer.id);
      } finally {
        sub.dispose();
        links.forEach((l) => l.socket.destroy());
        server.close();
      }
    });

    it(`the 0.3 node wires us: the link holds over several beats, ${ours}`, async () => {
      const socket = net.connect(node.endpointAddress.port, '127.0.0.1');
      const l = new Link03(socket, skewMs);
      try {
        await new Promise((r) => socket.once('connect', r));
        l.send(MessageId.NOTIFY);
        l.heartbeat(1);
        await sleep(5 * LEGACY_T * 2);
        expect(l.closedBy03, 'the 0.3 node closed the link').to.equal(undefined);
        expect(l.closedByOther, 'we closed the link').to.equal(false);
        expect(l.hops.slice(0, 4)).to.deep.equal([2, 4, 6, 8]);
      } finally {
        l.stop();
        socket.destroy();
      }
    });
  }

  it('a 0.3 node that stops answering is still dropped, within 2·T of our last beat', async () => {
    const links: Link03[] = [];
    const server = net.createServer((socket) => {
      const l = new Link03(socket, 0);
      links.push(l);
      l.send(MessageId.HELLO, { bport: String((server.address() as net.AddressInfo).port), pport: '1' });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { peer } = await node.network.connect(`127.0.0.1:${(server.address() as net.AddressInfo).port}`);
      await waitUntil('a first beat at the 0.3 node', () => links[0]?.hops.length === 1, 2000);
      // Frozen: it keeps the socket but answers nothing.
      links[0].socket.pause();
      links[0].stop();
      const frozeAt = Date.now();
      await waitUntil('the 0.3 node marked down', () => node.network.get(peer.id)?.state === 'down', 5000, 10);
      expect(Date.now() - frozeAt).to.be.within(2 * LEGACY_T - 100, 2 * LEGACY_T + 300);
      node.network.disconnect(peer.id);
    } finally {
      links.forEach((l) => l.socket.destroy());
      server.close();
    }
  });
});
