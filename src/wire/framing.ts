import { DEFAULT_MAX_PACKET_BYTES } from '../kernel/defaults';
import { WireError } from './errors';

/** Packet encodings (docs/protocol.md): 1 = protobuf, 2 = JSON. */
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

const PREFIX_BYTES = 8; // '>' enc ':' comp ':' encr ':' count
const MODULE_HEAD_BYTES = 7; // '[' id id ':' size size ':'
const MODULE_FRAMING_BYTES = MODULE_HEAD_BYTES + 1; // head and ']'
/** A module of one payload byte: the least a module can take. */
const MIN_MODULE_BYTES = MODULE_FRAMING_BYTES + 1;
const CLOSE_BYTES = 1;
/** '>' prefix, one smallest module, '<'. */
const MIN_PACKET_BYTES = PREFIX_BYTES + MIN_MODULE_BYTES + CLOSE_BYTES;
export { DEFAULT_MAX_PACKET_BYTES };

export interface PacketDecoderOptions {
  /** Largest packet accepted, in bytes (default 1 MiB; the protocol allows up to 255 × 65535 of payload). */
  readonly maxPacketBytes?: number;
}

/** What the decoder reads next. */
type Stage = 'prefix' | 'module-head' | 'payload' | 'module-close' | 'packet-close';

/**
 * Streaming packet decoder: feed it chunks as they arrive (0.3 nodes write a
 * packet in many small segments); it returns every packet completed so far.
 * Each byte is looked at once and each payload byte copied once, into a buffer
 * of the size its module declares, so a packet dribbled in tiny chunks costs
 * no more than one that arrives whole. A packet that declares more than
 * `maxPacketBytes` fails as soon as the size is read, before its bytes arrive.
 * Any deviation from the framing throws a WireError (the stream is then
 * unusable: close it).
 */
export class PacketDecoder {
  private limit = DEFAULT_MAX_PACKET_BYTES;
  private stage: Stage = 'prefix';
  private readonly prefix = Buffer.alloc(PREFIX_BYTES);
  private readonly moduleHead = Buffer.alloc(MODULE_HEAD_BYTES);
  /** Bytes of the prefix, module head or payload read so far. */
  private filled = 0;
  private modules: Module[] = [];
  private modulesLeft = 0;
  private moduleId = '';
  private payload = Buffer.alloc(0);
  /** Bytes of the current packet known so far: received framing plus declared payload sizes. */
  private declaredBytes = 0;
  private held = 0;

  constructor(options: PacketDecoderOptions = {}) {
    if (options.maxPacketBytes !== undefined) this.maxPacketBytes = options.maxPacketBytes;
  }

  /** Largest packet accepted; may change between packets (raised once a peer is trusted). Infinity: the protocol's own maximum. */
  get maxPacketBytes(): number {
    return this.limit;
  }
  set maxPacketBytes(bytes: number) {
    if (!(Number.isSafeInteger(bytes) || bytes === Infinity) || bytes < MIN_PACKET_BYTES)
      throw new RangeError(`maxPacketBytes must be an integer of at least ${MIN_PACKET_BYTES} (the smallest packet), not ${bytes}`);
    this.limit = bytes;
  }

  /** Bytes of an unfinished packet held back. */
  get pending(): number {
    return this.held;
  }

  push(chunk: Buffer): Packet[] {
    const packets: Packet[] = [];
    let at = 0;
    while (at < chunk.length) {
      const before = at;
      switch (this.stage) {
        case 'prefix':
          at = this.readPrefix(chunk, at);
          break;
        case 'module-head':
          at = this.readModuleHead(chunk, at);
          break;
        case 'payload':
          at = this.readPayload(chunk, at);
          break;
        case 'module-close':
          at = this.readModuleClose(chunk, at);
          break;
        case 'packet-close':
          packets.push(this.readPacketClose(chunk, at));
          at += CLOSE_BYTES;
          continue; // the packet is complete: nothing of it is held any more
      }
      this.held += at - before;
    }
    return packets;
  }

  /** Call at end of stream: an unfinished packet there is an error. */
  end(): void {
    if (this.pending > 0) throw new WireError(`truncated stream: ${this.pending} bytes of an unfinished packet at end of stream`);
  }

  private readPrefix(chunk: Buffer, at: number): number {
    const n = chunk.copy(this.prefix, this.filled, at, at + PREFIX_BYTES - this.filled);
    this.filled += n;
    checkPrefix(this.prefix, this.filled);
    if (this.filled === PREFIX_BYTES) {
      const count = this.prefix[7];
      if (count === 0) throw new WireError('packet declares 0 modules');
      this.modulesLeft = count;
      this.declaredBytes = PREFIX_BYTES;
      this.checkLimit(() => `it declares ${count} modules, at least ${this.leastPacketBytes()} bytes`);
      this.startModuleHead();
    }
    return at + n;
  }

