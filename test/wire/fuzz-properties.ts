/**
 * Fuzz properties of the wire path (framing → message decoding → typed
 * messages on a link), shared by test/wire/fuzz.test.ts (a few thousand cases)
 * and bench/fuzz.ts (100,000 and more). Inputs are random bytes, real 0.3
 * vectors mutated (bit flips, truncation, splicing, duplicated, dropped or
 * reordered modules, changed size and count fields), and well-framed packets
 * carrying random headers and payloads, all cut at random points.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duplex } from 'node:stream';
import { Writer } from 'protobufjs/minimal';
import { ProtocolLink, type WireMessage } from '../../src/network/link/protocol';
import { internal } from '../../src/wire/generated/booster';
import { decodeMessage, encodePacket, MessageId, PacketDecoder, WireError, type Module, type Packet } from '../../src/wire';
import { VECTORS } from '../helpers/paths';

/** Cases per property: FUZZ_RUNS if set, else the caller's default. */
export function fuzzRuns(fallback: number): number {
  const runs = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(runs) && runs > 0 ? runs : fallback;
}

export const vectors: readonly Buffer[] = fs
  .readdirSync(VECTORS)
  .filter((f) => f.endsWith('.hex'))
  .sort()
  .map((f) => Buffer.from(fs.readFileSync(path.join(VECTORS, f), 'utf8').trim(), 'hex'));

const MESSAGE_IDS = Object.values(MessageId).filter((v): v is number => typeof v === 'number');

// ---- inputs ----

const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));

/** Changes applied to a whole packet, before any byte-level damage. */
const structuralChange = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('duplicate' as const), module: fc.nat() }),
  fc.record({ kind: fc.constant('drop' as const), module: fc.nat() }),
  fc.constant({ kind: 'reverse' as const }),
  fc.record({ kind: fc.constant('rename' as const), module: fc.nat(), id: fc.constantFrom('HE', 'PA', 'XY', '\0\0', '[]') }),
);

const byteDamage = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set-byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), other: fc.nat(), from: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), inserted: bytes(8) }),
  fc.record({ kind: fc.constant('set-size' as const), module: fc.nat(), size: fc.integer({ min: 0, max: 65535 }) }),
  fc.record({ kind: fc.constant('set-count' as const), count: fc.integer({ min: 0, max: 255 }) }),
);

type StructuralChange = typeof structuralChange extends fc.Arbitrary<infer T> ? T : never;
type ByteDamage = typeof byteDamage extends fc.Arbitrary<infer T> ? T : never;

function modulesOf(packet: Buffer): Module[] {
  return new PacketDecoder().push(packet)[0].modules.map((m) => ({ ...m }));
}

function restructure(vector: Buffer, change: StructuralChange): Buffer {
  if (change.kind === 'none') return vector;
  const modules = modulesOf(vector);
  const pick = (i: number) => i % modules.length;
  if (change.kind === 'duplicate') modules.splice(pick(change.module), 0, modules[pick(change.module)]);
  if (change.kind === 'drop' && modules.length > 1) modules.splice(pick(change.module), 1);
  if (change.kind === 'reverse') modules.reverse();
  if (change.kind === 'rename') modules[pick(change.module)] = { ...modules[pick(change.module)], id: change.id };
  return encodePacket({ encoding: vector[1], compression: vector[3], encryption: vector[5], modules });
}

/** Offsets of the module heads ('[') of a well-framed packet. */
function moduleHeads(packet: Buffer): number[] {
  const heads: number[] = [];
  for (let at = 8, i = 0; i < packet[7] && at + 7 <= packet.length; i++) {
    heads.push(at);
    at += 8 + packet.readUInt16BE(at + 4);
  }
  return heads;
}

function damage(input: Buffer, d: ByteDamage): Buffer {
  const b = Buffer.from(input);
  if (b.length === 0) return b;
  const at = 'at' in d ? d.at % b.length : 0;
  switch (d.kind) {
    case 'flip':
      b[at] ^= 1 << d.bit;
      return b;
    case 'set-byte':
      b[at] = d.value;
      return b;
    case 'truncate':
      return b.subarray(0, at);
    case 'splice': {
      const other = vectors[d.other % vectors.length];
      return Buffer.concat([b.subarray(0, at), other.subarray(d.from % other.length)]);
    }
    case 'insert':
      return Buffer.concat([b.subarray(0, at), d.inserted, b.subarray(at)]);
    case 'set-size': {
      const heads = moduleHeads(b);
      if (heads.length > 0) b.writeUInt16BE(d.size, heads[d.module % heads.length] + 4);
      return b;
    }
    case 'set-count':
      if (b.length > 7) b[7] = d.count;
      return b;
  }
}

