import { expect } from 'chai';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, encodePacket, Encoding, MessageId, PacketDecoder, WireError, type Module } from '../../src/wire';

const good = () =>
  encodePacket({
    encoding: Encoding.Protobuf,
    compression: 1,
    encryption: 1,
    modules: [
      { id: 'HE', payload: Buffer.from('abc') },
      { id: 'PA', payload: Buffer.from('<>[]:') },
    ],
  });

function decodeBytes(bytes: Buffer): unknown {
  const d = new PacketDecoder();
  const packets = d.push(bytes);
  d.end();
  return packets;
}

describe('packet framing', () => {
  it('decodes several packets in one chunk, and payloads containing tag bytes', () => {
    const d = new PacketDecoder();
    const packets = d.push(Buffer.concat([good(), good(), good().subarray(0, 5)]));
    expect(packets).to.have.length(2);
    expect(packets[0].modules[1].payload.toString()).to.equal('<>[]:');
    expect(d.pending).to.equal(5);
    expect(d.push(good().subarray(5))).to.have.length(1);
  });

  const bad: [string, Buffer, RegExp][] = [
    ['a wrong opening tag', Buffer.from('A1:1:1:1'), /bad packet tag 0x41 at offset 0, expected '>'/],
    ['an unknown encoding', Buffer.from([0x3e, 7, 0x3a, 1, 0x3a, 1, 0x3a, 1]), /unknown encoding 7/],
    ['unsupported compression', Buffer.from([0x3e, 1, 0x3a, 2, 0x3a, 1, 0x3a, 1]), /unsupported compression 2/],
    ['a bad separator', Buffer.from([0x3e, 1, 0x3b]), /bad separator 0x3b at offset 2/],
    ['zero modules', Buffer.from([0x3e, 1, 0x3a, 1, 0x3a, 1, 0x3a, 0]), /0 modules/],
    ['a module of size 0', Buffer.from([0x3e, 1, 0x3a, 1, 0x3a, 1, 0x3a, 1, 0x5b, 0x48, 0x45, 0x3a, 0, 0, 0x3a]), /size 0/],
    [
      'a module without its closing bracket',
      Buffer.concat([Buffer.from([0x3e, 1, 0x3a, 1, 0x3a, 1, 0x3a, 1, 0x5b, 0x48, 0x45, 0x3a, 0, 1, 0x3a, 0x41, 0x41])]),
      /does not end with '\]'/,
    ],
    ['a missing closing tag', Buffer.concat([good().subarray(0, -1), Buffer.from('x')]), /does not end with '<'/],
    [
      'a duplicate module',
      encodePacket({
        encoding: 1,
        compression: 1,
        encryption: 1,
        modules: [
          { id: 'HE', payload: Buffer.from('a') },
          { id: 'HE', payload: Buffer.from('b') },
        ],
      }),
      /duplicate module HE/,
    ],
    ['a lone ">" at the end of the stream', Buffer.concat([good(), Buffer.from('>')]), /truncated stream: 1 bytes/],
    ['a truncated packet', good().subarray(0, 12), /truncated stream: 12 bytes/],
  ];
  for (const [name, bytes, message] of bad) {
    it(`rejects ${name} with a clear WireError`, () => {
      expect(() => decodeBytes(bytes)).to.throw(WireError, message);
    });
  }

  it('refuses to encode an empty or oversized module', () => {
    expect(() => encodePacket({ encoding: 1, compression: 1, encryption: 1, modules: [{ id: 'HE', payload: Buffer.alloc(0) }] })).to.throw(WireError, /size 0/);
    expect(() => encodePacket({ encoding: 1, compression: 1, encryption: 1, modules: [{ id: 'HE', payload: Buffer.alloc(65536) }] })).to.throw(
      WireError,
      /size 65536/,
    );
  });

  it('property: any modules, encoded and cut anywhere, decode to the same modules', () => {
    const moduleArb = fc.record({
      id: fc.constantFrom('HE', 'PA', 'XY', 'Z1'),
      payload: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a)),
    });
    const packetArb = fc.uniqueArray(moduleArb, { minLength: 1, maxLength: 4, selector: (m) => m.id });
    fc.assert(
      fc.property(fc.array(packetArb, { minLength: 1, maxLength: 4 }), fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 50 }), (packets, cuts) => {
        const bytes = Buffer.concat(packets.map((modules) => encodePacket({ encoding: Encoding.Json, compression: 1, encryption: 1, modules })));
        const d = new PacketDecoder();
        const out = [];
        let at = 0;
        for (const n of cuts) {
          out.push(...d.push(bytes.subarray(at, at + n)));
          at = Math.min(bytes.length, at + n);
        }
        out.push(...d.push(bytes.subarray(at)));
        d.end();
        expect(out.map((p) => p.modules.map((m: Module) => ({ id: m.id, payload: m.payload.toString('hex') })))).to.deep.equal(
          packets.map((modules) => modules.map((m) => ({ id: m.id, payload: m.payload.toString('hex') }))),
        );
      }),
      { numRuns: 200 },
    );
  });
});