  private readModuleHead(chunk: Buffer, at: number): number {
    const n = chunk.copy(this.moduleHead, this.filled, at, at + MODULE_HEAD_BYTES - this.filled);
    this.filled += n;
    const index = this.modules.length;
    checkModuleHead(this.moduleHead, this.filled, index);
    if (this.filled === MODULE_HEAD_BYTES) {
      const id = this.moduleHead.toString('latin1', 1, 3);
      const size = this.moduleHead.readUInt16BE(4);
      if (size === 0) throw new WireError(`module ${id} has size 0`);
      if (this.modules.some((m) => m.id === id)) throw new WireError(`duplicate module ${id}`);
      this.modulesLeft--;
      this.declaredBytes += MODULE_FRAMING_BYTES + size;
      this.checkLimit(() => `module ${id} declares ${size} bytes`);
      this.moduleId = id;
      // Its own buffer, filled as bytes arrive: a payload must not pin a (possibly large) receive buffer.
      this.payload = Buffer.allocUnsafe(size);
      this.filled = 0;
      this.stage = 'payload';
    }
    return at + n;
  }

  private readPayload(chunk: Buffer, at: number): number {
    const n = chunk.copy(this.payload, this.filled, at, at + this.payload.length - this.filled);
    this.filled += n;
    if (this.filled === this.payload.length) this.stage = 'module-close';
    return at + n;
  }

  private readModuleClose(chunk: Buffer, at: number): number {
    if (chunk[at] !== MOD_CLOSE) throw new WireError(`module ${this.modules.length} does not end with ']' (found 0x${hex(chunk[at])})`);
    this.modules.push({ id: this.moduleId, payload: this.payload });
    this.payload = Buffer.alloc(0);
    if (this.modulesLeft > 0) this.startModuleHead();
    else this.stage = 'packet-close';
    return at + 1;
  }

  private readPacketClose(chunk: Buffer, at: number): Packet {
    if (chunk[at] !== CLOSE) throw new WireError(`packet does not end with '<' (found 0x${hex(chunk[at])})`);
    const packet = { encoding: this.prefix[1], compression: this.prefix[3], encryption: this.prefix[5], modules: this.modules };
    this.modules = [];
    this.filled = 0;
    this.held = 0;
    this.stage = 'prefix';
    return packet;
  }

  private startModuleHead(): void {
    this.filled = 0;
    this.stage = 'module-head';
  }

  /** The size the packet will at least have, given what it declared so far. */
  private leastPacketBytes(): number {
    return this.declaredBytes + this.modulesLeft * MIN_MODULE_BYTES + CLOSE_BYTES;
  }

  private checkLimit(declaration: () => string): void {
    if (this.leastPacketBytes() > this.limit) throw new WireError(`packet exceeds the ${this.limit}-byte limit for this link (${declaration()})`);
  }
}

/** Checks the first n bytes of a packet prefix. */
function checkPrefix(b: Buffer, n: number): void {
  if (b[0] !== OPEN) throw new WireError(`bad packet tag 0x${hex(b[0])} at offset 0, expected '>' (0x3e)`);
  for (const i of [2, 4, 6]) if (i < n && b[i] !== SEP) throw new WireError(`bad separator 0x${hex(b[i])} at offset ${i}, expected ':'`);
  if (n > 1 && b[1] !== Encoding.Protobuf && b[1] !== Encoding.Json) throw new WireError(`unknown encoding ${b[1]}`);
  if (n > 3 && b[3] > 1) throw new WireError(`unsupported compression ${b[3]} (only 1 = none, or 0)`);
  if (n > 5 && b[5] > 1) throw new WireError(`unsupported encryption ${b[5]} (only 1 = none, or 0)`);
}

/** Checks the first n bytes of a module head. */
function checkModuleHead(b: Buffer, n: number, index: number): void {
  if (n > 0 && b[0] !== MOD_OPEN) throw new WireError(`module ${index} does not start with '[' (found 0x${hex(b[0])})`);
  if (n > 3 && b[3] !== SEP) throw new WireError(`module ${index}: bad separator after id`);
  if (n > 6 && b[6] !== SEP) throw new WireError(`module ${index}: bad separator after size`);
}

function hex(n: number | undefined): string {
  return (n ?? 0).toString(16).padStart(2, '0');
}
