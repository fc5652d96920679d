import { expect } from 'chai';
import fc from 'fast-check';
import * as sinon from 'sinon';
import { DEFAULT_MAX_PACKET_BYTES, encodePacket, Encoding, PacketDecoder, WireError, type Packet } from '../../src/wire';

/** A packet of exactly `total` bytes: HE of 10 bytes, then PA (and PB, PC, ... past 64 KiB) filling the rest. */
function packetOfSize(total: number): Buffer {
  const modules = [{ id: 'HE', payload: Buffer.alloc(10, 0x68) }];
  let left = total - 8 - 1 - (8 + 10);
  for (let i = 0; left > 0; i++) {
    const size = Math.min(65535, left - 8);
    if (size < 1) throw new Error(`cannot build a packet of exactly ${total} bytes`);
    modules.push({ id: `P${String.fromCharCode(0x41 + i)}`, payload: Buffer.alloc(size, 0x70) });
    left -= 8 + size;
  }
  return encodePacket({ encoding: Encoding.Protobuf, compression: 1, encryption: 1, modules });
}

/** The largest packet the protocol allows: 255 modules of 65535 bytes (about 16.7 MB). */
function largestPacket(): Buffer {
  const modules = Array.from({ length: 255 }, (_, i) => ({
    id: `${String.fromCharCode(0x21 + Math.floor(i / 16))}${(i % 16).toString(16)}`,
    payload: Buffer.alloc(65535, i),
  }));
  return encodePacket({ encoding: Encoding.Protobuf, compression: 1, encryption: 1, modules });
}

/** Feeds `bytes` in chunks of `step`; returns the packets, or the error with how many bytes had been pushed. */
function dribble(d: PacketDecoder, bytes: Buffer, step: number): { packets: Packet[]; error?: Error; pushed: number } {
  const packets: Packet[] = [];
  let pushed = 0;
  try {
    for (let at = 0; at < bytes.length; at += step) {
      const chunk = bytes.subarray(at, at + step);
      pushed += chunk.length;
      packets.push(...d.push(chunk));
    }
    return { packets, pushed };
  } catch (error) {
    return { packets, error: error as Error, pushed };
  }
}

