import { expect } from 'chai';
import type { BoosterNode } from '../../src/core/node';
import { Authenticator, nonce } from '../../src/security/auth';
import { NetworkKey } from '../../src/security/key';
import { channelBinding, PskTls } from '../../src/security/tls';
import { encodeMessage, MessageId } from '../../src/wire';
import { TEST_KEY } from '../helpers/key';
import { startTestNode, type TestNodeOptions } from '../helpers/node';
import { RawLink } from '../helpers/raw-link';
import { sessionHarness, type SessionHarness } from '../helpers/session-harness';

const OTHER_KEY = NetworkKey.generate('another network');

/** For a suite whose tests start their own nodes: a startTestNode whose nodes are stopped after the suite's last test. */
function nodesForSuite(): (options?: TestNodeOptions) => Promise<BoosterNode> {
  const nodes: BoosterNode[] = [];
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });
  return async (options) => {
    const node = await startTestNode(options);
    nodes.push(node);
    return node;
  };
}

/** Authenticates a raw link as `role` with `key`; returns the Result the node sent. */
async function authenticate(c: RawLink, key: NetworkKey, role: 'peer' | 'cli', hello: { bport: number; pport: number }) {
  const auth = new Authenticator(key);
  const clientNonce = nonce();
  c.link.sendAuthInit(clientNonce, role);
  const ch = await c.next('auth-challenge');
  const t = { role, clientNonce, serverNonce: ch.nonce, bport: hello.bport, pport: hello.pport, binding: channelBinding(c.link.transportStream) };
  const serverOk = auth.verify('server', t, ch.proof);
  const proof = auth.proof('client', t);
  c.link.sendAuthProof(proof);
  return { result: await c.next('result'), serverOk, clientNonce, proof };
}

describe('security: the endpoint gate (who may do what)', function () {
  this.timeout(20_000);
  let node: BoosterNode;
  let harness: SessionHarness | undefined;

  before(async () => {
    node = await startTestNode({ settings: { heartbeatMs: 300 } });
  });
  after(async () => {
    await node?.stop();
  });
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  const controls: [string, (c: RawLink) => void][] = [
    ['connect', (c) => c.link.sendConnect('127.0.0.1:9')],
    ['disconnect', (c) => c.link.sendDisconnect('0'.repeat(40))],
    ['ctrl stop', (c) => c.link.sendCtrl('stop')],
    ['ctrl restart', (c) => c.link.sendCtrl('restart')],
    ['policy use', (c) => c.link.sendControl({ op: 'use', policy: 'round-robin' })],
    ['rules add', (c) => c.link.sendControl({ op: 'rules-add', rule: { type: 'block', source: 'direct' } })],
    ['monitor node', (c) => c.link.sendMonitor('node')],
    ['monitor net', (c) => c.link.sendMonitor('net')],
    ['notify', (c) => c.link.sendNotify()],
    ['heartbeat', (c) => c.link.sendHeartbeat({ hops: 1, ttl: Date.now() + 1000 })],
  ];

  for (const [name, send] of controls) {
    it(`refuses ${name} from a stranger, with a reason on the wire, and changes nothing`, async () => {
      harness = await sessionHarness(node, 'anonymous');
      const policy = node.policies.current;
      const c = await RawLink.connect(harness.port);
      await c.next('hello');
      send(c);
      const result = await c.next('result');
      expect(result.code).to.not.equal(0);
      expect(result.message).to.match(/^refused: /);
      expect(await c.closed).to.be.a('string');
      expect(node.policies.current).to.equal(policy);
      expect(node.rules.list()).to.have.length(0);
      expect(node.network.list()).to.have.length(0);
      expect(harness.ctrl).to.deep.equal([]);
    });
  }

  it('lets an authenticated peer send Notify and heartbeats, but not control', async () => {
    harness = await sessionHarness(node, 'anonymous', { tls: false });
    const c = await RawLink.connect(harness.port);
    const hello = await c.next('hello');
    const { result, serverOk } = await authenticate(c, TEST_KEY, 'peer', hello);
    expect(serverOk, 'the node proves it holds the key').to.equal(true);
    expect(result.code).to.equal(0);
    c.link.sendNotify();
    c.link.sendHeartbeat({ hops: 1, ttl: Date.now() + 100 });
    const beat = await c.next('heartbeat');
    expect(beat.beat.hops).to.equal(2);
    c.link.sendCtrl('stop');
    const refused = await c.next('result');
    expect(refused.message).to.match(/not allowed on a peer link/);
    expect(harness.ctrl).to.deep.equal([]);
  });

  it('lets a CLI that proved the key use control', async () => {
    harness = await sessionHarness(node, 'anonymous', { tls: false });
    const c = await RawLink.connect(harness.port);
    const hello = await c.next('hello');
    expect((await authenticate(c, TEST_KEY, 'cli', hello)).result.code).to.equal(0);
    c.link.sendControl({ op: 'status' });
    const reply = await c.next('control-reply');
    expect(reply.reply.ok).to.equal(true);
    c.close();
  });

  it('refuses a wrong key, and the node proves nothing the client could check', async () => {
    harness = await sessionHarness(node, 'anonymous', { tls: false });
    const c = await RawLink.connect(harness.port);
    const hello = await c.next('hello');
    const { result, serverOk } = await authenticate(c, OTHER_KEY, 'cli', hello);
    expect(serverOk, 'a client with another key rejects the node too').to.equal(false);
    expect(result.code).to.not.equal(0);
    expect(result.message).to.match(/authentication failed/);
    await c.closed;
  });

  it('refuses a replayed authentication (the server nonce is fresh every time)', async () => {
    harness = await sessionHarness(node, 'anonymous', { tls: false });
    const first = await RawLink.connect(harness.port);
    const hello = await first.next('hello');
    const recorded = await authenticate(first, TEST_KEY, 'cli', hello);
    expect(recorded.result.code).to.equal(0);
    first.close();

    const replay = await RawLink.connect(harness.port);
    await replay.next('hello');
    replay.link.sendAuthInit(recorded.clientNonce, 'cli');
    await replay.next('auth-challenge');
    replay.link.sendAuthProof(recorded.proof);
    const result = await replay.next('result');
    expect(result.code).to.not.equal(0);
    await replay.closed;
  });

  it('upgrades to TLS keyed by the network key, then authenticates inside', async () => {
    harness = await sessionHarness(node, 'anonymous');
    const c = await RawLink.connect(harness.port);
    await c.next('hello');
    c.link.sendStartTls();
    await c.next('start-tls');
    const tls = await new PskTls(TEST_KEY).client(c.release(), 3000);
    const inner = RawLink.over(tls);
    const hello = await inner.next('hello');
    expect((await authenticate(inner, TEST_KEY, 'cli', hello)).result.code).to.equal(0);
    inner.close();
  });

  it('fails the TLS upgrade for a client with another key', async () => {
    harness = await sessionHarness(node, 'anonymous');
    const c = await RawLink.connect(harness.port);
    await c.next('hello');
    c.link.sendStartTls();
    await c.next('start-tls');
    let error: Error | undefined;
    await new PskTls(OTHER_KEY).client(c.release(), 3000).catch((e: Error) => (error = e));
    expect(error?.message).to.match(/does not hold this network key|closed the connection/);
  });

  it('closes a connection that does not authenticate within limits.authTimeoutMs', async () => {
    harness = await sessionHarness(node, 'anonymous', { limits: { authTimeoutMs: 300 } });
    const c = await RawLink.connect(harness.port);
    await c.next('hello');
    const started = Date.now();
    await c.closed;
    expect(Date.now() - started).to.be.lessThan(2500);
  });

  it('accepts only small packets before authentication (limits.maxUnauthenticatedPacketBytes)', async () => {
    harness = await sessionHarness(node, 'anonymous');
    const c = await RawLink.connect(harness.port);
    await c.next('hello');
    // A Connect whose target is 6,000 bytes: far above what authentication needs.
    c.socket.write(encodeMessage(MessageId.CONNECT, { target: 'x'.repeat(6000) }));
    const reason = await c.closed;
    expect(reason).to.match(/protocol error|closed/);
    expect(node.network.list()).to.have.length(0);
  });

  it('admits a 0.3 peer by address (--allow-legacy-peers) for Notify and heartbeats only', async () => {
    harness = await sessionHarness(node, 'legacy-peer');
    const c = await RawLink.connect(harness.port);
    await c.next('hello');
    c.link.sendNotify();
    c.link.sendHeartbeat({ hops: 1, ttl: Date.now() + 100 });
    expect((await c.next('heartbeat')).beat.hops).to.equal(2);
    c.link.sendConnect('127.0.0.1:9');
    await c.closed;
    expect(node.network.list()).to.have.length(0);
  });
});

