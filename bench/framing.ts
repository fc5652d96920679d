/**
 * Cost of decoding one large packet dribbled in 4 KiB reads (as TCP delivers
 * it): a 1 MiB packet, and the largest the protocol allows (255 modules of
 * 65535 bytes, 16,713,474 bytes, just under 16 MiB) with the cap raised.
 * Reports the median time of 7 runs and the bytes copied by the decoder.
 *
 *   npm run build && node dist/bench/framing.js
 */
import { encodePacket, Encoding, PacketDecoder, type Module } from '../src/wire';

const CHUNK = 4096;

/** A packet of exactly `total` bytes, in modules of up to 65535 bytes. */
function packetOf(total: number): Buffer {
  const modules: Module[] = [];
  for (let left = total - 9, i = 0; left > 0; i++) {
    const size = Math.min(65535, left - 8);
    modules.push({ id: String.fromCharCode(0x21 + (i >> 4), 0x41 + (i & 15)), payload: Buffer.alloc(size, i) });
    left -= 8 + size;
  }
  return encodePacket({ encoding: Encoding.Protobuf, compression: 1, encryption: 1, modules });
}

function dribble(packet: Buffer): void {
  const d = new PacketDecoder({ maxPacketBytes: packet.length });
  let packets = 0;
  for (let at = 0; at < packet.length; at += CHUNK) packets += d.push(packet.subarray(at, at + CHUNK)).length;
  if (packets !== 1) throw new Error(`expected one packet, decoded ${packets}`);
}

/** Bytes copied through the public copy paths (Buffer.concat/from/copy, Uint8Array#set) while `run` runs. */
function bytesCopiedBy(run: () => void): number {
  let copied = 0;
  const concat = Buffer.concat;
  const from = Buffer.from;
  const copy = Buffer.prototype.copy;
  const set = Uint8Array.prototype.set;
  Buffer.concat = function (...args: Parameters<typeof concat>) {
    const out = concat.apply(Buffer, args);
    copied += out.length;
    return out;
  };
  Buffer.from = function (this: unknown, ...args: unknown[]) {
    const out = (from as (...a: unknown[]) => Buffer).apply(Buffer, args);
    if (ArrayBuffer.isView(args[0])) copied += out.length;
    return out;
  } as typeof from;
  Buffer.prototype.copy = function (this: Buffer, ...args: Parameters<typeof copy>) {
    const n = copy.apply(this, args);
    copied += n;
    return n;
  };
  Uint8Array.prototype.set = function (this: Uint8Array, source: ArrayLike<number>, offset?: number) {
    copied += source.length;
    return set.call(this, source, offset);
  };
  try {
    run();
  } finally {
    Object.assign(Buffer, { concat, from });
    Buffer.prototype.copy = copy;
    Uint8Array.prototype.set = set;
  }
  return copied;
}

function medianMs(run: () => void): number {
  run(); // warm up
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const started = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times.sort((a, b) => a - b)[3];
}

const cases: [string, Buffer][] = [
  ['1 MiB packet', packetOf(1024 * 1024)],
  ['largest legal packet (255 × 65535)', packetOf(255 * (65535 + 8) + 9)],
];
console.log(`PacketDecoder, ${CHUNK}-byte reads, Node ${process.version}`);
for (const [name, packet] of cases) {
  const ms = medianMs(() => dribble(packet));
  const copied = bytesCopiedBy(() => dribble(packet));
  const mbps = packet.length / 1e6 / (ms / 1000);
  console.log(
    `${name}: ${packet.length} bytes in ${Math.ceil(packet.length / CHUNK)} reads: ${ms.toFixed(2)} ms (${mbps.toFixed(0)} MB/s), ${copied} bytes copied (${(copied / packet.length).toFixed(3)}× the packet)`,
  );
}
