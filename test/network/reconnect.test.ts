import { expect } from 'chai';
import * as net from 'node:net';
import type { BoosterNode } from '../../src/core/node';
import { MAX_RECONNECT_DELAY_MS, reconnectDelay } from '../../src/network/peers/peer';
import { startTestNode } from '../helpers/node';
import { freePort, waitUntil } from '../helpers/ports';

/**
 * A frozen node's port: the kernel accepts, nobody answers. Counts every
 * connection accepted, which are open, and which the other side closed.
 */
async function frozenListener(port: number) {
  const open = new Set<net.Socket>();
  const accepted: number[] = [];
  const closedByPeer: number[] = [];
  let maxOpen = 0;
  const server = net.createServer((socket) => {
    accepted.push(Date.now());
    open.add(socket);
    maxOpen = Math.max(maxOpen, open.size);
    socket.on('end', () => closedByPeer.push(Date.now()));
    socket.on('error', () => undefined);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    accepted,
    closedByPeer,
    open,
    get maxOpen() {
      return maxOpen;
    },
    /** The peer "fails on its own": it closes every connection it holds. */
    dropAll: () => open.forEach((s) => s.destroy()),
    close: () => {
      open.forEach((s) => s.destroy());
      return new Promise((r) => server.close(r));
    },
  };
}

describe('reconnection to a peer that is away', function () {
  this.timeout(30_000);
  let a: BoosterNode | undefined;
  let b: BoosterNode | undefined;
  afterEach(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    a = b = undefined;
  });

  it('backs off from reconnectMs by ×1.5 per failed attempt, to at most 30 s', () => {
    expect([0, 1, 2, 3].map((n) => reconnectDelay(1000, n))).to.deep.equal([1000, 1500, 2250, 3375]);
    expect(reconnectDelay(1000, 50)).to.equal(MAX_RECONNECT_DELAY_MS);
    expect(MAX_RECONNECT_DELAY_MS).to.equal(30_000);
    // A period set above the cap is kept.
    expect(reconnectDelay(60_000, 3)).to.equal(60_000);
  });

  /** A wires B; then B goes away and its port belongs to a node that is frozen (accepts, never answers). */
  const wiredPeerThenFrozen = async () => {
    const bport = await freePort();
    b = await startTestNode({ settings: { bport } });
    a = await startTestNode({ settings: { heartbeatMs: 200, reconnectMs: 100 } });
    const { peer } = await a.network.connect(`127.0.0.1:${bport}`);
    await b.stop();
    b = undefined;
    return { peer, frozen: await frozenListener(bport) };
  };

  it('keeps exactly one attempt open to a frozen peer, abandons none, and starts the next only after that one failed', async () => {
    const { peer, frozen } = await wiredPeerThenFrozen();
    try {
      await waitUntil('B down at A', () => a!.network.get(peer.id)?.state === 'down', 3000);
      await waitUntil('a reconnection attempt', () => frozen.accepted.length === 1, 5000);
      // Twenty reconnect periods later: still that one connection, untouched.
      await new Promise((r) => setTimeout(r, 20 * 100));
      expect(frozen.accepted).to.have.length(1);
      expect(frozen.open.size).to.equal(1);
      expect(frozen.closedByPeer, 'A closed an attempt that could still succeed').to.deep.equal([]);
      expect(a!.network.get(peer.id)?.state).to.equal('down');

      // The attempt fails on its own (the connection is closed): the next starts after the back-off, not at once.
      const failedAt = Date.now();
      frozen.dropAll();
      await waitUntil('the next attempt', () => frozen.accepted.length === 2, 5000, 5);
      expect(frozen.accepted[1] - failedAt).to.be.at.least(100);
      await new Promise((r) => setTimeout(r, 1000));
      expect(frozen.accepted).to.have.length(2);
      expect(frozen.maxOpen).to.equal(1);
      expect(frozen.closedByPeer).to.deep.equal([]);

      // Stopping A closes the attempt under way: nothing is left open.
      await a!.stop();
      a = undefined;
      await waitUntil('the pending attempt closed', () => frozen.open.size === 0, 3000);
      expect(frozen.closedByPeer).to.have.length(1);
    } finally {
      await frozen.close();
    }
  });

  it('disconnecting a peer cancels its pending attempt', async () => {
    const { peer, frozen } = await wiredPeerThenFrozen();
    try {
      await waitUntil('a reconnection attempt', () => frozen.accepted.length === 1, 5000);
      a!.network.disconnect(peer.id);
      await waitUntil('the attempt closed', () => frozen.open.size === 0, 3000);
      await new Promise((r) => setTimeout(r, 500));
      expect(frozen.accepted).to.have.length(1);
    } finally {
      await frozen.close();
    }
  });
});
