import { expect } from 'chai';
import { Duplex } from 'node:stream';
import { ProtocolLink } from '../../src/network/link/protocol';
import { BOOSTER_EXTENSION, encodeMessage, MessageId } from '../../src/wire';
import { capturingLogger } from './capturing-logger';

/** The other end of a link that never reads: every write stays queued in the stream. */
function stalledStream(): Duplex {
  return new Duplex({ read() {}, write() {} });
}

const node = { id: 'f'.repeat(40), baddr: '127.0.0.1:4884', paddr: '127.0.0.1:1080', active: true, tunnels: [{ target: 'example.com:443', copies: 1 }] };
const reply = { ok: true, policy: 'p2c', available: ['p2c'], rules: [], rulesOffset: 0, rulesTotal: 0, faults: {} };

/** Every way a link sends (each must go through the bounded queue). */
const SENDERS: [string, (l: ProtocolLink) => void][] = [
  ['hello', (l) => l.sendHello(4884, 1080)],
  ['connect', (l) => l.sendConnect('example.com:4884')],
  ['heartbeat', (l) => l.sendHeartbeat({ hops: 1, ttl: Date.now() })],
  ['node status', (l) => l.sendNodeStatus(node)],
  ['proxy update', (l) => l.sendProxyUpdate('example.com:443', 'added', node.id)],
  ['result', (l) => l.sendResult(0, 'ok')],
  ['control request', (l) => l.sendControl({ op: 'status' })],
  ['control reply', (l) => l.sendControlReply(reply)],
  ['source health', (l) => l.sendSourceHealth({ id: 'direct', kind: 'direct', label: 'direct', health: 'ejected', reason: 'dials failed' })],
  ['link report', (l) => l.sendLinkReport([{ id: 'direct', kind: 'direct', capacity: 1, throughput: 1 }])],
  ['node status (JSON)', (l) => l.sendNodeStatusJson(node)],
  ['proxy update (JSON)', (l) => l.sendProxyUpdateJson(node.id, 'example.com:443', 'removed')],
  ['network update (JSON)', (l) => l.sendNetworkUpdateJson(node.id, 'added', node)],
  ['bandwidth (JSON)', (l) => l.sendBandwidthJson(node.id, 'download', 1000, 10)],
];

describe('ProtocolLink: bounded send queue and received-field limits', () => {
  for (const [name, send] of SENDERS) {
    it(`${name}: a side that does not read is dropped before the queue passes maxBufferBytes`, async () => {
      const stream = stalledStream();
      const log = capturingLogger();
      const link = new ProtocolLink(stream, 'stalled client', log, { maxBufferBytes: 2000 });
      link.peerExtended = true;
      const closed = new Promise<string>((resolve) => link.onClose(resolve));
      let most = 0;
      let sends = 0;
      while (!link.isClosed && sends < 10_000) {
        send(link);
        sends++;
        if (!stream.destroyed) most = Math.max(most, stream.writableLength);
      }
      expect(link.isClosed, `still open after ${sends} sends`).to.equal(true);
      expect(most).to.be.within(1, 2000);
      expect(await closed).to.equal('not reading (send buffer full)');
      expect(log.lines.filter((l) => l.startsWith('warn stalled client is not reading'))).to.have.length(1);
      expect(log.lines[0]).to.match(/^warn stalled client is not reading: \d+ bytes queued \(limits\.maxLinkBufferBytes 2000\); dropping the link$/);
      // Nothing more is queued, whatever is sent after the drop.
      send(link);
      expect(stream.destroyed).to.equal(true);
    });
  }

  it('takes one packet bigger than the limit into an empty queue (a reply never wedges), then drops on the next', () => {
    const stream = stalledStream();
    const link = new ProtocolLink(stream, 'stalled client', capturingLogger(), { maxBufferBytes: 100 });
    link.sendNodeStatusJson({ ...node, tunnels: Array.from({ length: 10 }, (_, i) => ({ target: `host-${i}.example:443`, copies: 1 })) });
    expect(stream.writableLength).to.be.greaterThan(100);
    expect(link.isClosed).to.equal(false);
    link.sendResult(0, 'x');
    link.peerExtended = true;
    link.sendResult(0, 'x');
    expect(link.isClosed).to.equal(true);
  });

  it('a reading side is never dropped, however much is sent', async () => {
    const received: Buffer[] = [];
    const stream = new Duplex({
      read() {},
      write(chunk: Buffer, _e, cb) {
        received.push(chunk);
        cb();
      },
    });
    const link = new ProtocolLink(stream, 'reader', capturingLogger(), { maxBufferBytes: 2000 });
    for (let i = 0; i < 2000; i++) link.sendNodeStatusJson(node);
    expect(link.isClosed).to.equal(false);
    expect(received).to.have.length(2000);
  });

  it('closes the link, logging why, on a received string longer than maxStringBytes (and takes one at the limit)', async () => {
    const stream = stalledStream();
    const log = capturingLogger();
    const link = new ProtocolLink(stream, 'chatty peer', log, { maxStringBytes: 64 });
    const got: string[] = [];
    link.onMessage((m) => got.push(m.kind === 'connect' ? m.target : m.kind));
    const closed = new Promise<string>((resolve) => link.onClose(resolve));
    stream.push(encodeMessage(MessageId.CONNECT, { target: 'a'.repeat(64) }, { extensions: [BOOSTER_EXTENSION] }));
    stream.push(encodeMessage(MessageId.CONNECT, { target: 'b'.repeat(65) }, { extensions: [BOOSTER_EXTENSION] }));
    expect(await closed).to.equal('protocol error: CONNECT.target is a 65-byte string, longer than the 64 bytes a link accepts in one field');
    expect(got).to.deep.equal(['a'.repeat(64)]);
    expect(log.lines).to.deep.equal([
      'warn chatty peer sent a bad packet: CONNECT.target is a 65-byte string, longer than the 64 bytes a link accepts in one field; closing the link',
    ]);
  });

  it('closes the link on an unknown enum value in a field the link reads itself (ProxyUpdate operation)', async () => {
    const stream = stalledStream();
    const log = capturingLogger();
    const link = new ProtocolLink(stream, 'odd node', log);
    const closed = new Promise<string>((resolve) => link.onClose(resolve));
    stream.push(encodeMessage(MessageId.PROXY_UPDATE, { target: 'a:1', operation: 5, nodeID: 'n' }));
    expect(await closed).to.equal('protocol error: operation must be 1 (added) or 2 (removed), got 5');
  });
});
