import { expect } from 'chai';
import * as fs from 'node:fs';
import { internal } from '../../src/wire/generated/booster';
import {
  decodeMessage,
  encodeJsonMessage,
  encodeMessage,
  Encoding,
  MessageId,
  nodeId,
  PacketDecoder,
  tunnelId,
  bandwidthJson,
  networkUpdateJson,
  nodeStatusJson,
  proxyUpdateJson,
  type Packet,
} from '../../src/wire';
import { loadVectors, VECTORS_DIR, type VectorSpec } from './vectors';

const vectors = loadVectors();

function decodeAll(bytes: Buffer, chunks: number[]): Packet[] {
  const d = new PacketDecoder();
  const out: Packet[] = [];
  let at = 0;
  for (const n of chunks) {
    out.push(...d.push(bytes.subarray(at, at + n)));
    at += n;
  }
  out.push(...d.push(bytes.subarray(at)));
  d.end();
  return out;
}

function expectFields(v: VectorSpec, payload: Record<string, unknown> | undefined): void {
  for (const [name, want] of Object.entries(v.fields)) {
    const got = payload?.[name];
    if (name === 'ttl') {
      expect(got, `${v.file} ${name}`).to.deep.equal(want);
    } else if (Array.isArray(want) && want.length === 0) {
      expect(got ?? [], `${v.file} ${name}`).to.deep.equal([]);
    } else {
      expect(got, `${v.file} ${name}`).to.deep.equal(want);
    }
  }
}

describe('Booster Protocol 0.3 conformance (test/vectors)', () => {
  it('covers every vector file', () => {
    const files = fs
      .readdirSync(VECTORS_DIR)
      .filter((f) => f.endsWith('.hex'))
      .sort();
    expect(vectors.map((v) => v.file).sort()).to.deep.equal(files);
    expect(files.length).to.be.greaterThan(30);
  });

  for (const v of vectors) {
    describe(v.file, () => {
      it('decodes to the fields its README lists', () => {
        expect(v.bytes.length).to.equal(v.length);
        const [packet, ...rest] = decodeAll(v.bytes, []);
        expect(rest).to.have.length(0);
        expect(packet.encoding).to.equal(v.encoding);
        expect(packet.compression).to.equal(v.compression);
        expect(packet.encryption).to.equal(v.encryption);
        expect(packet.modules.map((m) => ({ id: m.id, size: m.payload.length }))).to.deep.equal(v.order);
        const m = decodeMessage(packet);
        expect(m.header.id).to.equal(v.messageId);
        if (v.header) {
          const raw = internal.Header.decode(packet.modules.find((x) => x.id === 'HE')!.payload);
          expect(raw.id).to.equal(v.header.id);
          expect(raw.modules).to.deep.equal(v.header.modules);
          expect(Number(raw.sentAt?.seconds)).to.equal(v.header.seconds);
          expect(raw.sentAt?.nanos).to.equal(v.header.nanos);
          expect(raw.protocolVersion).to.equal(v.header.version);
          expect(m.header.sentAt).to.equal(v.header.seconds * 1000 + Math.floor(v.header.nanos / 1e6));
        }
        if (v.jsonHeader !== undefined) expect(m.header.id).to.equal(v.jsonHeader);
        if (v.jsonText) {
          expect(packet.modules.find((x) => x.id === 'PA')!.payload.toString('utf8')).to.equal(v.jsonText);
          expect(m.payload).to.deep.equal(JSON.parse(v.jsonText));
        } else {
          expectFields(v, m.payload);
        }
      });

      it('decodes the same when the bytes arrive one at a time and in random splits', () => {
        const whole = decodeMessage(decodeAll(v.bytes, [])[0]);
        const bytewise = decodeAll(
          v.bytes,
          Array.from({ length: v.bytes.length - 1 }, () => 1),
        );
        expect(bytewise).to.have.length(1);
        expect(decodeMessage(bytewise[0])).to.deep.equal(whole);
        for (let trial = 0; trial < 5; trial++) {
          const splits: number[] = [];
          let left = v.bytes.length;
          while (left > 0) {
            const n = 1 + Math.floor(Math.random() * Math.min(left, 20));
            splits.push(n);
            left -= n;
          }
          expect(decodeMessage(decodeAll(v.bytes, splits.slice(0, -1))[0])).to.deep.equal(whole);
        }
      });

      it('re-encodes to a packet that decodes to the same fields', () => {
        const m = decodeMessage(decodeAll(v.bytes, [])[0]);
        if (m.encoding === Encoding.Protobuf) {
          const again = decodeMessage(decodeAll(encodeMessage(m.header.id, m.payload, { now: m.header.sentAt }), [])[0]);
          expect(again.header.id).to.equal(m.header.id);
          expect(again.header.sentAt).to.equal(m.header.sentAt);
          expect(again.header.modules).to.deep.equal(m.header.modules);
          expect(again.payload).to.deep.equal(m.payload);
        } else {
          const again = encodeJsonMessage(m.header.id, v.jsonText!);
          const heFirst = v.order[0].id === 'HE';
          if (heFirst) expect(again.equals(v.bytes), 'byte-identical').to.equal(true);
          expect(decodeMessage(decodeAll(again, [])[0])).to.deep.equal(m);
        }
      });
    });
  }

  it('reproduces 0.3 monitor JSON byte for byte from structured values', () => {
    const byFile = Object.fromEntries(vectors.map((v) => [v.file, v]));
    const pa = (f: string) => byFile[f].jsonText;
    const a = '94b26f87e004ec99f71f327388ee2b4547bb188e';
    const b = 'bb920fad7e153358a9459f57993bfef2090b6ca7';
    expect(
      nodeStatusJson({
        id: a,
        baddr: '127.0.0.1:4884',
        paddr: '127.0.0.1:1080',
        active: true,
        tunnels: [
          { target: '127.0.0.1:1081', copies: 2 },
          { target: '127.0.0.1:8001', copies: 1 },
        ],
      }),
    ).to.equal(pa('node-status-with-tunnels.json-encoding.hex'));
    expect(proxyUpdateJson(b, '127.0.0.1:8000', 1)).to.equal(pa('proxy-update-remote.json-encoding.hex'));
    expect(
      networkUpdateJson(a, 2, { id: b, baddr: '127.0.0.1:4885', paddr: '127.0.0.1:1081', active: false, tunnels: [{ target: '127.0.0.1:8001', copies: 3 }] }),
    ).to.equal(pa('network-update-removed-with-tunnels.json-encoding.hex'));
    expect(bandwidthJson(a, 'upload', 259, 86)).to.equal(pa('network-usage-update-upload.json-encoding.hex'));
    expect(
      encodeJsonMessage(MessageId.NETWORK_UPDATE, pa('network-update-added.json-encoding.hex')!).equals(byFile['network-update-added.json-encoding.hex'].bytes),
    ).to.equal(true);
  });

  it('computes node and tunnel ids as 0.3 does', () => {
    expect(nodeId('localhost', 4884, 1080)).to.equal('94b26f87e004ec99f71f327388ee2b4547bb188e');
    expect(nodeId('localhost', 4885, 1081)).to.equal('256d393404b21257e343377a7ada7487bf2494dc');
    expect(nodeId('127.0.0.1', 4885, 1081)).to.equal('bb920fad7e153358a9459f57993bfef2090b6ca7');
    expect(nodeId('127.0.0.1', 4884, 1080)).to.equal('c977c118a54c8f51aaed767a202ead98b040e8c2');
    expect(tunnelId('127.0.0.1:8001')).to.equal('cbcebef432113d7e6cebb698d39a7c2ca43d3b36');
  });
});