describe('message validation', () => {
  const decode = (buf: Buffer) => decodeMessage(new PacketDecoder().push(buf)[0]);

  it('rejects an unsupported protocol version', () => {
    const pkt = new PacketDecoder().push(encodeMessage(MessageId.HELLO, { bport: '1', pport: '2' }))[0];
    const { internal } = require('../../src/wire/generated/booster') as typeof import('../../src/wire/generated/booster');
    const header = internal.Header.encode({ id: 1, modules: ['PA'], protocolVersion: '9.9' }).finish();
    const forged = { ...pkt, modules: [{ id: 'HE', payload: Buffer.from(header) }, pkt.modules[1]] };
    expect(() => decodeMessage(forged)).to.throw(WireError, /unsupported protocol version "9.9"/);
  });

  it('rejects a header that lists a module the packet lacks', () => {
    const pkt = new PacketDecoder().push(encodeMessage(MessageId.HELLO, { bport: '1', pport: '2' }))[0];
    expect(() => decodeMessage({ ...pkt, modules: [pkt.modules[0]] })).to.throw(WireError, /lists module "PA" that the packet does not contain/);
  });

  it('rejects an unknown message id', () => {
    expect(() => decode(encodeMessage(42 as MessageId))).to.throw(WireError, /unknown message id 42/);
  });

  it('rejects a payload that is not protobuf', () => {
    const pkt = new PacketDecoder().push(encodeMessage(MessageId.CONNECT, { target: 'x:1' }))[0];
    expect(() => decodeMessage({ ...pkt, modules: [pkt.modules[0], { id: 'PA', payload: Buffer.from([0xff, 0xff, 0xff]) }] })).to.throw(
      WireError,
      /Connect payload does not decode|CONNECT payload does not decode/,
    );
  });

  it('keeps an all-default payload valid on the wire', () => {
    const m = decode(encodeMessage(MessageId.MONITOR, { feature: 0 }));
    expect(m.payload).to.deep.equal({ feature: 0 });
  });
});

describe('decoder robustness', () => {
  it('property: any bytes, in any chunks, either decode or fail with a WireError (never anything else)', () => {
    const hello = encodeMessage(MessageId.HELLO, { bport: '4884', pport: '1080' });
    const mutated = fc.tuple(fc.nat(hello.length - 1), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => {
      const b = Buffer.from(hello);
      b[at] = byte;
      return b;
    });
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
      mutated,
    );
    fc.assert(
      fc.property(bytes, fc.integer({ min: 1, max: 16 }), (input, step) => {
        const d = new PacketDecoder();
        try {
          for (let at = 0; at < input.length; at += step) for (const p of d.push(input.subarray(at, at + step))) decodeMessage(p);
          d.end();
        } catch (err) {
          expect(err).to.be.instanceOf(WireError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
