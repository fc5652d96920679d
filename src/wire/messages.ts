import { createHash } from 'node:crypto';
import { type google, internal } from './generated/booster';
import { WireError } from './errors';
import { wholeNumber } from './fields';
import { encodePacket, Encoding, type Module, type Packet } from './framing';

export const PROTOCOL_VERSION = '0.3';
/** Field 2047, varint 0: ignored by every protobuf decoder. */
const EMPTY_PAYLOAD = Buffer.from([0xf8, 0x7f, 0x00]);
/** What our nodes and CLI announce in Header.extensions. */
export const BOOSTER_EXTENSION = 'booster.v1';

export const MessageId = internal.MessageId;
export type MessageId = internal.MessageId;

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(internal.MessageId)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v, k]),
);

/** Which payload message each id carries (undefined: no payload); decodeTyped (typed.ts) decodes with these too. */
export const PAYLOADS = {
  [MessageId.HELLO]: internal.PayloadHello,
  [MessageId.CONNECT]: internal.PayloadConnect,
  [MessageId.DISCONNECT]: internal.PayloadDisconnect,
  [MessageId.HEARTBEAT]: internal.PayloadHeartbeat,
  [MessageId.NOTIFY]: undefined,
  [MessageId.MONITOR]: internal.PayloadMonitor,
  [MessageId.CTRL]: internal.PayloadCtrl,
  [MessageId.NODE_STATUS]: internal.PayloadNode,
  [MessageId.NETWORK_USAGE_UPDATE]: internal.PayloadBandwidth,
  [MessageId.PROXY_UPDATE]: internal.PayloadProxyUpdate,
  [MessageId.NETWORK_UPDATE]: internal.PayloadNetworkUpdate,
  [MessageId.RESULT]: internal.PayloadResult,
  [MessageId.CONTROL_REQUEST]: internal.PayloadControlRequest,
  [MessageId.CONTROL_REPLY]: internal.PayloadControlReply,
  [MessageId.START_TLS]: undefined,
  [MessageId.AUTH_INIT]: internal.PayloadAuthInit,
  [MessageId.AUTH_CHALLENGE]: internal.PayloadAuthChallenge,
  [MessageId.AUTH_PROOF]: internal.PayloadAuthProof,
  [MessageId.LINK_REPORT]: internal.PayloadLinkReport,
  [MessageId.SOURCE_HEALTH]: internal.PayloadSourceHealth,
} as const;

type PayloadCodec = { encode(m: object): { finish(): Uint8Array }; decode(b: Uint8Array): object; toObject(m: object, o?: object): Record<string, unknown> };

export interface Header {
  readonly id: number;
  readonly modules: readonly string[];
  /** Epoch ms (protobuf headers only). */
  readonly sentAt?: number;
  readonly protocolVersion?: string;
  readonly extensions: readonly string[];
}

/** A decoded packet: header, and the payload as a plain object (protobuf fields, or parsed JSON). */
export interface Message {
  readonly encoding: Encoding;
  readonly header: Header;
  readonly payload?: Record<string, unknown>;
  /** Framing bytes seen (compression, encryption), for conformance checks. */
  readonly compression: number;
  readonly encryption: number;
}

export function messageName(id: number): string {
  return NAMES[id] ?? `unknown(${id})`;
}

/**
 * Validates and decodes one framed packet into a message whose payload is a
 * plain object (conformance checks, tools). A node reads what it receives with
 * decodeTyped (typed.ts), which also checks each field.
 */
export function decodeMessage(packet: Packet): Message {
  const { header, pa } = decodeHeader(packet);
  const codec = PAYLOADS[header.id as keyof typeof PAYLOADS] as PayloadCodec | undefined;
  let payload: Record<string, unknown> | undefined;
  if (pa) {
    if (packet.encoding === Encoding.Json) {
      try {
        payload = JSON.parse(pa.payload.toString('utf8')) as Record<string, unknown>;
      } catch (err) {
        throw new WireError(`${messageName(header.id)} JSON payload does not parse: ${(err as Error).message}`);
      }
      if (typeof payload !== 'object' || payload === null) throw new WireError(`${messageName(header.id)} JSON payload is not an object`);
    } else if (codec) {
      try {
        payload = codec.toObject(codec.decode(pa.payload), { defaults: true, longs: Number, arrays: true });
      } catch (err) {
        throw new WireError(`${messageName(header.id)} payload does not decode: ${(err as Error).message}`);
      }
    }
  }
  return { encoding: packet.encoding, header, payload, compression: packet.compression, encryption: packet.encryption };
}

