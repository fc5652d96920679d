import { expect } from 'chai';
import * as net from 'node:net';
import type { BoosterNode } from '../../src/core/node';
import { decodeMessage, encodeMessage, MessageId, PacketDecoder } from '../../src/wire';
import { BIN } from '../helpers/cli';
import { useNodes, type ChildNode } from '../helpers/cluster';
import { run } from '../helpers/exec';
import type { TestHttpServer } from '../helpers/http';
import { freePort, waitUntil } from '../helpers/ports';
import { getViaSocks } from '../helpers/socks';

/**
 * Three nodes on 127.0.0.1: A and C in this process, B a real child process
 * (so it can be killed and frozen). Every test makes the nodes it needs and
 * they are stopped after it, so each test stands alone (--grep) and in any order.
 */
describe('peer-to-peer network: three nodes', function () {
  this.timeout(60_000);
  const nodes = useNodes();

  /** A, optionally with B and C; `wired` connects A to them first (what earlier tests used to leave behind). */
  async function cluster(options: { b?: boolean; c?: boolean; wired?: boolean } = {}) {
    const origin = await nodes.origin();
    // These tests check 0.3's least-busy spreading (no longer the default policy).
    const a = await nodes.node({ settings: { heartbeatMs: 500, reconnectMs: 300, policy: 'least-busy' } });
    const c = options.c ? await nodes.node({ settings: { heartbeatMs: 500, policy: 'least-busy' } }) : undefined;
    const b = options.b ? await nodes.child(['--heartbeat', '500', '--policy', 'least-busy']) : undefined;
    if (options.wired) {
      if (b) await a.network.connect(b.address);
      if (c) await a.network.connect(`127.0.0.1:${c.endpointAddress.port}`);
    }
    return {
      origin,
      a,
      b: b!,
      c: c!,
      aAddr: `127.0.0.1:${a.endpointAddress.port}`,
      peerB: () => (b ? a.network.list().find((p) => p.bport === b.bport) : undefined),
    };
  }

  function bySource(a: BoosterNode): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const t of a.tunnels.list()) counts[t.sourceId] = (counts[t.sourceId] ?? 0) + 1;
    return counts;
  }

  function slowGets(a: BoosterNode, origin: TestHttpServer, n: number, ms: number): Promise<number | string>[] {
    return Array.from({ length: n }, () =>
      getViaSocks(a.proxyAddress.port, '127.0.0.1', origin.port, `/slow?ms=${ms}`).then(
        (r) => r.status,
        (e: Error) => e.message,
      ),
    );
  }

  const isRunning = (b: ChildNode) => b.cli.child.exitCode === null && b.cli.child.signalCode === null;

  it('connect (CLI): A wires B, and a second connect keeps the existing link', async () => {
    const { a, b, aAddr, peerB } = await cluster({ b: true });
    const first = await run(process.execPath, [BIN, 'connect', aAddr, b.address]);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.match(/connected to 127\.0\.0\.1:\d+/);
    expect(peerB()?.state).to.equal('up');
    const again = await run(process.execPath, [BIN, 'connect', aAddr, b.address]);
    expect(again.code).to.equal(0);
    expect(again.stdout).to.match(/already connected/);
    expect(a.network.list()).to.have.length(1);
  });

  it('connect to an unreachable node fails with one clear line', async () => {
    const { aAddr } = await cluster();
    const port = await freePort();
    const res = await run(process.execPath, [BIN, 'connect', aAddr, `127.0.0.1:${port}`]);
    expect(res.code).to.equal(1);
    expect(res.stderr.trim().split('\n')).to.have.length(1);
    expect(res.stderr).to.match(/refused the connection/);
  });

  it('spreads 30 concurrent downloads over A, B and C as least-busy says', async () => {
    const { a, origin } = await cluster({ b: true, c: true, wired: true });
    const done = slowGets(a, origin, 30, 60_000);
    await waitUntil('30 open tunnels on A', () => a.tunnels.size === 30);
    const counts = bySource(a);
    const ids = Object.keys(counts);
    expect(ids).to.have.length(3);
    for (const id of ids) expect(counts[id], JSON.stringify(counts)).to.be.within(9, 11);
    // B and C report their load back over the wire (ProxyUpdate).
    await waitUntil('peers to report their workload', () => a.network.list().every((p) => p.workload.total >= 9));
    await waitUntil('30 requests at the origin', () => origin.slowInFlight() === 30);
    origin.finishSlow();
    expect(await Promise.all(done)).to.deep.equal(Array(30).fill(200));
  });

  it('status (CLI) shows the node and both peers with workloads', async () => {
    const { a, aAddr } = await cluster({ b: true, c: true, wired: true });
    const res = await run(process.execPath, [BIN, 'status', aAddr, '--json']);
    expect(res.code, res.stderr).to.equal(0);
    const listed = JSON.parse(res.stdout) as { id: string; active: boolean }[];
    expect(listed).to.have.length(3);
    expect(listed[0].id).to.equal(a.id);
    expect(listed.every((n) => n.active)).to.equal(true);
  });

  it('a killed peer: its tunnels fail, it is dropped at once, new requests succeed, and it is wired back when it returns', async () => {
    const { a, b, origin, peerB } = await cluster({ b: true, c: true, wired: true });
    // The responses drip far longer than the test: only B's death can end B's tunnels early.
    const settled: (number | string)[] = [];
    const done = slowGets(a, origin, 12, 60_000).map((p) => p.then((r) => (settled.push(r), r)));
    await waitUntil('12 tunnels', () => a.tunnels.size === 12);
    await waitUntil('12 requests at the origin', () => origin.slowInFlight() === 12);
    const throughB = bySource(a)[peerB()!.id] ?? 0;
    expect(throughB).to.be.greaterThan(0);
    const killedAt = Date.now();
    b.cli.kill('SIGKILL');
    const detectMs = await waitUntil('B marked down', () => peerB()?.state === 'down', 3000, 5);
    expect(Date.now() - killedAt).to.be.below(1000);
    expect(detectMs).to.be.below(1000);
    await waitUntil(`B's ${throughB} tunnels to fail`, () => settled.length >= throughB, 5000);
    expect(
      settled.filter((r) => r === 200),
      'a request completed before the origin finished it',
    ).to.deep.equal([]);
    origin.finishSlow();
    const results = await Promise.all(done);
    expect(results.filter((r) => r !== 200)).to.have.length(throughB);
    // New connections avoid B.
    await waitUntil('the tunnels to close', () => a.tunnels.size === 0);
    const used: string[] = [];
    const sub = a.events.onTunnelOpened((t) => used.push(t.sourceId));
    const fresh = await Promise.all(slowGets(a, origin, 6, 10));
    sub.dispose();
    expect(fresh).to.deep.equal(Array(6).fill(200));
    expect(used).to.have.length(6);
    expect(used).to.not.include(peerB()!.id);
    expect(a.sources.get(peerB()!.id)?.stats.health).to.equal('down');
    // B returns on the same ports: A wires it back.
    await b.cli.exited();
    await b.start();
    await waitUntil('B wired back', () => peerB()?.state === 'up', 10_000);
    expect(a.sources.get(peerB()!.id)?.stats.health).to.equal('healthy');
    // The tunnels B had when it died are not counted any more (no phantom load).
    expect(peerB()!.workload.total).to.equal(0);
  });

  it('a frozen peer (SIGSTOP) is detected by heartbeats', async () => {
    const { b, peerB } = await cluster({ b: true, wired: true });
    expect(isRunning(b)).to.equal(true);
    await waitUntil('B up', () => peerB()?.state === 'up', 10_000);
    b.cli.child.kill('SIGSTOP');
    try {
      const ms = await waitUntil('frozen B marked down', () => peerB()?.state === 'down', 5000, 10);
      expect(ms).to.be.below(3000);
    } finally {
      b.cli.child.kill('SIGCONT');
    }
    await waitUntil('B wired back after SIGCONT', () => peerB()?.state === 'up', 10_000);
  });

  it('disconnect (CLI) drops the peer and stops reconnection', async () => {
    const { a, aAddr, peerB } = await cluster({ b: true, wired: true });
    const id = peerB()!.id;
    const res = await run(process.execPath, [BIN, 'disconnect', aAddr, id]);
    expect(res.code, res.stderr).to.equal(0);
    expect(peerB()).to.equal(undefined);
    expect(a.sources.get(id)).to.equal(undefined);
    // Longer than A's reconnect interval (300 ms): a reconnection would have happened by now.
    await new Promise((r) => setTimeout(r, 1000));
    expect(peerB()).to.equal(undefined);
  });

  it('counts the tunnels a peer already has open when it is wired (resync)', async () => {
    const { a, origin } = await cluster();
    const d = await nodes.node();
    const held = [
      getViaSocks(d.proxyAddress.port, '127.0.0.1', origin.port, '/slow?ms=60000'),
      getViaSocks(d.proxyAddress.port, '127.0.0.1', origin.port, '/slow?ms=60000'),
    ];
    await waitUntil('two tunnels on D', () => d.tunnels.size === 2);
    await waitUntil('two requests at the origin', () => origin.slowInFlight() === 2);
    const { peer } = await a.network.connect(`127.0.0.1:${d.endpointAddress.port}`);
    await waitUntil("A to count D's tunnels", () => a.network.get(peer.id)?.workload.total === 2, 3000);
    origin.finishSlow();
    await Promise.all(held);
    await waitUntil('A to see them close', () => a.network.get(peer.id)?.workload.total === 0, 3000);
  });

  it('never sends booster extension messages to a 0.3-style client', async () => {
    const { a } = await cluster();
    const s = net.connect(a.endpointAddress.port, '127.0.0.1');
    const packets: number[] = [];
    const decoder = new PacketDecoder();
    s.on('data', (chunk: Buffer) => decoder.push(chunk).forEach((p) => packets.push(decodeMessage(p).header.id)));
    await new Promise((r) => s.once('connect', r));
    // No "extensions" in the header, as a 0.3 CLI sends it; the target does not answer.
    s.write(encodeMessage(MessageId.CONNECT, { target: `127.0.0.1:${await freePort()}` }));
    await new Promise((r) => s.once('close', r));
    expect(packets).to.deep.equal([MessageId.HELLO]);
  });

  it('garbage and truncated packets on the booster port close that link only', async () => {
    const { a, aAddr } = await cluster();
    for (const bytes of [Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.from([0x3e, 0x01, 0x3a, 0x01]), Buffer.from([0x3e, 9, 9, 9, 9, 9, 9, 9, 9])]) {
      const s = net.connect(a.endpointAddress.port, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      s.resume();
      s.write(bytes);
      s.end();
      await new Promise((r) => s.once('close', r));
    }
    const res = await run(process.execPath, [BIN, 'status', aAddr]);
    expect(res.code, res.stderr).to.equal(0);
  });
});
