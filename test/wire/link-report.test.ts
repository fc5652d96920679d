import { expect } from 'chai';
import * as net from 'node:net';
import { ProtocolLink, type WireMessage } from '../../src/network/link/protocol';
import {
  BOOSTER_EXTENSION,
  decodeMessage,
  encodeMessage,
  encodePacket,
  Encoding,
  fitLinkReport,
  MAX_LINK_ID_BYTES,
  MAX_REPORTED_LINKS,
  MessageId,
  PacketDecoder,
  readLinkReport,
  WireError,
  type ReportedLink,
} from '../../src/wire';
import { internal } from '../../src/wire/generated/booster';

/** A LinkReport packet as any sender could frame it (no checks on our side). */
function linkReportPacket(links: object[]): Buffer {
  return encodeMessage(MessageId.LINK_REPORT, { links }, { extensions: [BOOSTER_EXTENSION] });
}

function decodeOne(buf: Buffer): ReturnType<typeof decodeMessage> {
  const [packet] = new PacketDecoder().push(buf);
  return decodeMessage(packet);
}

const link = (id: string, capacity = 1_000_000, throughput = 10_000, kind = 'direct') => ({ id, kind, capacity, throughput });

describe('LinkReport (booster.v1, message 107)', () => {
  it('is message id 107 with PayloadLinkReport{links: [Link{id, kind, capacity, throughput}]}', () => {
    expect(MessageId.LINK_REPORT).to.equal(107);
    const bytes = internal.PayloadLinkReport.encode({ links: [{ id: 'direct', kind: 'direct', capacity: 12_500_000, throughput: 3000 }] }).finish();
    // Field 1 (links), a nested message with fields 1..4 (string, string, int64, int64).
    expect(Buffer.from(bytes).toString('hex')).to.equal(
      '0a18' + '0a06' + Buffer.from('direct').toString('hex') + '1206' + Buffer.from('direct').toString('hex') + '18a0f8fa05' + '20b817',
    );
  });

  it('round-trips through encode and decode, int64 rates included', () => {
    const links: ReportedLink[] = [link('direct', 12_500_000, 2_000) as ReportedLink, link('if:usb0:192.168.42.10', 2 ** 40, 0, 'interface') as ReportedLink];
    const m = decodeOne(linkReportPacket(links));
    expect(m.header.id).to.equal(MessageId.LINK_REPORT);
    expect(m.header.extensions).to.deep.equal([BOOSTER_EXTENSION]);
    expect(readLinkReport(m.payload!)).to.deep.equal(links);
  });

  it('an empty report (no links) decodes to an empty list', () => {
    expect(readLinkReport(decodeOne(linkReportPacket([])).payload!)).to.deep.equal([]);
  });

  const bad: [string, object[], RegExp][] = [
    ['too many links', Array.from({ length: MAX_REPORTED_LINKS + 1 }, (_, i) => link(`if:eth${i}:10.0.0.${i}`)), /65 links, more than the 64 allowed/],
    ['an id over the cap', [link('x'.repeat(MAX_LINK_ID_BYTES + 1))], /129-byte id, longer than 128 bytes/],
    ['an empty id', [link('')], /link 0 has no id/],
    ['a duplicate id', [link('direct'), link('direct')], /lists link "direct" twice/],
    ['an unknown kind', [link('direct', 1, 1, 'peer')], /kind "peer" \(direct or interface\)/],
    ['a negative capacity', [link('direct', -5)], /capacity -5 \(a non-negative/],
    ['a negative throughput', [link('direct', 5, -1)], /throughput -1 \(a non-negative/],
    ['a rate beyond 2^53', [link('direct', 2 ** 60)], /capacity \d+ \(a non-negative/],
  ];
  for (const [what, links, error] of bad) {
    it(`rejects ${what} with a WireError that says why`, () => {
      const payload = decodeOne(linkReportPacket(links)).payload!;
      expect(() => readLinkReport(payload)).to.throw(WireError, error);
    });
  }

  it('fitLinkReport makes what we send pass the checks (cap, ids, whole non-negative rates)', () => {
    const many = Array.from({ length: 70 }, (_, i) => ({ id: `if:e${i}:10.0.0.${i}`, kind: 'interface' as const, capacity: 1.6, throughput: -3 }));
    const fitted = fitLinkReport([{ id: 'y'.repeat(200), kind: 'direct', capacity: 1, throughput: 1 }, ...many]);
    expect(fitted).to.have.length(MAX_REPORTED_LINKS);
    expect(fitted[0]).to.deep.equal({ id: 'if:e0:10.0.0.0', kind: 'interface', capacity: 2, throughput: 0 });
    expect(readLinkReport(decodeOne(linkReportPacket(fitted)).payload!)).to.deep.equal(fitted);
  });

  describe('on a link', () => {
    let server: net.Server;
    let sent: net.Socket;
    let received: ProtocolLink;
    beforeEach(async () => {
      const accepted = new Promise<net.Socket>((resolve) => {
        server = net.createServer(resolve);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      sent = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
      received = new ProtocolLink(await accepted, 'peer 127.0.0.1 (test)');
    });
    afterEach(() => {
      sent.destroy();
      received.close();
      server.close();
    });

    const messages = () => {
      const seen: WireMessage[] = [];
      received.onMessage((m) => seen.push(m));
      return seen;
    };

    it('arrives as a typed link-report message', async () => {
      const seen = messages();
      sent.write(linkReportPacket([link('direct', 1000, 10)]));
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).to.deep.equal([{ kind: 'link-report', links: [{ id: 'direct', kind: 'direct', capacity: 1000, throughput: 10 }] }]);
      expect(received.isClosed).to.equal(false);
    });

    it('an oversized report closes the link with the reason, and nothing is delivered', async () => {
      const seen = messages();
      const closed = new Promise<string>((r) => received.onClose(r));
      sent.write(linkReportPacket(Array.from({ length: 100 }, (_, i) => link(`l${i}`))));
      expect(await closed).to.equal('protocol error: LinkReport carries 100 links, more than the 64 allowed');
      expect(seen).to.deep.equal([]);
    });

    it('a payload that does not decode closes the link with the reason', async () => {
      const closed = new Promise<string>((r) => received.onClose(r));
      const header = internal.Header.encode({ id: MessageId.LINK_REPORT, modules: ['PA'], protocolVersion: '0.3', extensions: [BOOSTER_EXTENSION] }).finish();
      sent.write(
        encodePacket({
          encoding: Encoding.Protobuf,
          compression: 1,
          encryption: 1,
          modules: [
            { id: 'HE', payload: Buffer.from(header) },
            { id: 'PA', payload: Buffer.from([0x0a, 0x7f, 0x01]) },
          ],
        }),
      );
      expect(await closed).to.match(/^protocol error: LINK_REPORT payload does not decode/);
    });

    it('is never sent to a side that did not announce booster.v1', async () => {
      const seen = messages();
      const out = new ProtocolLink(sent, 'to a 0.3 node');
      out.sendLinkReport([link('direct', 1) as ReportedLink]);
      out.peerExtended = true;
      out.sendLinkReport([link('direct', 2) as ReportedLink]);
      await new Promise((r) => setTimeout(r, 50));
      expect(seen.map((m) => m.kind === 'link-report' && m.links[0].capacity)).to.deep.equal([2]);
    });
  });
});
