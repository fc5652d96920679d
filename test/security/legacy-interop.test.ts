import { expect } from 'chai';
import type { NodeStatusView } from '../../src/network/link/protocol';
import { waitUntil } from '../helpers/ports';
import { skipUnlessNetns } from '../helpers/netns';
import { agentLines, failureLogs, hostCli, startCountingOrigin, startHostNode, StrangerHost, type HostNode, type Spawned } from '../helpers/stranger';
import type { ProbeResult, ProxyAttempt, Seen } from '../helpers/stranger-agent';

/** What the agent's 0.3-style peer reports (test/helpers/stranger-agent.ts, legacy-peer). */
interface LegacyPeerReport extends ProbeResult {
  readonly heartbeatReplies: number[];
  readonly proxyUpdates: Seen[];
  readonly results: Seen[];
  readonly socks: ProxyAttempt;
  readonly origin: string;
  readonly originRequests: number;
}

/**
 * Booster Protocol 0.3 nodes (no booster.v1, so no key) on another machine:
 * a namespace at 10.233.3.2 behind the node's LAN address 10.233.3.1. They
 * are peers only where --allow-legacy-peers says so, in both directions.
 */
describe('security: 0.3 peers from another machine (--allow-legacy-peers)', function () {
  this.timeout(30_000);
  const lan = new StrangerHost(`${process.pid % 10000}l`, 3);
  let allowing: HostNode | undefined;
  let strict: HostNode | undefined;

  before(async function () {
    skipUnlessNetns(this, ['ip']);
    lan.create();
    [allowing, strict] = await Promise.all([
      startHostNode(['--allow-legacy-peers', '10.233.3.0/24', '--heartbeat', '300']),
      startHostNode(['--heartbeat', '300']),
    ]);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(failureLogs([lan]));
  });

  after(() => {
    allowing?.kill();
    strict?.kill();
    lan.destroy();
  });

  async function peers(n: HostNode): Promise<NodeStatusView[]> {
    const res = await hostCli(['status', n.local, '--json']);
    expect(res.code, res.stderr).to.equal(0);
    return (JSON.parse(res.stdout) as NodeStatusView[]).slice(1);
  }

  const legacyPeer = (n: HostNode) => lan.agent<LegacyPeerReport>('legacy-peer', { host: lan.hostAddress, bport: n.bport, pport: n.pport, beats: 2 });

  describe('a 0.3 node wiring ours (Notify and heartbeats without booster.v1, then plain SOCKS5)', () => {
    it('is admitted from an allowed address: ProxyUpdates, heartbeat replies, and its request through our proxy works', async () => {
      const r = await legacyPeer(allowing!);
      expect(r.hello).to.equal(true);
      expect(r.socks.method, JSON.stringify(r.socks)).to.equal(0);
      expect(r.socks.reply).to.equal(0);
      expect(r.socks.body).to.equal('hello from the 0.3 peer\n');
      expect(r.originRequests).to.equal(1);
      expect(r.heartbeatReplies.slice(0, 2), 'our node answers its heartbeats').to.deep.equal([2, 4]);
      expect(
        r.proxyUpdates.filter((u) => u.target === r.origin).map((u) => u.operation),
        'its own tunnel, reported back',
      ).to.deep.equal(['added', 'removed']);
      expect(r.results, 'a 0.3 node is never sent an extension message').to.deep.equal([]);
      expect(r.closed, 'the link stays up').to.equal(false);
    });

    it("is still kept off this node's loopback: its SOCKS5 request to 127.0.0.1 is refused", async () => {
      const origin = await startCountingOrigin('127.0.0.1');
      try {
        const [a] = await lan.agent<ProxyAttempt[]>('proxy', {
          list: [{ proto: 'socks5', proxyHost: lan.hostAddress, proxyPort: allowing!.pport, host: '127.0.0.1', port: origin.port }],
        });
        expect(a.method, `admitted as a 0.3 peer: ${JSON.stringify(a)}`).to.equal(0);
        expect(a.reply, JSON.stringify(a)).to.be.a('number').and.not.equal(0);
        expect(origin.connections).to.equal(0);
      } finally {
        await origin.close();
      }
    });

    it('is refused without --allow-legacy-peers: the link is closed without ProxyUpdates, and SOCKS5 is refused', async () => {
      const r = await legacyPeer(strict!);
      expect(r.hello).to.equal(true);
      expect(r.closed).to.equal(true);
      expect(r.received, 'nothing, not even a Result (it would not understand one)').to.deep.equal([]);
      expect(r.heartbeatReplies).to.deep.equal([]);
      expect(r.socks.method, 'SOCKS5 [05 FF]').to.equal(0xff);
      expect(r.originRequests).to.equal(0);
      expect(strict!.lines(/refused notify from 10\.233\.3\.2:\d+: .*--allow-legacy-peers/)).to.have.length(1);
    });
  });

  describe('our node wiring a 0.3 node (a 0.3-style listener in the namespace)', () => {
    let listener: Spawned;
    before(async () => {
      // test/interop/peer.py binds 127.0.0.1 and sends Connect itself, so it cannot play a 0.3 node on
      // another machine; the agent's listener does (Hello without booster.v1, answers heartbeats).
      listener = lan.spawnAgent('legacy-listen', { port: 4884, pport: 1080 });
      await listener.waitFor(/\{"listening":4884\}/);
    });
    const target = () => `${lan.address}:4884`;

    it('is wired when its address is allowed: Notify and heartbeats reach it, and status shows it active', async () => {
      const res = await hostCli(['connect', allowing!.local, target()]);
      expect(res.code, res.stderr).to.equal(0);
      await waitUntil(
        'Notify and two heartbeats at the 0.3 node',
        () => {
          const seen = agentLines(listener).map((l) => l.message);
          return seen.includes('notify') && seen.filter((m) => m === 'heartbeat').length >= 2;
        },
        5000,
      );
      const wired = (await peers(allowing!)).filter((p) => p.baddr === target());
      expect(wired.map((p) => p.active)).to.deep.equal([true]);
      const gone = await hostCli(['disconnect', allowing!.local, wired[0].id]);
      expect(gone.code, gone.stderr).to.equal(0);
    });

    it('is not wired without --allow-legacy-peers: the connect fails and names the flag', async () => {
      const notifies = () => agentLines(listener).filter((l) => l.message === 'notify').length;
      const before = notifies();
      const res = await hostCli(['connect', strict!.local, target()]);
      expect(res.code, res.stdout).to.equal(1);
      expect(res.stderr).to.match(/Booster Protocol 0\.3 node.*--allow-legacy-peers 10\.233\.3\.2\/32/);
      expect(await peers(strict!)).to.deep.equal([]);
      expect(notifies(), 'no Notify was sent to it').to.equal(before);
    });
  });
});