const mutatedVector = fc
  .record({
    vector: fc.nat({ max: vectors.length - 1 }),
    change: structuralChange,
    damage: fc.array(byteDamage, { maxLength: 3 }),
  })
  .map(({ vector, change, damage: steps }) => steps.reduce(damage, restructure(vectors[vector], change)));

/** Protobuf bytes of random fields (numbers 1..16, varint or length-delimited): decodes often, as anything. */
const randomProtobuf = fc
  .array(
    fc.oneof(
      fc.record({ field: fc.integer({ min: 1, max: 16 }), varint: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.nat()) }),
      fc.record({
        field: fc.integer({ min: 1, max: 16 }),
        bytes: fc.oneof(
          bytes(24),
          fc.string({ maxLength: 24 }).map((s) => Buffer.from(s)),
        ),
      }),
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((fields) => {
    const w = Writer.create();
    for (const f of fields) {
      if ('varint' in f) w.uint32((f.field << 3) | 0).uint32(f.varint);
      else w.uint32((f.field << 3) | 2).bytes(f.bytes);
    }
    return Buffer.from(w.finish());
  });

const messageId = fc.oneof({ arbitrary: fc.constantFrom(...MESSAGE_IDS), weight: 9 }, { arbitrary: fc.integer({ min: 0, max: 300 }), weight: 1 });

/** A well-framed protobuf packet with a valid header and a random payload. */
const protobufMessage = fc
  .record({
    id: messageId,
    extended: fc.boolean(),
    payload: fc.option(
      fc.oneof(
        randomProtobuf,
        bytes(40).filter((b) => b.length > 0),
      ),
      { nil: undefined },
    ),
  })
  .map(({ id, extended, payload }) => {
    const header = internal.Header.encode({
      id,
      modules: payload ? ['PA'] : [],
      sentAt: { seconds: 1_700_000_000, nanos: 0 },
      protocolVersion: '0.3',
      extensions: extended ? ['booster.v1'] : [],
    }).finish();
    const modules: Module[] = [{ id: 'HE', payload: Buffer.from(header) }];
    if (payload) modules.push({ id: 'PA', payload });
    return encodePacket({ encoding: 1, compression: 1, encryption: 1, modules });
  });

const JSON_KEYS = [
  'bport',
  'pport',
  'target',
  'id',
  'hops',
  'ttl',
  'feature',
  'operation',
  'tunnels',
  'copies',
  'nodeID',
  'node_id',
  'remoteNode',
  'remote_node',
  'data',
  'type',
  'tot',
  'bandwidth',
  'sender_id',
  'code',
  'message',
  'op',
  'policy',
  'rule',
  'index',
  'ok',
  'error',
  'available',
  'rules',
  'faults',
  'nonce',
  'role',
  'proof',
  'baddr',
  'paddr',
  'active',
];

/** A well-framed 0.3 JSON packet: the bare message id, and an object with the keys our mapping reads, holding anything. */
const jsonMessage = fc
  .record({
    id: messageId,
    payload: fc.oneof(
      fc.dictionary(fc.constantFrom(...JSON_KEYS), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }).map((o) => JSON.stringify(o)),
      fc.json({ maxDepth: 2 }),
    ),
  })
  .map(({ id, payload }) => {
    const pa = Buffer.from(payload.length > 0 ? payload : '{}');
    const modules: Module[] = [{ id: 'HE', payload: Buffer.from(String(id)) }];
    if (pa.length <= 65535) modules.push({ id: 'PA', payload: pa });
    return encodePacket({ encoding: 2, compression: 1, encryption: 1, modules });
  });

/** A framed-looking prefix followed by noise. */
const framedNoise = fc
  .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }), bytes(120))
  .map(([enc, count, rest]) => Buffer.concat([Buffer.from([0x3e, enc, 0x3a, 1, 0x3a, 1, 0x3a, count]), rest]));

const onePacketish = fc.oneof(
  { arbitrary: mutatedVector, weight: 5 },
  { arbitrary: protobufMessage, weight: 3 },
  { arbitrary: jsonMessage, weight: 3 },
  { arbitrary: fc.constantFrom(...vectors), weight: 1 },
  { arbitrary: framedNoise, weight: 1 },
  { arbitrary: bytes(200), weight: 1 },
);

