import { WireError } from './errors';

/** Packet encodings (PROTOCOL.md): 1 = protobuf, 2 = JSON. */
export enum Encoding {
  Protobuf = 1,
  Json = 2,
}

export interface Module {
  /** Two ASCII characters: "HE" header, "PA" payload. */
  readonly id: string;
  readonly payload: Buffer;
}

export interface Packet {
  readonly encoding: Encoding;
  /** 1 = none; 0.3 also sends 0 (unset), which means none. */
  readonly compression: number;
  readonly encryption: number;
  readonly modules: readonly Module[];
}

const OPEN = 0x3e; // >
const CLOSE = 0x3c; // <
const SEP = 0x3a; // :
const MOD_OPEN = 0x5b; // [
const MOD_CLOSE = 0x5d; // ]
const MAX_MODULES = 255;
const MAX_MODULE = 65535;

/** Encodes a packet as one buffer (one write on the wire). */
export function encodePacket(packet: Packet): Buffer {
  const { modules } = packet;
  if (modules.length < 1 || modules.length > MAX_MODULES) throw new WireError(`a packet carries 1 to ${MAX_MODULES} modules, not ${modules.length}`);
  let size = 9;
  for (const m of modules) {
    if (m.id.length !== 2) throw new WireError(`module id must be 2 characters, not "${m.id}"`);
    if (m.payload.length < 1 || m.payload.length > MAX_MODULE) throw new WireError(`module ${m.id} size ${m.payload.length} is outside 1..${MAX_MODULE}`);
    size += 8 + m.payload.length;
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = OPEN;
  out[1] = packet.encoding;
  out[2] = SEP;
  out[3] = packet.compression;
  out[4] = SEP;
  out[5] = packet.encryption;
  out[6] = SEP;
  out[7] = modules.length;
  let at = 8;
  for (const m of modules) {
    out[at] = MOD_OPEN;
    out.write(m.id, at + 1, 2, 'latin1');
    out[at + 3] = SEP;
    out.writeUInt16BE(m.payload.length, at + 4);
    out[at + 6] = SEP;
    m.payload.copy(out, at + 7);
    at += 7 + m.payload.length;
    out[at++] = MOD_CLOSE;
  }
  out[at] = CLOSE;
  return out;
}

/**
 * Streaming packet decoder: feed it chunks as they arrive (0.3 nodes write a
 * packet in many small segments); it returns every packet completed so far.
 * Any deviation from the framing throws a WireError (the stream is then
 * unusable: close it).
 */
export class PacketDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private consumed = 0;

  /** Bytes of an unfinished packet held back. */
  get pending(): number {
    return this.buf.length - this.consumed;
  }

  push(chunk: Buffer): Packet[] {
    this.buf = this.pending === 0 ? chunk : Buffer.concat([this.buf.subarray(this.consumed), chunk]);
    this.consumed = 0;
    const packets: Packet[] = [];
    for (;;) {
      const packet = this.tryParse();
      if (!packet) break;
      packets.push(packet);
    }
    return packets;
  }

  /** Call at end of stream: an unfinished packet there is an error. */
  end(): void {
    if (this.pending > 0) throw new WireError(`truncated stream: ${this.pending} bytes of an unfinished packet at end of stream`);
  }

  private tryParse(): Packet | undefined {
    const b = this.buf;
    const start = this.consumed;
    const avail = b.length - start;
    if (avail === 0) return undefined;
    if (b[start] !== OPEN) throw new WireError(`bad packet tag 0x${hex(b[start])} at offset 0, expected '>' (0x3e)`);
    if (avail < 8) {
      this.checkPrefix(start, avail);
      return undefined;
    }
    this.checkPrefix(start, 8);
    const count = b[start + 7];
    if (count === 0) throw new WireError('packet declares 0 modules');
    const modules: Module[] = [];
    let at = start + 8;
    for (let i = 0; i < count; i++) {
      if (b.length - at < 7) {
        this.checkModuleHead(at, b.length - at, i);
        return undefined;
      }
      this.checkModuleHead(at, 7, i);
      const size = b.readUInt16BE(at + 4);
      if (size === 0) throw new WireError(`module ${b.toString('latin1', at + 1, at + 3)} has size 0`);
      if (b.length - at < 8 + size) return undefined;
      if (b[at + 7 + size] !== MOD_CLOSE) throw new WireError(`module ${i} does not end with ']' (found 0x${hex(b[at + 7 + size])})`);
      const id = b.toString('latin1', at + 1, at + 3);
      if (modules.some((m) => m.id === id)) throw new WireError(`duplicate module ${id}`);
      // Copy: the payload must not pin the (possibly large) receive buffer.
      modules.push({ id, payload: Buffer.from(b.subarray(at + 7, at + 7 + size)) });
      at += 8 + size;
    }
    if (b.length - at < 1) return undefined;
    if (b[at] !== CLOSE) throw new WireError(`packet does not end with '<' (found 0x${hex(b[at])})`);
    this.consumed = at + 1;
    return { encoding: b[start + 1], compression: b[start + 3], encryption: b[start + 5], modules };
  }

  private checkPrefix(start: number, n: number): void {
    const b = this.buf;
    for (const i of [2, 4, 6]) if (i < n && b[start + i] !== SEP) throw new WireError(`bad separator 0x${hex(b[start + i])} at offset ${i}, expected ':'`);
    if (n > 1 && b[start + 1] !== Encoding.Protobuf && b[start + 1] !== Encoding.Json) throw new WireError(`unknown encoding ${b[start + 1]}`);
    if (n > 3 && b[start + 3] > 1) throw new WireError(`unsupported compression ${b[start + 3]} (only 1 = none, or 0)`);
    if (n > 5 && b[start + 5] > 1) throw new WireError(`unsupported encryption ${b[start + 5]} (only 1 = none, or 0)`);
  }

  private checkModuleHead(at: number, n: number, index: number): void {
    const b = this.buf;
    if (n > 0 && b[at] !== MOD_OPEN) throw new WireError(`module ${index} does not start with '[' (found 0x${hex(b[at])})`);
    if (n > 3 && b[at + 3] !== SEP) throw new WireError(`module ${index}: bad separator after id`);
    if (n > 6 && b[at + 6] !== SEP) throw new WireError(`module ${index}: bad separator after size`);
  }
}

function hex(n: number | undefined): string {
  return (n ?? 0).toString(16).padStart(2, '0');
}
