import { expect } from 'chai';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { SocksClient } from 'socks';
import type { BoosterNode } from '../../src/core/node';
import { greet, type Greeting } from '../../src/network/link/handshake';
import { HeartbeatKeeper } from '../../src/network/link/heartbeat';
import { Authenticator, nonce } from '../../src/security/auth';
import { channelBinding, PskTls } from '../../src/security/tls';
import { BOOSTER_EXTENSION, decodeMessage, encodeMessage, MessageId, PacketDecoder, type ReportedLink } from '../../src/wire';
import { TEST_KEY } from '../helpers/key';
import { startTestNode } from '../helpers/node';
import { waitUntil } from '../helpers/ports';
import { RawLink } from '../helpers/raw-link';

/** An origin that streams 32 KiB every 10 ms (about 3 MB/s) for `ms`, then ends. */
async function streamingOrigin(ms: number): Promise<{ port: number; close(): void }> {
  const server = net.createServer((socket) => {
    const chunk = Buffer.alloc(32 * 1024, 0x61);
    const started = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - started > ms) {
        clearInterval(timer);
        socket.end();
      } else socket.write(chunk);
    }, 10);
    socket.on('error', () => undefined);
    socket.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

/** Real traffic through `node`'s proxy (its direct source), drained until the origin ends it. */
async function downloadThrough(node: BoosterNode, originPort: number): Promise<number> {
  const { socket } = await SocksClient.createConnection({
    proxy: { host: '127.0.0.1', port: node.proxyAddress.port, type: 5 },
    command: 'connect',
    destination: { host: '127.0.0.1', port: originPort },
    timeout: 10_000,
  });
  let bytes = 0;
  socket.on('data', (c: Buffer) => (bytes += c.length));
  await new Promise((r) => socket.once('close', r));
  return bytes;
}

const sum = (links: readonly ReportedLink[], key: 'capacity' | 'throughput') => links.reduce((s, l) => s + l[key], 0);

/** A booster.v1 peer of `node`, authenticated with the network key, that sent Notify and keeps heartbeats going. */
async function wireAsPeer(node: BoosterNode): Promise<{ greeting: Greeting; reports: { at: number; links: readonly ReportedLink[] }[]; close(): void }> {
  const greeting = await greet({
    transport: await node.network.transport(),
    address: { host: '127.0.0.1', port: node.endpointAddress.port },
    timeoutMs: 5000,
    auth: { role: 'peer', authenticator: new Authenticator(TEST_KEY) },
    allowLegacy: () => false,
  });
  const reports: { at: number; links: readonly ReportedLink[] }[] = [];
  const heartbeat = new HeartbeatKeeper({ periodMs: 500, send: (b) => greeting.link.sendHeartbeat(b), onSilence: () => greeting.link.close() });
  greeting.link.onMessage((m) => {
    if (m.kind === 'link-report') reports.push({ at: Date.now(), links: m.links });
    if (m.kind === 'heartbeat') heartbeat.receive(m.beat);
  });
  greeting.link.sendNotify();
  heartbeat.start();
  return {
    greeting,
    reports,
    close: () => {
      heartbeat.dispose();
      greeting.link.close();
    },
  };
}