describe('security: nodes wire each other only with the same key', function () {
  this.timeout(20_000);
  const startNode = nodesForSuite();

  for (const transport of ['tls', 'tcp'] as const) {
    it(`over ${transport}: same key wires and authenticates, another key is refused with a clear reason`, async () => {
      const a = await startNode({ settings: { transport } });
      const b = await startNode({ settings: { transport } });
      const stranger = await startNode({ settings: { transport }, key: OTHER_KEY });
      const { peer } = await a.network.connect(`127.0.0.1:${b.endpointAddress.port}`);
      expect(peer.active).to.equal(true);
      const source = a.sources.list().find((s) => s.kind === 'peer');
      expect(source?.proxy?.secure, 'the peer proved the key: its proxy is reached through TLS').to.equal(true);
      let error: Error | undefined;
      await a.network.connect(`127.0.0.1:${stranger.endpointAddress.port}`).catch((e: Error) => (error = e));
      expect(error?.message).to.match(/does not hold this network('s)? key|refused/);
      expect(a.network.list()).to.have.length(1);
    });
  }
});

describe('security: limits on peers', function () {
  this.timeout(20_000);
  const startNode = nodesForSuite();

  it('refuses a peer beyond limits.maxPeers, and keeps the ones it has', async () => {
    const a = await startNode({ settings: { limits: { maxPeers: 1 } as never } });
    const b = await startNode();
    const c = await startNode();
    await a.network.connect(`127.0.0.1:${b.endpointAddress.port}`);
    let error: Error | undefined;
    await a.network.connect(`127.0.0.1:${c.endpointAddress.port}`).catch((e: Error) => (error = e));
    expect(error?.message).to.match(/limits\.maxPeers 1/);
    expect(a.network.list().map((p) => p.bport)).to.deep.equal([b.endpointAddress.port]);
    expect(a.network.list()[0].state).to.equal('up');
  });
});
