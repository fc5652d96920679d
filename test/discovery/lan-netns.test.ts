import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DiscoveredView } from '../../src/commands/discover';
import { nodeIdOf, type NodeStatusView } from '../../src/network/link/protocol';
import { NetworkKey } from '../../src/security/key';
import { BIN } from '../helpers/cli';
import { run } from '../helpers/exec';
import { TEST_KEY_TEXT } from '../helpers/key';
import { LanBridge, type LanHost } from '../helpers/lan-bridge';
import { skipUnlessNetns } from '../helpers/netns';
import { waitUntil } from '../helpers/ports';

/** A node started in a host's namespace, with what it logged so far. */
interface LanNode {
  readonly child: ChildProcess;
  log(): string;
}

/**
 * Discovery on a LAN of four namespaces on one bridge (root): A runs with
 * --auto-connect; B holds the same key; C holds another; D runs with
 * --no-announce. Every node binds its namespace's address, so mDNS only ever
 * runs on the bridge.
 */
describe('discovery on a LAN (network namespaces on one bridge)', function () {
  this.timeout(90_000);
  let lan: LanBridge;
  let A: LanHost, B: LanHost, C: LanHost, D: LanHost;
  let a: LanNode;
  let b: LanNode;
  const otherKey = NetworkKey.generate('other').reveal();
  const emptyHome = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-nokey-'));

  function startNode(host: LanHost, args: readonly string[], key = TEST_KEY_TEXT): Promise<LanNode> {
    const child = lan.spawn(
      host,
      process.execPath,
      [BIN, 'start', '--bind', host.address, '--pport', '1080', '--bport', '4884', '--heartbeat', '500', ...args],
      { BOOSTER_KEY: key },
    );
    let log = '';
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const node = { child, log: () => log };
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`node in ${host.ns} exited ${code}: ${log}`)));
      waitUntil(`the node in ${host.ns} to listen`, () => log.includes('booster endpoint listening'), 15_000).then(() => resolve(node), reject);
    });
  }

  async function cli(host: LanHost, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<unknown> {
    const res = await run('ip', ['netns', 'exec', host.ns, process.execPath, BIN, ...args], { env: { ...process.env, ...env }, timeoutMs: 20_000 });
    expect(res.code, `${args.join(' ')}: ${res.stdout}${res.stderr}`).to.equal(0);
    return JSON.parse(res.stdout);
  }

  const peersOfA = async () => ((await cli(A, ['status', '--json', '-n', `${A.address}:4884`])) as NodeStatusView[]).slice(1);
  const idOf = (h: LanHost) => nodeIdOf(h.address, 4884, 1080);

  before(async function () {
    skipUnlessNetns(this, ['ip']);
    lan = new LanBridge(4);
    [A, B, C, D] = lan.hosts;
    lan.create();
    b = await startNode(B, ['--announce']);
    await startNode(C, ['--announce'], otherKey);
    await startNode(D, ['--no-announce']);
    a = await startNode(A, ['--announce', '--auto-connect']);
  });

  after(() => {
    lan?.destroy();
    fs.rmSync(emptyHome, { recursive: true, force: true });
  });

  it('the node with --auto-connect wires the node that holds its key, and never the one of another network', async () => {
    await waitUntil('A to wire B', () => a.log().includes(`wired ${B.address}:4884, found on the LAN`), 20_000, 100);
    expect(a.log()).to.match(/announcing this node on the LAN as booster-[0-9a-f]{8}\._booster\._tcp\.local/);
    // C announced itself all along (discover below lists it); give A a few more announcements to get it wrong.
    await new Promise((r) => setTimeout(r, 3000));
    const peers = await peersOfA();
    expect(peers.map((p) => p.baddr)).to.deep.equal([`${B.address}:4884`]);
    expect(peers[0].active).to.equal(true);
    expect(a.log(), 'A never even dialed C').to.not.include(C.address);
  });

  it('booster discover lists the announcing nodes, and which hold our key; a node with --no-announce stays silent', async () => {
    const seen = (await cli(A, ['discover', '--json', '--timeout', '2500'])) as DiscoveredView[];
    const byAddress = Object.fromEntries(seen.map((v) => [v.address, v]));
    expect(Object.keys(byAddress).sort()).to.deep.equal([A.address, B.address, C.address].sort());
    expect(byAddress[A.address]).to.include({ id: idOf(A), bport: 4884, pport: 1080, holdsKey: true, announcedId: nodeIdOf('localhost', 4884, 1080) });
    expect(byAddress[B.address]).to.include({ id: idOf(B), holdsKey: true });
    expect(byAddress[C.address]).to.include({ id: idOf(C), holdsKey: false });
    expect(JSON.stringify(seen)).to.not.include(TEST_KEY_TEXT).and.not.include(otherKey);

    // From a host without any key: the same nodes, with nothing said about their keys.
    const blind = (await cli(D, ['discover', '--json', '--timeout', '2500'], { BOOSTER_KEY: '', BOOSTER_HOME: emptyHome })) as DiscoveredView[];
    expect(blind.map((v) => v.address).sort()).to.deep.equal([A.address, B.address, C.address].sort());
    expect(blind.every((v) => v.holdsKey === null)).to.equal(true);

    const human = await run('ip', ['netns', 'exec', A.ns, process.execPath, BIN, 'discover', '--timeout', '2000']);
    expect(human.stdout).to.match(
      new RegExp(`${idOf(B)}  booster ${B.address.replace(/\./g, '\\.')}:4884  proxy ${B.address.replace(/\./g, '\\.')}:1080  same network key`),
    );
    expect(human.stdout).to.match(new RegExp(`${C.address.replace(/\./g, '\\.')}:1080  another network`));
  });

  it('a node that restarts is wired again, and auto-connect does not fight the reconnection', async () => {
    const before = a.log();
    b.child.kill('SIGTERM');
    await new Promise<void>((resolve) => b.child.once('exit', () => resolve()));
    await waitUntil('A to see B down', async () => (await peersOfA()).every((p) => !p.active), 10_000, 200);
    b = await startNode(B, ['--announce']);
    await waitUntil('B active again at A', async () => (await peersOfA()).some((p) => p.baddr === `${B.address}:4884` && p.active), 30_000, 300);
    expect((await peersOfA()).map((p) => p.baddr)).to.deep.equal([`${B.address}:4884`]);
    expect(a.log().slice(before.length)).to.not.match(/not wiring|cannot wire/);
  });
});