/** What a peer might send on one link: one or a few packet-like byte runs back to back. */
export const wireInput = fc.array(onePacketish, { minLength: 1, maxLength: 3 }).map((parts) => Buffer.concat(parts));

/** Where the input is cut into reads: chunk sizes, repeated until the input is used up. */
export const cuts = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 12 });

export function chunksOf(input: Buffer, sizes: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < input.length; i++) {
    const n = sizes[i % sizes.length];
    chunks.push(input.subarray(at, at + n));
    at += n;
  }
  return chunks;
}

// ---- properties ----

type Outcome = { packets: Packet[]; error?: unknown };

function decodeAll(chunks: readonly Buffer[], maxPacketBytes: number): Outcome {
  const d = new PacketDecoder({ maxPacketBytes });
  const packets: Packet[] = [];
  try {
    for (const chunk of chunks) {
      for (const p of d.push(chunk)) {
        decodeMessage(p);
        packets.push(p);
      }
      expect(d.pending, 'bytes held for one unfinished packet').to.be.at.most(maxPacketBytes);
    }
    d.end();
    return { packets };
  } catch (error) {
    return { packets, error };
  }
}

const summary = (packets: Packet[]) =>
  packets.map((p) => [p.encoding, p.compression, p.encryption, p.modules.map((m) => `${m.id}:${m.payload.toString('hex')}`)]);

/**
 * Framing and message decoding: every input either decodes or fails with a
 * WireError (never another exception), the decoder never holds more than its
 * limit, and how the bytes are cut changes nothing.
 */
export const decoderProperty = fc.property(wireInput, cuts, fc.oneof(fc.constant(1024 * 1024), fc.integer({ min: 18, max: 600 })), (input, sizes, limit) => {
  const whole = decodeAll([input], limit);
  const cut = decodeAll(chunksOf(input, sizes), limit);
  for (const outcome of [whole, cut]) if (outcome.error !== undefined && !(outcome.error instanceof WireError)) throw outcome.error;
  expect(
    cut.error === undefined,
    `cut input ${cut.error === undefined ? 'decoded' : 'failed'}, whole input ${whole.error === undefined ? 'decoded' : 'failed'}`,
  ).to.equal(whole.error === undefined);
  if (whole.error === undefined) expect(summary(cut.packets)).to.deep.equal(summary(whole.packets));
});

export interface LinkOutcome {
  readonly messages: WireMessage[];
  readonly reason?: string;
}

/** Plays `chunks` to a ProtocolLink as the other side's bytes, then ends the stream; resolves once the stream has ended or closed. */
export async function playToLink(chunks: readonly Buffer[]): Promise<LinkOutcome> {
  const stream = new Duplex({
    read() {},
    write(_chunk, _encoding, done) {
      done();
    },
  });
  const link = new ProtocolLink(stream, 'fuzz peer');
  const messages: WireMessage[] = [];
  let reason: string | undefined;
  link.onMessage((m) => messages.push(m));
  link.onClose((r) => {
    reason = r;
  });
  const settled = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
  });
  // Once the link's 'data' listener has started the flow, each push is delivered
  // synchronously, so an exception escaping the link surfaces here, with its input.
  await new Promise(setImmediate);
  for (const chunk of chunks) {
    if (stream.destroyed) break;
    stream.push(chunk);
  }
  if (!stream.destroyed) stream.push(null);
  await settled;
  return { messages, reason };
}

/**
 * The typed mapping on a real link: the only outcomes are typed messages and
 * one close, "closed by the other side" when every packet was good, else a
 * protocol error; nothing escapes, and the link is closed once the stream is.
 * `observe` sees every outcome (the bench collects close reasons with it).
 */
export function linkPropertyWith(observe: (outcome: LinkOutcome, input: Buffer) => void = () => undefined) {
  return fc.asyncProperty(wireInput, cuts, async (input, sizes) => {
    const chunks = chunksOf(input, sizes);
    const outcome = await playToLink(chunks);
    const { messages, reason } = outcome;
    observe(outcome, input);
    expect(reason, 'the link reported its close by the time the stream ended').to.be.a('string');
    for (const m of messages) expect(m.kind).to.be.a('string').and.not.equal('');
    const reference = decodeAll(chunks, 1024 * 1024);
    if (reason === 'closed by the other side') {
      expect(reference.error, 'a clean close means every packet was good').to.equal(undefined);
      expect(messages).to.have.length(reference.packets.length);
    } else {
      expect(reason).to.match(/^protocol error: /);
      expect(messages.length).to.be.at.most(reference.packets.length);
    }
  });
}

export const linkProperty = linkPropertyWith();
