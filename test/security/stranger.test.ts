import { expect } from 'chai';
import * as crypto from 'node:crypto';
import type { NodeStatusView } from '../../src/network/link/protocol';
import { run } from '../helpers/exec';
import { startHttpServer, type TestHttpServer } from '../helpers/http';
import { TEST_KEY_TEXT } from '../helpers/key';
import { skipUnlessNetns } from '../helpers/netns';
import { RawLink } from '../helpers/raw-link';
import { getViaSocks } from '../helpers/socks';
import {
  agentLines,
  configFile,
  failureLogs,
  hostCli,
  startCountingOrigin,
  startHostNode,
  StrangerHost,
  type CountingOrigin,
  type HostNode,
  type Spawned,
} from '../helpers/stranger';
import type { AuthResult, ProbeResult, ProxyAttempt } from '../helpers/stranger-agent';

/** A network key that is not the test network's. */
const OTHER_KEY_TEXT = crypto.randomBytes(32).toString('hex');

/**
 * A stranger on the LAN: a network namespace (10.233.1.2) joined by a veth
 * pair to the node's "LAN" address (10.233.1.1). Nodes under test run as real
 * processes (`bin/run start --bind 0.0.0.0`) with the default security; the
 * stranger drives them from its namespace with curl and a small agent
 * (test/helpers/stranger-agent.ts), and this machine checks, from loopback,
 * that nothing changed and that its own use of the node still works.
 */
