import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SourcesView } from '../../src/commands/sources';
import type { BoosterNode } from '../../src/core/node';
import type { ProxyServer } from '../../src/proxy/server';
import { encodeMessage, MessageId } from '../../src/wire';
import { BIN, spawnCli, type RunningCli } from '../helpers/cli';
import { run } from '../helpers/exec';
import { startHttpServer, type TestHttpServer } from '../helpers/http';
import { TEST_KEY_TEXT } from '../helpers/key';
import { startTestNode } from '../helpers/node';
import { freePort } from '../helpers/ports';
import { RawLink } from '../helpers/raw-link';
import { getViaSocks } from '../helpers/socks';

/**
 * `booster sources` and the per-source part of `status`, against a node A
 * running as its own process (its log is checked) with in-process peers B
 * (healthy), C (its proxy refuses: ejected, then stopped: down).
 */
describe('booster sources / status: per-source truth', function () {
  this.timeout(60_000);
  let origin: TestHttpServer;
  let a: RunningCli;
  let b: BoosterNode;
  let c: BoosterNode;
  let bport: number;
  let pport: number;
  // Each node keeps its capacity estimates to itself: later tests must not inherit what this traffic measured.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-sources-test-'));
  const dir = (name: string) => {
    const d = path.join(dataDir, name);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  const addr = () => `127.0.0.1:${bport}`;
  const cli = (...args: string[]) => run(process.execPath, [BIN, ...args]);
  const sources = async (): Promise<SourcesView> => {
    const res = await cli('sources', '-n', addr(), '--json');
    expect(res.code, res.stderr + res.stdout).to.equal(0);
    return JSON.parse(res.stdout) as SourcesView;
  };
  const peerOf = (view: SourcesView, node: BoosterNode) =>
    view.sources.find((s) => s.kind === 'peer' && s.label === `peer 127.0.0.1:${node.endpointAddress.port}`);

  before(async () => {
    origin = await startHttpServer();
    bport = await freePort();
    pport = await freePort();
    a = spawnCli(['start', '--pport', String(pport), '--bport', String(bport), '--bind', '127.0.0.1', '--data-dir', dir('a')], { BOOSTER_KEY: TEST_KEY_TEXT });
    await a.waitFor(/booster endpoint listening/);
    b = await startTestNode({ settings: { dataDir: dir('b') } });
    c = await startTestNode({ settings: { dataDir: dir('c') } });
    for (const peer of [b, c]) {
      const res = await cli('connect', '-n', addr(), `127.0.0.1:${peer.endpointAddress.port}`);
      expect(res.code, res.stderr).to.equal(0);
    }
    expect((await cli('policy', 'use', 'round-robin', '-n', addr())).code).to.equal(0);
  });
  after(async () => {
    a?.kill('SIGKILL');
    await a?.exited();
    await Promise.all([b?.stop(), c?.stop()]);
    await origin?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a node that does not answer, in one line', async () => {
    const res = await cli('sources', '-n', `127.0.0.1:${await freePort()}`);
    expect(res.code).to.equal(1);
    expect(res.stderr.trim()).to.match(/^booster: cannot talk to node 127\.0\.0\.1:\d+: /);
  });

  it('sources --json shows direct and each peer, with tunnels, bytes and throughput moved by real traffic', async () => {
    const before = await sources();
    expect(before.policy).to.equal('round-robin');
    expect(before.total).to.equal(before.sources.length);
    expect(before.sources.map((s) => s.kind)).to.include.members(['direct', 'peer']);
    expect(peerOf(before, b)).to.include({ state: 'up', openTunnels: 0, address: `127.0.0.1:${b.proxyAddress.port}` });

    const slow = [getViaSocks(pport, '127.0.0.1', origin.port, '/slow?ms=6000'), getViaSocks(pport, '127.0.0.1', origin.port, '/slow?ms=6000')];
    for (let i = 0; i < 6; i++) expect((await getViaSocks(pport, '127.0.0.1', origin.port, '/blob')).body.length).to.equal(4 * 1024 * 1024);
    await new Promise((r) => setTimeout(r, 1200)); // a sampler tick or two

    const during = await sources();
    const direct = during.sources.find((s) => s.kind === 'direct')!;
    const viaB = peerOf(during, b)!;
    const open = during.sources.reduce((n, s) => n + s.openTunnels, 0);
    expect(open, 'the two slow downloads are open tunnels').to.equal(2);
    for (const s of [direct, viaB]) {
      expect(s.totalTunnels, s.label).to.be.greaterThan(0);
      expect(s.bytesDown, s.label).to.be.greaterThan(4 * 1024 * 1024 - 1);
      expect(s.connectLatencyMs, s.label).to.be.at.least(0);
    }
    expect(direct.throughputDown + viaB.throughputDown).to.be.greaterThan(0);
    expect(during.sources.every((s) => ['up', 'probing', 'ejected', 'down'].includes(s.state))).to.equal(true);

    const text = await cli('sources', '-n', addr());
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.match(/2 connections open: /);
    expect(text.stdout).to.match(/SOURCE\s+KIND\s+STATE\s+TUNNELS\s+DIALS\s+DOWN Mbit\/s\s+UP Mbit\/s\s+CAPACITY Mbit\/s\s+LATENCY\s+FAILURES\s+PREFERENCE/);
    expect(text.stdout).to.match(new RegExp(`peer 127\\.0\\.0\\.1:${b.endpointAddress.port} \\(proxy 127\\.0\\.0\\.1:${b.proxyAddress.port}\\)\\s+peer\\s+up`));

    const status = await cli('status', '-n', addr());
    expect(status.code, status.stderr).to.equal(0);
    expect(status.stdout).to.match(/^2 connections open: .*(1 direct|1 via peer)/m);
    expect(status.stdout).to.match(/workload 2 \(every tunnel through its proxy/);
    const json = await cli('status', '-n', addr(), '--json');
    expect(JSON.parse(json.stdout)[0]).to.have.all.keys('id', 'baddr', 'paddr', 'active', 'tunnels'); // the 0.3 list, unchanged
    await Promise.all(slow);
  });

  it("shows the policy's preference when the policy exposes one (bandwidth-weighted), none otherwise", async () => {
    expect((await sources()).sources.every((s) => s.rank === undefined)).to.equal(true); // round-robin exposes none
    expect((await cli('policy', 'use', 'bandwidth-weighted', '-n', addr())).code).to.equal(0);
    try {
      const view = await sources();
      const ranks = view.sources.map((s) => s.rank!).sort((x, y) => x - y);
      expect(ranks).to.deep.equal(view.sources.map((_, i) => i + 1));
      const direct = view.sources.find((s) => s.kind === 'direct')!;
      expect(direct.note).to.match(/^cost \(load\+1\)\/capacity = /);
      expect(direct.score).to.be.greaterThan(0);
      expect((await cli('sources', '-n', addr())).stdout).to.match(/#1 /);
    } finally {
      expect((await cli('policy', 'use', 'round-robin', '-n', addr())).code).to.equal(0);
    }
  });

  it('a peer whose proxy refuses is ejected after 3 dial failures: logged at INFO, shown with "ejected until" and the reason', async () => {
    // Only the proxy port stops (the peer link stays up): reached through the node's runtime, which holds it.
    await (c as unknown as { runtime: { proxy: ProxyServer } }).runtime.proxy.close(0);
    for (let i = 0; i < 30 && !/source peer 127\.0\.0\.1:\d+ was ejected/.test(a.stderr()); i++) {
      expect((await getViaSocks(pport, '127.0.0.1', origin.port, '/hello')).body.toString()).to.equal('hello\n');
    }
    const [line] = await a.waitFor(
      new RegExp(`INFO.*source peer 127\\.0\\.0\\.1:${c.endpointAddress.port} was ejected: 3 dial failures in a row \\(last: .*\\); retry in 5 s`),
    );
    expect(line).to.match(/ejected/);

    const view = await sources();
    const viaC = peerOf(view, c)!;
    expect(viaC.state).to.equal('ejected');
    expect(viaC.reason).to.match(/^3 dial failures in a row/);
    expect(viaC.ejectedForMs).to.be.within(1, 5000);
    expect(viaC.consecutiveFailures).to.equal(3);
    expect(viaC.recentFailures).to.equal(3);

    const text = await cli('sources', '-n', addr());
    expect(text.stdout).to.match(new RegExp(`peer 127\\.0\\.0\\.1:${c.endpointAddress.port}: ejected until \\d\\d:\\d\\d:\\d\\d \\(3 dial failures in a row`));
  });

  it('a peer that goes down stays in status as "down (reason)"; monitors hear of it, 0.3 ones with the proxy address', async () => {
    // A 0.3 monitor client: its packets announce no booster extension.
    const legacy = await RawLink.connect(bport);
    await legacy.next('hello');
    legacy.socket.write(encodeMessage(MessageId.MONITOR, { feature: 1 }));
    await legacy.next('node-status');
    const modern = await RawLink.connect(bport);
    await modern.next('hello');
    modern.link.sendMonitor('node');
    await modern.next('result');

    const cId = peerOf(await sources(), c)!.id;
    await c.stop();
    await a.waitFor(new RegExp(`INFO.*source peer 127\\.0\\.0\\.1:${c.endpointAddress.port} is down: `));

    const update = await legacy.next('network-update', 10_000);
    expect(update).to.deep.include({ operation: 'removed' });
    expect(update.node).to.include({ id: cId, baddr: `127.0.0.1:${c.endpointAddress.port}`, paddr: `127.0.0.1:${c.proxyAddress.port}` });
    const health = await modern.next('source-health', 10_000);
    expect(health).to.include({ id: cId, sourceKind: 'peer', health: 'down' });
    expect(health.reason).to.not.equal('');
    expect((await modern.next('network-update')).node.paddr).to.equal(`127.0.0.1:${c.proxyAddress.port}`);
    legacy.close();
    modern.close();

    const status = await cli('status', '-n', addr());
    expect(status.code, status.stderr).to.equal(0);
    expect(status.stdout).to.match(
      new RegExp(`^peer ${cId}  booster 127\\.0\\.0\\.1:${c.endpointAddress.port}  proxy 127\\.0\\.0\\.1:${c.proxyAddress.port}  down \\(.+\\)$`, 'm'),
    );
    expect(status.stdout).to.match(new RegExp(`^peer \\w+  booster 127\\.0\\.0\\.1:${b.endpointAddress.port} .* active`, 'm'));
    if (process.env.SHOW_OUTPUT) console.log(status.stdout, (await cli('sources', '-n', addr())).stdout);
    const viaC = peerOf(await sources(), c)!;
    expect(viaC.state).to.equal('down');
    expect(viaC.reason).to.not.equal('');
  });
});