/** A packet's header (checked: known message id, modules as listed) and its payload module, if any. */
export function decodeHeader(packet: Packet): { header: Header; pa?: Module } {
  const he = packet.modules.find((m) => m.id === 'HE');
  if (!he) throw new WireError('packet has no HE (header) module');
  const pa = packet.modules.find((m) => m.id === 'PA');
  for (const m of packet.modules) if (m.id !== 'HE' && m.id !== 'PA') throw new WireError(`unknown module id "${m.id}"`);
  const header = packet.encoding === Encoding.Json ? decodeJsonHeader(he, pa) : decodeProtoHeader(he, pa);
  if (!(header.id in PAYLOADS)) throw new WireError(`unknown message id ${header.id}`);
  if (PAYLOADS[header.id as keyof typeof PAYLOADS] && !pa) throw new WireError(`${messageName(header.id)} carries no payload`);
  return { header, pa };
}

function decodeProtoHeader(he: Module, pa: Module | undefined): Header {
  let h: internal.Header;
  try {
    h = internal.Header.decode(he.payload);
  } catch (err) {
    throw new WireError(`header does not decode: ${(err as Error).message}`);
  }
  if (h.protocolVersion !== PROTOCOL_VERSION) throw new WireError(`unsupported protocol version "${h.protocolVersion}" (this node speaks ${PROTOCOL_VERSION})`);
  for (const m of h.modules) {
    if (m !== 'PA' || !pa) throw new WireError(`header lists module "${m}" that the packet does not contain`);
  }
  const ts = h.sentAt;
  return {
    id: h.id,
    modules: h.modules,
    sentAt: ts ? readTimestamp(ts, 'Header sentAt') : undefined,
    protocolVersion: h.protocolVersion,
    extensions: h.extensions,
  };
}

/** 0.3 JSON headers are a bare number: the message id. */
function decodeJsonHeader(he: Module, pa: Module | undefined): Header {
  const text = he.payload.toString('latin1').trim();
  if (!/^\d{1,3}$/.test(text)) throw new WireError(`JSON header must be a message id number, got "${text.slice(0, 20)}"`);
  return { id: Number(text), modules: pa ? ['PA'] : [], extensions: [] };
}

export interface EncodeOptions {
  readonly extensions?: readonly string[];
  readonly now?: number;
}

/** Encodes a protobuf packet: header (with sentAt and version) and the payload, if the message has one. */
export function encodeMessage(id: MessageId, payload?: object, options: EncodeOptions = {}): Buffer {
  const codec = PAYLOADS[id as keyof typeof PAYLOADS] as PayloadCodec | undefined;
  const modules: Module[] = [];
  const header = internal.Header.encode({
    id,
    modules: codec ? ['PA'] : [],
    sentAt: fromMillis(options.now ?? Date.now()),
    protocolVersion: PROTOCOL_VERSION,
    extensions: options.extensions ? [...options.extensions] : [],
  }).finish();
  modules.push({ id: 'HE', payload: Buffer.from(header.buffer, header.byteOffset, header.byteLength) });
  if (codec) {
    const bytes = codec.encode(payload ?? {}).finish();
    // proto3 leaves defaults off the wire, and an empty module is invalid: an
    // all-default payload carries one unknown (skipped) field instead.
    modules.push({ id: 'PA', payload: bytes.length > 0 ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : EMPTY_PAYLOAD });
  }
  return encodePacket({ encoding: Encoding.Protobuf, compression: 1, encryption: 1, modules });
}

/**
 * Encodes a JSON monitor packet as 0.3 does: the header is the bare message id;
 * ProxyUpdate and NetworkUpdate carry compression/encryption 0 (0.3 leaves them unset).
 */
export function encodeJsonMessage(id: MessageId, json: string): Buffer {
  const unset = id === MessageId.PROXY_UPDATE || id === MessageId.NETWORK_UPDATE;
  return encodePacket({
    encoding: Encoding.Json,
    compression: unset ? 0 : 1,
    encryption: unset ? 0 : 1,
    modules: [
      { id: 'HE', payload: Buffer.from(String(id), 'latin1') },
      { id: 'PA', payload: Buffer.from(json, 'utf8') },
    ],
  });
}

export function toMillis(ts: google.protobuf.Timestamp.$Properties): number {
  return Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

/** A received Timestamp in epoch ms, checked: int64 seconds arrive as a Long, kept to a range a clock can be in (±3,000 years). */
export function readTimestamp(ts: google.protobuf.Timestamp.$Properties, what: string): number {
  const seconds = wholeNumber(ts.seconds ?? 0, `${what} seconds`, -1e11, 1e11);
  const nanos = wholeNumber(ts.nanos ?? 0, `${what} nanos`, 0, 999_999_999);
  return toMillis({ seconds, nanos });
}

export function fromMillis(ms: number): google.protobuf.Timestamp.$Properties {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** 0.3 node id: lowercase hex SHA-1 of host + bport + pport. */
export function nodeId(host: string, bport: number | string, pport: number | string): string {
  return createHash('sha1').update(`${host}${bport}${pport}`).digest('hex');
}

/** 0.3 tunnel id: lowercase hex SHA-1 of the target string. */
export function tunnelId(target: string): string {
  return createHash('sha1').update(target).digest('hex');
}