describe('LinkReport: a wired node advertises its own links (booster.v1)', function () {
  this.timeout(30_000);
  let a: BoosterNode;
  let b: BoosterNode;

  beforeEach(async () => {
    [a, b] = await Promise.all([
      startTestNode({ settings: { heartbeatMs: 500, reconnectMs: 200 } }),
      startTestNode({ settings: { heartbeatMs: 500, linkReportMs: 300 } }),
    ]);
  });
  afterEach(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("A wires B: A learns B's direct capacity within the rate limit once B measured it, and forgets it when the link is lost", async () => {
    const { peer } = await a.network.connect(`127.0.0.1:${b.endpointAddress.port}`);
    // On wiring: B does not know its capacity yet, and says so.
    await waitUntil('the first LinkReport', () => a.sources.advertisedLink(peer.id) !== undefined, 2000);
    expect(a.sources.advertisedLink(peer.id)).to.deep.equal({ capacity: 0, throughput: 0 });

    const origin = await streamingOrigin(2500);
    try {
      const download = downloadThrough(b, origin.port);
      const bCapacity = () => sum(b.sources.localLinks(), 'capacity');
      await waitUntil("B's sampler to measure its direct link", () => bCapacity() > 0, 5000, 5);
      const measuredAt = Date.now();
      await waitUntil('A to see it', () => (a.sources.advertisedLink(peer.id)?.capacity ?? 0) > 0, 2000, 5);
      expect(Date.now() - measuredAt, 'within linkReportMs (300) and some scheduling').to.be.below(300 + 250);
      // What A holds is B's own figure (summed over B's links), as of B's last report.
      const advertised = a.sources.advertisedLink(peer.id)!.capacity;
      expect(Math.abs(advertised - bCapacity())).to.be.at.most(0.1 * bCapacity() + 1024);
      expect(await download).to.be.greaterThan(1_000_000);
    } finally {
      origin.close();
    }

    await b.stop();
    await waitUntil('B down at A', () => a.network.get(peer.id)?.state === 'down', 3000);
    expect(a.sources.advertisedLink(peer.id)).to.equal(undefined);
  });

  it('is rate-limited to one report per linkReportMs while the figures change every second', async () => {
    const c = await startTestNode({ settings: { linkReportMs: 1500 } });
    const origin = await streamingOrigin(4000);
    try {
      const peer = await wireAsPeer(c);
      const started = Date.now();
      const figures = new Set<string>();
      const poll = setInterval(() => figures.add(JSON.stringify(c.sources.localLinks())), 20);
      await downloadThrough(c, origin.port);
      await new Promise((r) => setTimeout(r, 500));
      clearInterval(poll);
      const elapsed = Date.now() - started;
      peer.close();
      const gaps = peer.reports.slice(1).map((r, i) => r.at - peer.reports[i].at);
      expect(peer.reports.length, `reports at ${peer.reports.map((r) => r.at - started).join(', ')} ms`).to.be.within(2, 1 + Math.floor(elapsed / 1500));
      expect(Math.min(...gaps)).to.be.at.least(1500 - 50);
      // The sampler changed the figures more often than they were reported.
      expect(figures.size).to.be.greaterThan(peer.reports.length);
      expect(sum(peer.reports[peer.reports.length - 1].links, 'capacity')).to.be.greaterThan(0);
    } finally {
      origin.close();
      await c.stop();
    }
  });

  it('never sends LinkReport to a 0.3-style client, nor to a booster client that did not authenticate', async () => {
    // A 0.3 node on this machine: Notify and a heartbeat without booster.v1.
    const legacy = net.connect(b.endpointAddress.port, '127.0.0.1');
    const ids: number[] = [];
    const decoder = new PacketDecoder();
    legacy.on('data', (chunk: Buffer) => decoder.push(chunk).forEach((p) => ids.push(decodeMessage(p).header.id)));
    await new Promise((r) => legacy.once('connect', r));
    legacy.write(encodeMessage(MessageId.NOTIFY));
    legacy.write(encodeMessage(MessageId.HEARTBEAT, { id: 'heartbeat', hops: 1, ttl: { seconds: Math.floor(Date.now() / 1000) + 1 } }));
    // booster.v1 in the header, but no proof of the key (a local client is let in by address).
    const unproven = await RawLink.connect(b.endpointAddress.port);
    await unproven.next('hello');
    const kinds: string[] = [];
    const beats = new HeartbeatKeeper({ periodMs: 200, send: (beat) => unproven.link.sendHeartbeat(beat), onSilence: () => unproven.close() });
    unproven.link.onMessage((m) => {
      kinds.push(m.kind);
      if (m.kind === 'heartbeat') beats.receive(m.beat);
    });
    unproven.link.sendNotify();
    beats.start();

    // Figures that change all along, so a report would be due if either were eligible.
    const origin = await streamingOrigin(1500);
    try {
      await downloadThrough(b, origin.port);
      await new Promise((r) => setTimeout(r, 3 * 300));
      expect(ids).to.include(MessageId.HELLO);
      expect(ids).to.include(MessageId.HEARTBEAT);
      expect(ids).to.not.include(MessageId.LINK_REPORT);
      expect(unproven.link.isClosed, 'the unauthenticated client kept its link').to.equal(false);
      expect(kinds).to.include('heartbeat');
      expect(kinds).to.not.include('link-report');
      // An authenticated booster peer, by contrast, gets one at once.
      const peer = await wireAsPeer(b);
      await waitUntil('a LinkReport to the authenticated peer', () => peer.reports.length > 0, 2000);
      expect(peer.reports[0].links.map((l) => l.id)).to.include('direct');
      peer.close();
    } finally {
      origin.close();
      legacy.destroy();
      beats.dispose();
      unproven.close();
    }
  });

  it('a malformed or oversized LinkReport closes that link only; a LinkReport sent to an endpoint is refused', async () => {
    const { peer: good } = await a.network.connect(`127.0.0.1:${b.endpointAddress.port}`);
    const badReports = [
      encodeMessage(
        MessageId.LINK_REPORT,
        { links: Array.from({ length: 65 }, (_, i) => ({ id: `if:e${i}:10.0.0.${i}`, kind: 'interface' })) },
        { extensions: [BOOSTER_EXTENSION] },
      ),
      encodeMessage(MessageId.LINK_REPORT, { links: [{ id: 'direct', kind: 'direct', capacity: -1 }] }, { extensions: [BOOSTER_EXTENSION] }),
    ];
    for (const [i, bad] of badReports.entries()) {
      const fake = await fakeBoosterPeer((link) => link.write(bad));
      try {
        const downs: string[] = [];
        const sub = a.events.onPeerChanged((e) => e.change === 'down' && downs.push(e.reason ?? ''));
        const { peer } = await a.network.connect(`127.0.0.1:${fake.port}`);
        await waitUntil('the fake peer marked down', () => downs.length > 0, 3000);
        sub.dispose();
        expect(downs[0]).to.match(
          i === 0 ? /^protocol error: LinkReport carries 65 links, more than the 64 allowed$/ : /^protocol error: LinkReport link "direct" has capacity -1/,
        );
        expect(a.sources.advertisedLink(peer.id)).to.equal(undefined);
        // Only that link: B is still wired and advertised, and A still serves requests.
        expect(a.network.get(good.id)?.state).to.equal('up');
        expect(a.sources.advertisedLink(good.id)).to.not.equal(undefined);
        a.network.disconnect(peer.id);
      } finally {
        await fake.close();
      }
    }
    const again = await a.network.connect(`127.0.0.1:${b.endpointAddress.port}`);
    expect(again.already).to.equal(true);

    // A LinkReport is only ever sent to the node that wired us: an endpoint refuses one and closes that connection.
    const raw = await RawLink.connect(b.endpointAddress.port);
    await raw.next('hello');
    raw.socket.write(encodeMessage(MessageId.LINK_REPORT, { links: [] }, { extensions: [BOOSTER_EXTENSION] }));
    const result = await raw.next('result');
    expect(result.message).to.match(/refused: link-report is not a request a node accepts/);
    await raw.closed;
    const fine = await RawLink.connect(b.endpointAddress.port);
    await fine.next('hello');
    fine.close();
  });
});

/**
 * A booster.v1 node that wires like ours (Hello, StartTls, TLS keyed by the
 * test key, the challenge-response) and then does `afterNotify` with the raw
 * secured stream: how a misbehaving booster peer is played.
 */
async function fakeBoosterPeer(afterNotify: (stream: Duplex) => void): Promise<{ port: number; close(): Promise<void> }> {
  const tls = new PskTls(TEST_KEY);
  const auth = new Authenticator(TEST_KEY);
  const sockets = new Set<Duplex>();
  const pport = 1;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    void (async () => {
      const bport = (server.address() as net.AddressInfo).port;
      const plain = RawLink.over(socket, 'fake peer');
      plain.link.sendHello(bport, pport);
      await plain.next('start-tls');
      plain.link.sendStartTls();
      const secured = RawLink.over(await tls.server(plain.release(), 3000), 'fake peer (TLS)');
      sockets.add(secured.socket);
      secured.link.sendHello(bport, pport);
      const init = await secured.next('auth-init');
      const transcript = { role: 'peer' as const, clientNonce: init.nonce, serverNonce: nonce(), bport, pport, binding: channelBinding(secured.socket) };
      secured.link.sendAuthChallenge(transcript.serverNonce, auth.proof('server', transcript));
      const { proof } = await secured.next('auth-proof');
      if (!auth.verify('client', transcript, proof)) throw new Error('the node failed to prove the key');
      secured.link.sendResult(0, 'authenticated as peer');
      await secured.next('notify');
      afterNotify(secured.socket);
    })().catch(() => socket.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => server.close(r));
    },
  };
}
