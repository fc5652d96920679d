import { expect } from 'chai';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import type { TunnelInfo } from '../../src/api/events';
import { DEFAULT_LIMITS, resolveSettings } from '../../src/core/config';
import { BoosterNode } from '../../src/core/node';
import type { Duplex } from 'node:stream';
import type { Transport } from '../../src/api/transport';
import { greet } from '../../src/network/link/handshake';
import { ProtocolLink } from '../../src/network/link/protocol';
import { Authenticator } from '../../src/security/auth';
import { TEST_BOOSTER_HOME } from '../helpers/cli';
import { TEST_KEY } from '../helpers/key';
import { builtinPlugins } from '../helpers/node';
import { capturingLogger } from './capturing-logger';

const LIMIT = 1024 * 1024;
/** Far more than the limit plus what the kernel's socket buffers on loopback can absorb (a few MB each way). */
const EVENTS = 150_000;
const BATCH = 200;

/** What the process holds after a full GC: garbage aside, this is what stays queued. */
function retainedBytes(): number {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

interface MonitorClient {
  /** The stream to stop reading from (TCP, or TLS for an authenticated CLI). */
  readonly stream: Duplex;
  /** The client's port, as the node's log names it. */
  readonly port: number;
  readonly link: ProtocolLink;
  readonly proxyUpdates: () => number;
  readonly closed: Promise<string>;
}

/** A `booster monitor node` client, as the CLI's protocol has it: Monitor(node), then JSON events. */
async function monitorClient(link: ProtocolLink, port: number): Promise<MonitorClient> {
  let updates = 0;
  let snapshotDone!: () => void;
  const snapshot = new Promise<void>((resolve) => (snapshotDone = resolve));
  link.onMessage((m) => {
    if (m.kind === 'result') snapshotDone();
    if (m.kind === 'proxy-update') updates++;
  });
  const closed = new Promise<string>((resolve) => link.onClose(resolve));
  link.sendMonitor('node');
  await snapshot;
  return { stream: link.transportStream, port, link, proxyUpdates: () => updates, closed };
}

/** From this machine, plain TCP: the node's "local" principal. */
async function localClient(port: number): Promise<MonitorClient> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const link = new ProtocolLink(socket, `monitor client ${socket.localPort}`);
  await new Promise<void>((resolve) => link.onMessage((m) => m.kind === 'hello' && resolve()));
  return monitorClient(link, socket.localPort!);
}

/** A CLI holding the network key: StartTls, then authentication, as `booster monitor node` from another machine does. */
async function cliClient(node: BoosterNode): Promise<MonitorClient> {
  const transport = await node.network.transport();
  let port = 0;
  const counted: Transport = {
    ...transport,
    connect: async (address, signal) => {
      const stream = await transport.connect(address, signal);
      port = (stream as net.Socket).localPort ?? 0;
      return stream;
    },
  };
  const { link, secure } = await greet({
    transport: counted,
    address: { host: '127.0.0.1', port: node.endpointAddress.port },
    timeoutMs: 5000,
    auth: { role: 'cli', authenticator: new Authenticator(TEST_KEY) },
    allowLegacy: () => false,
  });
  expect(secure, 'the link is TLS').to.equal(true);
  return monitorClient(link, port);
}

const tunnel = (i: number): TunnelInfo => ({
  id: i,
  target: { host: `host-${i}.example`, port: 443, kind: 'domain' },
  targetAddress: `${'t'.repeat(180)}-${i}.example:443`,
  sourceId: 'direct',
  protocol: 'socks5',
  client: '127.0.0.1:1',
  openedAt: Date.now(),
  bytesUp: 0,
  bytesDown: 0,
});

describe('monitor stream: a client that stops reading is dropped at limits.maxLinkBufferBytes', function () {
  this.timeout(120_000);
  let node: BoosterNode;
  const log = capturingLogger();

  before(async () => {
    const settings = resolveSettings(
      {
        bind: '127.0.0.1',
        pport: 0,
        bport: 0,
        drainTimeoutMs: 200,
        discovery: { announce: false, autoConnect: false },
        dataDir: fs.mkdtempSync(path.join(TEST_BOOSTER_HOME, 'node-')),
      },
      { limits: { ...DEFAULT_LIMITS, maxLinkBufferBytes: LIMIT } },
    );
    node = await BoosterNode.start({ settings, logger: log, plugins: await builtinPlugins(), key: TEST_KEY });
  });
  after(async () => {
    await node?.stop();
  });

  const clients: [string, () => Promise<MonitorClient>][] = [
    ['a local client (plain TCP)', () => localClient(node.endpointAddress.port)],
    ['a CLI that proved the key (TLS)', () => cliClient(node)],
  ];
  for (const [who, open] of clients)
    it(`${who}: the stalled one is dropped with a log line, the node's memory stays bounded, another client keeps its stream`, async () => {
      log.lines.length = 0;
      const stalled = await open();
      const reader = await open();
      stalled.stream.pause();

      const before = retainedBytes();
      let most = 0;
      let droppedAt = -1;
      const dropLine = () => log.lines.find((l) => l.includes(`:${stalled.port} is not reading`));
      for (let i = 0; i < EVENTS; i += BATCH) {
        for (let j = i; j < i + BATCH; j++) node.events.tunnelOpened.fire(tunnel(j));
        // Let both sockets move: the reader reads, the stalled one fills the kernel's buffers, then ours.
        await new Promise((resolve) => setImmediate(resolve));
        if (droppedAt < 0 && dropLine()) droppedAt = i + BATCH;
        if ((i / BATCH) % 100 === 99) most = Math.max(most, retainedBytes() - before);
      }
      // Every event is about 230 bytes: without the bound, the stalled client's queue alone would hold tens of MB.
      const line = dropLine();
      console.log(
        `      [figure] ${EVENTS} events (~${Math.round((EVENTS * 230) / 1e6)} MB of ProxyUpdates per client); stalled client dropped after ${droppedAt} events; peak retained growth (after GC) ${(most / 1e6).toFixed(1)} MB; ${line ?? 'no drop'}`,
      );
      // The clients live in this process too (a paused TLS client still buffers some of what it is sent), so
      // the bound is loose; without limits.maxLinkBufferBytes the same run retains about 200 MB.
      expect(most).to.be.lessThan(32e6);
      expect(line, 'the node never dropped the stalled client').to.be.a('string');
      const queued = Number(/: (\d+) bytes queued/.exec(line!)![1]);
      expect(queued).to.be.within(1, LIMIT);
      expect(line).to.match(/\(limits\.maxLinkBufferBytes 1048576\); dropping the link$/);
      expect(droppedAt).to.be.lessThan(EVENTS);

      // The reading client got every event and is still served; only the stalled one was dropped.
      const until = Date.now() + 10_000;
      while (reader.proxyUpdates() < EVENTS && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(reader.proxyUpdates()).to.equal(EVENTS);
      expect(log.lines.filter((l) => l.includes('is not reading'))).to.have.length(1);
      node.events.tunnelOpened.fire(tunnel(EVENTS));
      while (reader.proxyUpdates() < EVENTS + 1 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(reader.proxyUpdates()).to.equal(EVENTS + 1);
      expect(reader.link.isClosed).to.equal(false);

      // Once it reads again, the stalled client finds its link closed by the node.
      stalled.stream.resume();
      expect(await stalled.closed).to.match(/closed by the other side|stream error|truncated stream/);
      reader.link.close();
    });
});