describe('packet framing limits', () => {
  it('accepts 1 MiB by default and refuses a limit below the smallest packet', () => {
    expect(new PacketDecoder().maxPacketBytes).to.equal(DEFAULT_MAX_PACKET_BYTES).and.equal(1048576);
    expect(new PacketDecoder({ maxPacketBytes: 4096 }).maxPacketBytes).to.equal(4096);
    expect(() => new PacketDecoder({ maxPacketBytes: 17 })).to.throw(RangeError, /at least 18/);
    expect(() => {
      new PacketDecoder().maxPacketBytes = 1.5;
    }).to.throw(RangeError, /integer/);
    expect(new PacketDecoder({ maxPacketBytes: Infinity }).maxPacketBytes).to.equal(Infinity);
  });

  it('accepts a packet of exactly the limit', () => {
    const d = new PacketDecoder({ maxPacketBytes: 4096 });
    const bytes = packetOfSize(4096);
    expect(bytes.length).to.equal(4096);
    const [packet] = d.push(bytes);
    expect(packet.modules[1].payload.length).to.equal(4096 - 25 - 10);
    expect(d.pending).to.equal(0);
  });

  it('refuses a packet one byte over the limit, as soon as its module declares the size', () => {
    const d = new PacketDecoder({ maxPacketBytes: 4096 });
    const bytes = packetOfSize(4097);
    const paHeadEnd = 8 + (8 + 10) + 7;
    expect(d.push(bytes.subarray(0, paHeadEnd - 1))).to.deep.equal([]);
    expect(() => d.push(bytes.subarray(paHeadEnd - 1, paHeadEnd))).to.throw(
      WireError,
      'packet exceeds the 4096-byte limit for this link (module PA declares 4062 bytes)',
    );
  });

  it('fails before the declared bytes arrive, with the sizes in the message', () => {
    const d = new PacketDecoder({ maxPacketBytes: 4096 });
    const bytes = encodePacket({
      encoding: 1,
      compression: 1,
      encryption: 1,
      modules: [
        { id: 'HE', payload: Buffer.alloc(10) },
        { id: 'PA', payload: Buffer.alloc(60000) },
      ],
    });
    const { error, pushed } = dribble(d, bytes, 1);
    expect(error).to.be.instanceOf(WireError);
    expect(error!.message).to.equal('packet exceeds the 4096-byte limit for this link (module PA declares 60000 bytes)');
    expect(pushed).to.equal(8 + 18 + 7);
  });

  it('refuses a module count that cannot fit the limit, at the prefix', () => {
    const d = new PacketDecoder({ maxPacketBytes: 1024 });
    expect(() => d.push(Buffer.from([0x3e, 1, 0x3a, 1, 0x3a, 1, 0x3a, 255]))).to.throw(
      WireError,
      'packet exceeds the 1024-byte limit for this link (it declares 255 modules, at least 2304 bytes)',
    );
  });

  it('applies a raised or lowered limit from the next packet on', () => {
    const d = new PacketDecoder({ maxPacketBytes: 4096 });
    expect(d.push(packetOfSize(3000))).to.have.length(1);
    d.maxPacketBytes = 1024 * 1024;
    const big = packetOfSize(100_000);
    expect(dribble(d, big, 4096).packets).to.have.length(1);
    d.maxPacketBytes = 4096;
    expect(d.push(packetOfSize(4096))).to.have.length(1);
    expect(() => d.push(packetOfSize(5000))).to.throw(WireError, /exceeds the 4096-byte limit/);
  });

  it('refuses a 16.7 MB packet sent in 4 KiB chunks after at most 1 MiB, holding less than that', () => {
    const bytes = largestPacket();
    expect(bytes.length).to.equal(255 * 65543 + 9);
    const d = new PacketDecoder({ maxPacketBytes: DEFAULT_MAX_PACKET_BYTES });
    const { error, pushed } = dribble(d, bytes, 4096);
    expect(error).to.be.instanceOf(WireError);
    expect(error!.message).to.match(/^packet exceeds the 1048576-byte limit for this link \(module .. declares 65535 bytes\)$/);
    expect(pushed).to.be.at.most(DEFAULT_MAX_PACKET_BYTES);
    expect(d.pending).to.be.at.most(DEFAULT_MAX_PACKET_BYTES);
  });

  it('decodes the largest legal packet once the limit allows it', () => {
    const bytes = largestPacket();
    const d = new PacketDecoder({ maxPacketBytes: bytes.length });
    const { packets, error } = dribble(d, bytes, 4096);
    expect(error).to.equal(undefined);
    expect(packets).to.have.length(1);
    expect(packets[0].modules).to.have.length(255);
    expect(packets[0].modules[254].payload.equals(Buffer.alloc(65535, 254))).to.equal(true);
  });

  it('property: a packet decodes if and only if it fits the limit, however it is cut', () => {
    const moduleArb = fc.record({ id: fc.constantFrom('HE', 'PA', 'XY'), payload: fc.integer({ min: 1, max: 3000 }).map((n) => Buffer.alloc(n, 0x3c)) });
    fc.assert(
      fc.property(
        fc.uniqueArray(moduleArb, { minLength: 1, maxLength: 3, selector: (m) => m.id }),
        fc.integer({ min: 18, max: 9100 }),
        fc.integer({ min: 1, max: 700 }),
        (modules, limit, step) => {
          const bytes = encodePacket({ encoding: 1, compression: 1, encryption: 1, modules });
          const d = new PacketDecoder({ maxPacketBytes: limit });
          const { packets, error } = dribble(d, bytes, step);
          if (bytes.length <= limit) {
            expect(error).to.equal(undefined);
            expect(packets).to.have.length(1);
          } else {
            expect(error).to.be.instanceOf(WireError);
            expect(error!.message).to.contain(`exceeds the ${limit}-byte limit`);
          }
          expect(d.pending).to.be.at.most(limit);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('packet framing cost', () => {
  const copyPaths = () =>
    [sinon.spy(Buffer, 'concat'), sinon.spy(Buffer, 'from'), sinon.spy(Buffer.prototype, 'copy'), sinon.spy(Uint8Array.prototype, 'set')] as const;

  /** Bytes copied by the public Buffer / Uint8Array copy paths while `run` runs. */
  function bytesCopiedBy(run: () => void): number {
    const [concat, from, copy, set] = copyPaths();
    try {
      run();
    } finally {
      sinon.restore();
    }
    const length = (v: unknown) => (ArrayBuffer.isView(v) ? v.byteLength : 0);
    return (
      concat.returnValues.reduce((n, b) => n + b.length, 0) +
      from.getCalls().reduce((n, c) => n + (ArrayBuffer.isView(c.args[0]) ? c.returnValue.length : 0), 0) +
      copy.returnValues.reduce((n, b) => n + b, 0) +
      set.getCalls().reduce((n, c) => n + length(c.args[0]), 0)
    );
  }

  it('copies a 1 MiB packet dribbled in 1 KiB chunks less than 3 times over (linear, not quadratic)', () => {
    const bytes = packetOfSize(1024 * 1024);
    const d = new PacketDecoder({ maxPacketBytes: bytes.length });
    let packets: Packet[] = [];
    const copied = bytesCopiedBy(() => {
      packets = dribble(d, bytes, 1024).packets;
    });
    expect(packets).to.have.length(1);
    expect(encodePacket(packets[0]).equals(bytes)).to.equal(true);
    expect(copied).to.be.at.least(bytes.length - 100, 'the spies see the payload copy');
    expect(copied).to.be.below(3 * bytes.length);
  });

  it('hands out payloads that do not share memory with the chunk they arrived in', () => {
    const chunk = Buffer.concat([packetOfSize(200_000), packetOfSize(100)]);
    const packets = new PacketDecoder().push(chunk);
    expect(packets).to.have.length(2);
    for (const p of packets) for (const m of p.modules) expect(m.payload.buffer).to.not.equal(chunk.buffer);
    chunk.fill(0);
    expect(packets[0].modules[1].payload[0]).to.equal(0x70);
  });
});
