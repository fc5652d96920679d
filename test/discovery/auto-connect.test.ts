import { expect } from 'chai';
import type { Logger } from '../../src/api/logger';
import { Emitter } from '../../src/api/event';
import type { BoosterNode } from '../../src/core/node';
import { AutoConnector } from '../../src/discovery/auto-connect';
import type { DiscoveredNode } from '../../src/discovery/browser';
import { PresenceHint } from '../../src/discovery/hint';
import { nodeIdOf } from '../../src/network/link/protocol';
import { NetworkKey } from '../../src/security/key';
import { TEST_KEY } from '../helpers/key';
import { startTestNode } from '../helpers/node';
import { waitUntil } from '../helpers/ports';

/** A logger that keeps every line, to count what auto-connect said. */
function recordingLogger(lines: string[] = []): Logger & { lines: string[] } {
  const log = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return { lines, error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug'), child: () => recordingLogger(lines) };
}

/** What the browser would report for `node`, announcing with `signer`'s key (a forger copies a real hint: same effect). */
function seen(node: BoosterNode, signer: NetworkKey, ours: NetworkKey = TEST_KEY): DiscoveredNode {
  const p = { id: node.id, bport: node.endpointAddress.port, pport: node.proxyAddress.port, nonce: PresenceHint.nonce() };
  const presence = { ...p, hint: new PresenceHint(signer).sign(p) };
  return {
    ...presence,
    instance: `booster-${p.nonce.slice(0, 8).toLowerCase()}._booster._tcp.local`,
    address: '127.0.0.1',
    holdsKey: new PresenceHint(ours).holds(presence),
    via: '127.0.0.1',
    seenAt: Date.now(),
    ttlMs: 120_000,
  };
}

/**
 * The auto-connector against real nodes on 127.0.0.1 (the mDNS side, which
 * needs a LAN of its own, is in lan-netns.test.ts): only the browser's list
 * is given by the test.
 */
describe('discovery: auto-connect', function () {
  this.timeout(30_000);
  const nodes: BoosterNode[] = [];
  let connector: AutoConnector | undefined;

  afterEach(async () => {
    connector?.dispose();
    connector = undefined;
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  });

  /** Node A with an auto-connector whose browser lists `list` (plus, with `withSelf`, A's own announcement). */
  async function setUp(list: DiscoveredNode[], withSelf = false) {
    const a = await startTestNode();
    nodes.push(a);
    const self = seen(a, TEST_KEY);
    if (withSelf) list.push(self);
    const selfNonce = self.nonce;
    const log = recordingLogger();
    const attempts: string[] = [];
    const up = new Emitter<DiscoveredNode>();
    const network = {
      connect: (target: string) => {
        attempts.push(target);
        return a.network.connect(target);
      },
      get: (id: string) => a.network.get(id),
    };
    connector = new AutoConnector(
      { nodes: { list: () => list, onUp: up.event }, network, onPeerChanged: a.events.onPeerChanged, log, selfNonce },
      { scanMs: 50, retryMs: 100 },
    );
    connector.start();
    return { a, log, attempts, up };
  }

  it('wires a node whose hint holds our key, once; skips one of another network without dialing it, and itself', async () => {
    const b = await startTestNode();
    const c = await startTestNode({ key: NetworkKey.generate('c') });
    nodes.push(b, c);
    const other = seen(c, NetworkKey.generate('c-announces-its-own-key'));
    expect(other.holdsKey).to.equal(false);
    const list = [seen(b, TEST_KEY), other];
    const { a, log, attempts } = await setUp(list, true);
    expect(list).to.have.length(3);
    const bId = nodeIdOf('127.0.0.1', b.endpointAddress.port, b.proxyAddress.port);
    await waitUntil('B to be wired', () => a.network.get(bId)?.state === 'up', 10_000);
    await new Promise((r) => setTimeout(r, 500)); // ten more scans
    expect(attempts).to.deep.equal([`127.0.0.1:${b.endpointAddress.port}`]);
    expect(a.network.list().map((p) => p.id)).to.deep.equal([bId]);
    expect(log.lines.filter((l) => l.startsWith('info wired'))).to.have.length(1);
  });

  it('a node that shows a valid hint but fails authentication (it lacks the key) is tried once, logged once, never wired', async () => {
    const stranger = await startTestNode({ key: NetworkKey.generate('stranger') });
    nodes.push(stranger);
    const forged = seen(stranger, TEST_KEY); // the hint copied from a real node's announcement
    expect(forged.holdsKey).to.equal(true);
    const { a, log, attempts } = await setUp([forged]);
    await waitUntil('the failed attempt to be logged', () => log.lines.some((l) => l.startsWith('warn not wiring')), 10_000);
    await new Promise((r) => setTimeout(r, 600)); // a dozen scans
    expect(attempts).to.have.length(1);
    expect(a.network.list()).to.have.length(0);
    const warnings = log.lines.filter((l) => l.startsWith('warn'));
    expect(warnings).to.have.length(1);
    expect(warnings[0], warnings[0]).to.match(/not wiring 127\.0\.0\.1:\d+ .*does not hold this network('s)? key.*not trying it again until it restarts/);
  });

  it('an unreachable node is retried with back-off, warned about once; a node disconnected by hand is not wired again', async () => {
    const b = await startTestNode();
    nodes.push(b);
    const gone = await startTestNode();
    const goneSeen = seen(gone, TEST_KEY);
    await gone.stop();
    const list = [goneSeen];
    const { a, log, attempts, up } = await setUp(list);
    await waitUntil('two attempts at the unreachable node', () => attempts.length >= 2, 5_000);
    const t0 = attempts.length;
    await new Promise((r) => setTimeout(r, 250));
    expect(attempts.length - t0, 'back-off: 100 ms, 200 ms, 400 ms...').to.be.at.most(2);
    expect(log.lines.filter((l) => l.startsWith('warn cannot wire'))).to.have.length(1);

    list.push(seen(b, TEST_KEY));
    up.fire(list[1]);
    const bId = nodeIdOf('127.0.0.1', b.endpointAddress.port, b.proxyAddress.port);
    await waitUntil('B to be wired', () => a.network.get(bId)?.state === 'up', 10_000);
    a.network.disconnect(bId);
    const before = attempts.filter((t) => t.endsWith(`:${b.endpointAddress.port}`)).length;
    await new Promise((r) => setTimeout(r, 500));
    expect(attempts.filter((t) => t.endsWith(`:${b.endpointAddress.port}`)).length).to.equal(before);
    expect(a.network.get(bId)).to.equal(undefined);
  });
});