describe('security: a stranger on the LAN', function () {
  this.timeout(30_000);
  const tag = String(process.pid % 10000);
  /** The stranger's machine; 10.233.1.3 is a second address of it. */
  const lan = new StrangerHost(`${tag}s`, 1);
  /** Another machine on the LAN, beyond the node: what an allowed client may reach. */
  const far = new StrangerHost(`${tag}o`, 2);
  const LINK_LOCAL = '169.254.233.1';
  let node: HostNode | undefined;
  let origin: CountingOrigin;
  let origin6: CountingOrigin | undefined;
  let lanOrigin: CountingOrigin;
  let linkLocalOrigin: CountingOrigin;
  let farOrigin: Spawned;
  let farPort: number;
  const origins = () => [origin, origin6, lanOrigin, linkLocalOrigin].filter((o): o is CountingOrigin => o !== undefined);
  const farRequests = () => agentLines(farOrigin).filter((l) => l.request).length;
  /** Every origin's count: connections to ours, requests to the one on the far machine. */
  const seen = () => [...origins().map((o) => `${o.url} ${o.connections}`), `far ${farRequests()}`];

  before(async function () {
    skipUnlessNetns(this, ['ip']);
    lan.create({ extra: ['10.233.1.3'], hostExtra: [`${LINK_LOCAL}/32`] });
    far.create();
    origin = await startCountingOrigin('127.0.0.1');
    origin6 = await startCountingOrigin('::1').catch(() => undefined);
    if (!origin6) console.warn('      (no IPv6 loopback here: the [::1] targets are checked without an origin behind them)');
    lanOrigin = await startCountingOrigin(lan.hostAddress);
    linkLocalOrigin = await startCountingOrigin(LINK_LOCAL);
    farOrigin = far.spawnAgent('serve', {});
    farPort = Number((await farOrigin.waitFor(/\{"listening":(\d+)\}/))[1]);
    node = await startHostNode();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(failureLogs([lan, far]));
  });

  after(async () => {
    node?.kill();
    lan.destroy();
    far.destroy();
    await Promise.all(origins().map((o) => o.close()));
  });

  /** The node as this machine's real CLI sees it: policy, rules, peers. */
  async function state(n: HostNode) {
    const [policy, status] = await Promise.all([hostCli(['policy', 'list', '-t', n.local, '--json']), hostCli(['status', n.local, '--json'])]);
    expect(policy.code, `policy list: ${policy.stderr}`).to.equal(0);
    expect(status.code, `status: ${status.stderr}`).to.equal(0);
    const reply = JSON.parse(policy.stdout) as { policy: string; rules: unknown[] };
    const nodes = JSON.parse(status.stdout) as NodeStatusView[];
    return {
      policy: reply.policy,
      rules: reply.rules,
      self: nodes[0].id,
      peers: nodes.slice(1).map((p) => `${p.id} ${p.baddr} ${p.active ? 'active' : 'inactive'}`),
    };
  }

  function expectRunning(n: HostNode): void {
    expect(n.proc.child.exitCode, `node exited; log:\n${n.proc.stderr()}`).to.equal(null);
    expect(n.proc.stderr()).to.not.match(/restarting|stopping \(/);
  }

  describe('the endpoint: every request without the key is refused and changes nothing', () => {
    let peer: HostNode | undefined;
    let spare: HostNode | undefined;
    let baseline: Awaited<ReturnType<typeof state>>;

    before(async () => {
      // The node has a peer (something a Disconnect could remove), and a spare node a Connect could add.
      [peer, spare] = await Promise.all([startHostNode(), startHostNode()]);
      const wired = await hostCli(['connect', node!.local, peer.local]);
      expect(wired.code, wired.stderr).to.equal(0);
      baseline = await state(node!);
      expect(baseline.peers, 'the peer is wired').to.have.length(1);
    });
    after(() => {
      peer?.kill();
      spare?.kill();
    });

    // [name, request, the kind the node logs]
    const requests: [string, () => string, string][] = [
      ['connect', () => `connect:127.0.0.1:${spare!.bport}`, 'connect'],
      ['disconnect', () => `disconnect:${baseline.peers[0].split(' ')[0]}`, 'disconnect'],
      ['ctrl stop', () => 'ctrl-stop', 'ctrl'],
      ['ctrl restart', () => 'ctrl-restart', 'ctrl'],
      ['policy use', () => 'policy-use:round-robin', 'control'],
      ['rules add', () => 'rules-add:direct', 'control'],
      ['monitor node', () => 'monitor-node', 'monitor'],
      ['monitor net', () => 'monitor-net', 'monitor'],
      ['notify', () => 'notify', 'notify'],
      ['heartbeat', () => 'heartbeat:1', 'heartbeat'],
    ];

    for (const [name, request, logged] of requests) {
      it(`${name}: a booster.v1 stranger gets "refused: why" and is closed; a 0.3-style one is just closed`, async () => {
        const target = { host: lan.hostAddress, port: node!.bport, send: [request()] };
        const [v1, old] = await lan.agent<ProbeResult[]>('probes', { list: [target, { ...target, legacy: true }] });

        expect(v1.hello, 'the node greets everyone').to.equal(true);
        expect(
          v1.received.map((m) => m.kind),
          'only a Result',
        ).to.deep.equal(['result']);
        expect(v1.received[0].code).to.equal(1);
        expect(v1.received[0].message).to.match(/^refused: .*(network's key|--allow-legacy-peers|from this machine)/);
        expect(v1.closed, 'closed after the refusal').to.equal(true);

        expect(old.hello).to.equal(true);
        expect(old.received, 'a 0.3 client is sent nothing it would not understand').to.deep.equal([]);
        expect(old.closed).to.equal(true);

        for (const r of [v1, old]) {
          const lines = node!.lines(new RegExp(`refused ${logged} from ${lan.address.replace(/\./g, '\\.')}:${r.localPort}:`));
          expect(lines, `one log line per refusal; the node logged:\n${node!.lines(/refused/).join('\n')}`).to.have.length(1);
        }
        expectRunning(node!);
        expect(await state(node!)).to.deep.equal(baseline);
      });
    }

    it('control: a CLI on the LAN holding the key is served; with another key it is refused', async () => {
      const remote = `${lan.hostAddress}:${node!.bport}`;
      const withKey = await lan.cli(['policy', 'list', '-t', remote, '--json']);
      expect(withKey.code, withKey.stderr).to.equal(0);
      expect(JSON.parse(withKey.stdout)).to.deep.include({ policy: baseline.policy });
      const otherKey = await lan.cli(['policy', 'list', '-t', remote], { BOOSTER_KEY: OTHER_KEY_TEXT });
      expect(otherKey.code, otherKey.stdout).to.equal(1);
      expect(otherKey.stderr).to.match(/network key/);
      expect(await state(node!)).to.deep.equal(baseline);
    });
  });

  describe('the proxy: a stranger is refused, this machine is served', () => {
    const proxy = () => `${lan.hostAddress}:${node!.pport}`;
    const modes: [string, (url: string) => string[], ProxyAttempt['proto'], (a: ProxyAttempt) => void][] = [
      ['SOCKS5', (url) => ['--socks5-hostname', proxy(), url], 'socks5', (a) => expect(a.method, 'SOCKS5 [05 FF]: no acceptable method').to.equal(0xff)],
      ['SOCKS4a', (url) => ['--socks4a', proxy(), url], 'socks4a', (a) => expect(a.reply, 'SOCKS4 0x5B: rejected').to.equal(0x5b)],
      ['HTTP CONNECT', (url) => ['-p', '-x', `http://${proxy()}`, url], 'http-connect', (a) => expect(a.reply).to.equal(403)],
      ['HTTP GET', (url) => ['-f', '-x', `http://${proxy()}`, url], 'http-get', (a) => expect(a.reply).to.equal(403)],
    ];
    /** 127.0.0.1 and the node's LAN address (never for a stranger), and another LAN machine (fine for an allowed client, not for a stranger). */
    const targets = () => [
      { host: origin.host, port: origin.port, requests: () => origin.requests },
      { host: lanOrigin.host, port: lanOrigin.port, requests: () => lanOrigin.requests },
      { host: far.address, port: farPort, requests: farRequests },
    ];
    const url = (t: { host: string; port: number }) => `http://${t.host}:${t.port}/hello`;

    it('control: from loopback, every mode reaches all three origins', async () => {
      const before = targets().map((t) => t.requests());
      for (const [, args] of modes) {
        for (const t of targets()) {
          const res = await run('curl', ['-sS', '--max-time', '5', ...args(url(t)).map((a) => a.replace(proxy(), `127.0.0.1:${node!.pport}`))]);
          expect(res.code, `${args(url(t)).join(' ')}: ${res.stderr}`).to.equal(0);
          expect(res.stdout).to.equal(`hello from ${t.host}\n`);
        }
      }
      expect(targets().map((t) => t.requests())).to.deep.equal(before.map((n) => n + modes.length));
    });

    for (const [name, args, proto, refused] of modes) {
      it(`${name} from the stranger is refused, to 127.0.0.1, the node's LAN address and another LAN machine; no origin sees anything`, async () => {
        const before = seen();
        for (const t of targets()) {
          const res = await lan.curl(args(url(t)));
          expect(res.code, `curl ${args(url(t)).join(' ')} succeeded: ${res.stdout}`).to.not.equal(0);
          expect(res.stdout).to.not.match(/hello/);
        }
        const attempts = await lan.agent<ProxyAttempt[]>('proxy', {
          list: targets().map((t) => ({ proto, proxyHost: lan.hostAddress, proxyPort: node!.pport, host: t.host, port: t.port })),
        });
        for (const a of attempts) {
          refused(a);
          expect(a.body, `${proto} ${a.target}`).to.equal(undefined);
        }
        expect(seen()).to.deep.equal(before);
      });
    }

    it('SOCKS5 method 0x86 (how peers chain): another key fails the TLS and reaches nothing; the network key works (control), loopback still off limits', async () => {
      const before = { origin: origin.connections, far: farRequests() };
      const via = (key: string, host: string, port: number) => ({ proto: 'socks5-tls', key, proxyHost: lan.hostAddress, proxyPort: node!.pport, host, port });
      const [otherFar, otherLocal, peerFar, peerLocal] = await lan.agent<ProxyAttempt[]>('proxy', {
        list: [
          via(OTHER_KEY_TEXT, far.address, farPort),
          via(OTHER_KEY_TEXT, origin.host, origin.port),
          via(TEST_KEY_TEXT, far.address, farPort),
          via(TEST_KEY_TEXT, origin.host, origin.port),
        ],
      });
      for (const a of [otherFar, otherLocal]) {
        expect(a.method, JSON.stringify(a)).to.equal(0x86);
        expect(a.tls, JSON.stringify(a))
          .to.be.a('string')
          .and.match(/network key/);
        expect(a.body).to.equal(undefined);
      }
      expect(peerFar.tls, JSON.stringify(peerFar)).to.equal('ok');
      expect(peerFar.body, JSON.stringify(peerFar)).to.equal(`hello from ${far.address}\n`);
      expect(peerLocal.tls, JSON.stringify(peerLocal)).to.equal('ok');
      expect(peerLocal.reply, `a peer is not on this machine: ${JSON.stringify(peerLocal)}`)
        .to.be.a('number')
        .and.not.equal(0);
      expect({ origin: origin.connections, far: farRequests() }).to.deep.equal({ origin: before.origin, far: before.far + 1 });
    });
  });

  describe('SSRF: a client allowed by --allow-clients reaches the LAN, never this node', () => {
    let clients: HostNode | undefined;
    before(async () => {
      clients = await startHostNode(['--allow-clients', '10.233.1.0/24']);
    });
    after(() => clients?.kill());

    const PROTOS: ProxyAttempt['proto'][] = ['socks5', 'socks4a', 'http-connect', 'http-get'];
    const attempt = (targets: { host: string; port: number }[]) =>
      lan.agent<ProxyAttempt[]>('proxy', {
        list: targets.flatMap((t) => PROTOS.map((proto) => ({ proto, proxyHost: lan.hostAddress, proxyPort: clients!.pport, ...t }))),
      });

    it('control: SOCKS5, SOCKS4a and HTTP (curl and by hand) reach an origin on another LAN machine', async () => {
      const url = `http://${far.address}:${farPort}/hello`;
      const proxy = `${lan.hostAddress}:${clients!.pport}`;
      const before = farRequests();
      for (const args of [
        ['--socks5-hostname', proxy],
        ['--socks4a', proxy],
        ['-p', '-x', `http://${proxy}`],
        ['-x', `http://${proxy}`],
      ]) {
        const res = await lan.curl([...args, url]);
        expect(res.code, `curl ${args.join(' ')}: ${res.stderr}`).to.equal(0);
        expect(res.stdout).to.equal(`hello from ${far.address}\n`);
      }
      for (const a of await attempt([{ host: far.address, port: farPort }])) {
        expect(a.body, `${a.proto} → ${a.target}: ${JSON.stringify(a)}`).to.equal(`hello from ${far.address}\n`);
      }
      expect(farRequests() - before, 'the far origin served them all').to.equal(8);
    });

    function expectRefused(attempts: ProxyAttempt[]): void {
      for (const a of attempts) {
        const what = `${a.proto} → ${a.target}: ${JSON.stringify(a)}`;
        expect(a.body, what).to.equal(undefined);
        if (a.proto === 'socks5') {
          expect(a.method, `the client is allowed: ${what}`).to.equal(0);
          expect(a.reply, what).to.be.a('number').and.not.equal(0);
        } else if (a.proto === 'socks4a') {
          expect(a.reply, what).to.be.a('number').and.not.equal(0x5a);
        } else {
          expect(a.reply, what).to.be.a('number').and.not.equal(200);
        }
      }
    }

    it('loopback in any spelling (127.0.0.1, localhost, 127.1, 2130706433, 0x7f.1, 0.0.0.0) is refused; the origin sees nothing', async () => {
      const before = seen();
      // 127.1, 2130706433 and 0x7f.1 are names to the proxy, and 127.0.0.1 once resolved.
      const spellings = ['127.0.0.1', 'localhost', '127.1', '2130706433', '0x7f.1', '0.0.0.0'];
      expectRefused(await attempt(spellings.map((host) => ({ host, port: origin.port }))));
      for (const args of [['--socks5-hostname'], ['-f', '-x']]) {
        const res = await lan.curl([
          ...args,
          `${args.includes('-x') ? 'http://' : ''}${lan.hostAddress}:${clients!.pport}`,
          `http://localhost:${origin.port}/hello`,
        ]);
        expect(res.code, res.stdout).to.not.equal(0);
      }
      expect(seen()).to.deep.equal(before);
    });

    it('IPv6 loopback ([::1]) and IPv4-mapped loopback ([::ffff:127.0.0.1]) are refused', async () => {
      const before = seen();
      expectRefused(
        await attempt([
          { host: '::1', port: origin6?.port ?? origin.port },
          { host: '::ffff:127.0.0.1', port: origin.port },
        ]),
      );
      expect(seen()).to.deep.equal(before);
    });

    it("the node's own booster port is refused (via 127.0.0.1, localhost and its LAN address)", async () => {
      const bport = clients!.bport;
      // Had the node dialed its endpoint, SOCKS and CONNECT would have answered success.
      expectRefused(
        await attempt([
          { host: '127.0.0.1', port: bport },
          { host: 'localhost', port: bport },
          { host: lan.hostAddress, port: bport },
        ]),
      );
    });

    it('link-local (169.254.x.x) is refused', async () => {
      const before = linkLocalOrigin.connections;
      expectRefused(await attempt([{ host: LINK_LOCAL, port: linkLocalOrigin.port }]));
      expect(linkLocalOrigin.connections).to.equal(before);
    });

    it("the node's own LAN address is refused", async () => {
      const before = lanOrigin.connections;
      expectRefused(await attempt([{ host: lan.hostAddress, port: lanOrigin.port }]));
      expect(lanOrigin.connections).to.equal(before);
    });
  });

  describe('peers: without the key, no node wires ours, and ours wires no such node', () => {
    const OTHER = { BOOSTER_KEY: OTHER_KEY_TEXT };
    // Fresh namespace: its own ports are free. 4884: a node with another key; 4885: one with ours.
    before(async () => {
      await Promise.all([
        lan.startNode(['--bind', '0.0.0.0', '--pport', '1080', '--bport', '4884'], OTHER),
        lan.startNode(['--bind', '0.0.0.0', '--pport', '1081', '--bport', '4885']),
      ]);
    });

    it("a stranger's Notify (and heartbeat) without authenticating is refused: no heartbeat, no ProxyUpdate", async () => {
      const r = await lan.agent<ProbeResult>('probe', { host: lan.hostAddress, port: node!.bport, send: ['notify', 'heartbeat:1'] });
      expect(r.received.map((m) => m.kind)).to.deep.equal(['result']);
      expect(r.received[0].message).to.match(/^refused: notify needs a peer that proved it holds this network's key/);
      expect(r.closed).to.equal(true);
    });

    it('a node with another key, told by its own CLI to wire ours, fails; ours keeps no trace of it', async () => {
      const before = await state(node!);
      const handshakeFailures = () => node!.lines(/10\.233\.1\.2:\d+.*(TLS|network key)/).length;
      const failuresBefore = handshakeFailures();
      const res = await lan.cli(['connect', '127.0.0.1:4884', `${lan.hostAddress}:${node!.bport}`], OTHER);
      expect(res.code, res.stdout).to.equal(1);
      expect(res.stderr).to.match(/network key/);
      const status = await lan.cli(['status', '127.0.0.1:4884', '--json'], OTHER);
      expect(status.code, status.stderr).to.equal(0);
      expect((JSON.parse(status.stdout) as unknown[]).length, 'the other node has no peer').to.equal(1);
      expect(handshakeFailures(), 'our node logged the failed handshake').to.be.greaterThan(failuresBefore);
      expect(await state(node!)).to.deep.equal(before);
    });

    it('our node, told from loopback to wire a node with another key, fails: the other side does not hold the key', async () => {
      const before = await state(node!);
      const res = await hostCli(['connect', node!.local, `${lan.address}:4884`]);
      expect(res.code, res.stdout).to.equal(1);
      expect(res.stderr).to.match(/does not hold this network('s)? key|does it hold this network key/);
      expect(await state(node!)).to.deep.equal(before);
    });

    it('control: a node with the same key wires ours, and ours wires it', async () => {
      const res = await lan.cli(['connect', '127.0.0.1:4885', `${lan.hostAddress}:${node!.bport}`]);
      expect(res.code, res.stderr).to.equal(0);
      const theirs = JSON.parse((await lan.cli(['status', '127.0.0.1:4885', '--json'])).stdout) as NodeStatusView[];
      expect(theirs.slice(1).map((p) => [p.baddr, p.active])).to.deep.equal([[`${lan.hostAddress}:${node!.bport}`, true]]);

      const before = await state(node!);
      const ours = await hostCli(['connect', node!.local, `${lan.address}:4885`, '--json']);
      expect(ours.code, ours.stderr).to.equal(0);
      const wired = await state(node!);
      const added = wired.peers.filter((p) => !before.peers.includes(p));
      expect(added).to.have.length(1);
      expect(added[0]).to.match(new RegExp(` ${lan.address}:4885 active$`));
      const gone = await hostCli(['disconnect', node!.local, added[0].split(' ')[0]]);
      expect(gone.code, gone.stderr).to.equal(0);
    });
  });

  describe('authentication over a plain link ({"transport": "tcp"}): a wrong key and a replay fail', () => {
    let plain: HostNode | undefined;
    let recorded: AuthResult;
    before(async () => {
      plain = await startHostNode(['--config', configFile('plain', { transport: 'tcp' })]);
    });
    after(() => plain?.kill());
    const at = () => ({ host: lan.hostAddress, port: plain!.bport });

    it('control: the right key authenticates (the node proves it holds the key too)', async () => {
      recorded = await lan.agent<AuthResult>('auth', { ...at(), key: TEST_KEY_TEXT });
      expect(recorded.serverProofOk).to.equal(true);
      expect(recorded.result).to.deep.equal({ kind: 'result', code: 0, message: 'authenticated as cli' });
      expect(recorded.closed, 'an authenticated link stays open').to.equal(false);
    });

    it('a wrong key is refused, and the client can tell the node holds another key', async () => {
      const r = await lan.agent<AuthResult>('auth', { ...at(), key: OTHER_KEY_TEXT });
      expect(r.serverProofOk).to.equal(false);
      expect(r.result?.code).to.equal(1);
      expect(r.result?.message).to.match(/^refused: authentication failed/);
      expect(r.closed).to.equal(true);
    });

    it('a recorded exchange replayed on a new connection is refused (fresh server nonce)', async () => {
      expect(recorded, 'the control test recorded an exchange').to.not.equal(undefined);
      const r = await lan.agent<ProbeResult & { serverNonce: string; result?: { code: number; message: string } }>('replay', {
        ...at(),
        clientNonce: recorded.clientNonce,
        proof: recorded.proof,
      });
      expect(r.serverNonce).to.not.equal(recorded.serverNonce);
      expect(r.result?.code).to.equal(1);
      expect(r.result?.message).to.match(/authentication failed/);
      expect(r.closed).to.equal(true);
    });
  });

  describe('limits hit from the stranger, while this machine keeps using the node', () => {
    let perIp: HostNode | undefined;
    let total: HostNode | undefined;
    let local: TestHttpServer;
    before(async () => {
      local = await startHttpServer();
      [perIp, total] = await Promise.all([
        startHostNode(['--config', configFile('per-ip', { limits: { maxSessionsPerIp: 3, authTimeoutMs: 1000, maxUnauthenticatedPacketBytes: 1024 } })]),
        startHostNode(['--config', configFile('total', { limits: { maxSessions: 20 } })]),
      ]);
    });
    /** Fetch loops still running (a failed test leaves its loop here). */
    const loops: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      await Promise.all(loops.splice(0).map((stop) => stop()));
    });
    after(async () => {
      perIp?.kill();
      total?.kill();
      await local?.close();
    });

    /** This machine fetching through the node's proxy, over and over, until stopped. */
    function keepFetching(n: HostNode) {
      let stop = false;
      const outcome = { ok: 0, errors: [] as string[] };
      const loop = (async () => {
        while (!stop) {
          try {
            const res = await getViaSocks(n.pport, '127.0.0.1', local.port, '/hello');
            if (res.status === 200 && res.body.toString() === 'hello\n') outcome.ok++;
            else outcome.errors.push(`status ${res.status}`);
          } catch (err) {
            outcome.errors.push((err as Error).message);
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const stopper = async () => {
        stop = true;
        await loop;
        return outcome;
      };
      loops.push(stopper);
      return stopper;
    }

    async function expectLocalWorks(n: HostNode): Promise<void> {
      const res = await hostCli(['status', n.local]);
      expect(res.code, res.stderr).to.equal(0);
      expect(res.stdout).to.match(/^node [0-9a-f]{40} /);
    }

    /** The stranger sends `n` AuthInits padded to each of `sizes` bytes, a connection each, and reports what each got back within `waitMs`. */
    function paddedAuthInits(n: HostNode, sizes: number[], waitMs: number): Promise<ProbeResult[]> {
      return lan.agent<ProbeResult[]>('probes', {
        list: sizes.map((bytes) => ({ host: lan.hostAddress, port: n.bport, send: [`padded-auth-init:${bytes}`], waitMs })),
      });
    }

    it('limits.maxSessionsPerIp (3): the extra connections from one address are closed at once', async () => {
      const done = keepFetching(perIp!);
      const held = await lan.agent<ProbeResult[]>('hold', { host: lan.hostAddress, port: perIp!.bport, count: 6, holdMs: 300 });
      await expectLocalWorks(perIp!);
      expect(held.map((c) => c.hello)).to.deep.equal([true, true, true, false, false, false]);
      for (const c of held.slice(0, 3)) expect(c.closed, 'within the cap: kept').to.equal(false);
      for (const c of held.slice(3)) expect(c.closedAfterMs, 'beyond the cap: closed at once').to.be.a('number').and.below(1000);
      expect(perIp!.lines(/limits\.maxSessionsPerIp 3 from 10\.233\.1\.2 reached/)).to.have.length.greaterThan(0);
      // The held ones are gone: the address may connect again.
      const again = await lan.agent<ProbeResult>('probe', { host: lan.hostAddress, port: perIp!.bport, send: [], waitMs: 100 });
      expect(again.hello).to.equal(true);
      const fetched = await done();
      expect(fetched.errors).to.deep.equal([]);
      expect(fetched.ok).to.be.greaterThan(2);
    });

    it('limits.authTimeoutMs (1000): an idle stranger is closed after it', async () => {
      const done = keepFetching(perIp!);
      const [idle] = await lan.agent<ProbeResult[]>('hold', { host: lan.hostAddress, port: perIp!.bport, count: 1, holdMs: 3000 });
      expect(idle.hello).to.equal(true);
      expect(idle.closedAfterMs, 'closed by the auth timeout').to.be.a('number').and.within(900, 2500);
      expect(perIp!.lines(/did not authenticate within 1000 ms \(limits\.authTimeoutMs\)/)).to.have.length.greaterThan(0);
      await expectLocalWorks(perIp!);
      const fetched = await done();
      expect(fetched.errors).to.deep.equal([]);
      expect(fetched.ok).to.be.greaterThan(2);
    });

    it('limits.maxUnauthenticatedPacketBytes (default 4096): a bigger packet before auth closes the connection', async () => {
      const done = keepFetching(node!);
      const [small, big] = await paddedAuthInits(node!, [3000, 6000], 1000);
      expect(
        small.received.map((m) => m.kind),
        'control: a padded AuthInit under the cap is answered',
      ).to.deep.equal(['auth-challenge']);
      expect(big.received, 'no challenge, no Result: the packet was never read').to.deep.equal([]);
      expect(big.closed).to.equal(true);
      expectRunning(node!);
      const fetched = await done();
      expect(fetched.errors).to.deep.equal([]);
      expect(fetched.ok).to.be.greaterThan(2);
    });

    it('limits.maxUnauthenticatedPacketBytes from the config (1024) applies before auth', async () => {
      const done = keepFetching(perIp!);
      const [small, big] = await paddedAuthInits(perIp!, [700, 2000], 500);
      expect(
        small.received.map((m) => m.kind),
        'control: under the configured cap, answered',
      ).to.deep.equal(['auth-challenge']);
      expect(big.received, 'over the configured cap: never read').to.deep.equal([]);
      expect(big.closed).to.equal(true);
      const fetched = await done();
      expect(fetched.errors).to.deep.equal([]);
    });

    it('limits.maxSessions (20): strangers get what the loopback reserve (16) leaves; loopback still gets sessions', async () => {
      const done = keepFetching(total!);
      const holder = lan.spawnAgent('hold', { host: lan.hostAddress, port: total!.bport, count: 8, holdMs: 2500 });
      const ready = JSON.parse((await holder.waitFor(/\{"ready":.*\}/))[0]) as { ready: boolean[] };
      expect(ready.ready, 'per address the cap is 16: these are refused by the total').to.deep.equal([true, true, true, true, false, false, false, false]);
      // Another address of the stranger is refused too: the total is what is full.
      const other = await lan.agent<ProbeResult>('probe', { host: lan.hostAddress, port: total!.bport, send: [], waitMs: 300, localAddress: '10.233.1.3' });
      expect(other.hello).to.equal(false);
      expect(other.closed).to.equal(true);
      // Loopback: sessions from the reserve, and the CLI.
      const mine = await Promise.all(Array.from({ length: 6 }, () => RawLink.connect(total!.bport)));
      try {
        for (const c of mine) expect((await c.next('hello')).bport).to.equal(total!.bport);
        await expectLocalWorks(total!);
      } finally {
        mine.forEach((c) => c.close());
      }
      await holder.exited();
      const held = JSON.parse(holder.stdout().trim().split('\n').pop()!) as { result: ProbeResult[] };
      expect(
        held.result.slice(0, 4).map((c) => c.closed),
        'the four admitted stay',
      ).to.deep.equal([false, false, false, false]);
      for (const c of held.result.slice(4)) expect(c.closedAfterMs, 'closed at once').to.be.a('number').and.below(1000);
      expect(total!.lines(/limits\.maxSessions 20 reached/)).to.have.length.greaterThan(0);
      const fetched = await done();
      expect(fetched.errors).to.deep.equal([]);
      expect(fetched.ok).to.be.greaterThan(2);
    });
  });
});
