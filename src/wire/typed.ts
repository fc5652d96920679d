import { internal } from './generated/booster';
import { WireError } from './errors';
import { checkStringSizes, flag, list, record, text, wholeNumber } from './fields';
import { Encoding, type Module, type Packet } from './framing';
import { decodeHeader, messageName, PAYLOADS, type Header } from './messages';

import M = internal.MessageId;

/** Longest string one field may hold, by default (a node's own replies clip their texts far below this). */
export const DEFAULT_MAX_WIRE_STRING_BYTES = 8192;

interface Decoder<T> {
  decode(bytes: Uint8Array): T;
}

/** The generated payload type each message id carries (undefined: none), read off messages.ts' PAYLOADS. */
type Payloads = { [K in keyof typeof PAYLOADS]: (typeof PAYLOADS)[K] extends Decoder<infer T> ? T : undefined };

/** A received message as the generated protobuf type of its payload; `id` tells which. */
export type TypedMessage = {
  [K in keyof Payloads]: { readonly id: K; readonly payload: Payloads[K]; readonly header: Header; readonly encoding: Encoding };
}[keyof Payloads];

const DECODERS: { [K in keyof Payloads]: Decoder<Payloads[K]> | undefined } = PAYLOADS;

/** 0.3 sends only its monitor events JSON-encoded; these read them into the same generated types. */
const JSON_READERS: Partial<{ [K in keyof Payloads]: (json: Record<string, unknown>) => Payloads[K] }> = {
  [M.NODE_STATUS]: (j) => jsonNode(j, 'NodeStatus'),
  [M.PROXY_UPDATE]: (j) =>
    internal.PayloadProxyUpdate.create({
      nodeID: text(j.node_id ?? j.nodeID ?? '', 'ProxyUpdate node_id'),
      target: text(j.target ?? '', 'ProxyUpdate target'),
      operation: wholeNumber(j.operation ?? 0, 'ProxyUpdate operation', -0x80000000, 0x7fffffff),
    }),
  [M.NETWORK_UPDATE]: (j) =>
    internal.PayloadNetworkUpdate.create({
      nodeID: text(j.node_id ?? j.nodeID ?? '', 'NetworkUpdate node_id'),
      operation: wholeNumber(j.operation ?? 0, 'NetworkUpdate operation', -0x80000000, 0x7fffffff),
      remoteNode: jsonNode(record(j.remote_node ?? j.remoteNode ?? {}, 'NetworkUpdate remote_node'), 'NetworkUpdate remote_node'),
    }),
  [M.NETWORK_USAGE_UPDATE]: (j) => {
    // 0.3 nests the figures in "data" and names the sender "sender_id".
    const data = j.data === undefined ? j : record(j.data, 'NetworkUsageUpdate data');
    return internal.PayloadBandwidth.create({
      nodeID: text(j.sender_id ?? j.nodeID ?? '', 'NetworkUsageUpdate sender_id'),
      type: text(data.type ?? '', 'NetworkUsageUpdate type'),
      tot: wholeNumber(data.tot ?? 0, 'NetworkUsageUpdate tot'),
      bandwidth: wholeNumber(data.bandwidth ?? 0, 'NetworkUsageUpdate bandwidth'),
    });
  },
};

function jsonNode(j: Record<string, unknown>, what: string): internal.PayloadNode {
  return internal.PayloadNode.create({
    id: text(j.id ?? '', `${what} id`),
    baddr: text(j.baddr ?? '', `${what} baddr`),
    paddr: text(j.paddr ?? '', `${what} paddr`),
    active: flag(j.active ?? false, `${what} active`),
    // 0.3 writes null for a node without tunnels.
    tunnels: list(j.tunnels ?? [], `${what} tunnels`).map((raw, i) => {
      const t = record(raw, `${what} tunnel ${i}`);
      return {
        target: text(t.target ?? '', `${what} tunnel ${i} target`),
        copies: wholeNumber(t.copies ?? 0, `${what} tunnel ${i} copies`, -0x80000000, 0x7fffffff),
      };
    }),
  });
}

export interface TypedDecodeOptions {
  /** Longest string any field may hold (UTF-8 bytes); longer is a WireError. */
  readonly maxStringBytes?: number;
}

/**
 * Decodes one framed packet into the generated type of its payload. Anything
 * that is not what the protocol allows is a WireError: an unknown message id,
 * a payload that does not decode, a JSON field of the wrong type, a JSON
 * encoding for a message 0.3 never sends that way, an over-long string.
 * Field values (ports, enums, ranges) are checked where they are read.
 */
export function decodeTyped(packet: Packet, options: TypedDecodeOptions = {}): TypedMessage {
  const { header, pa } = decodeHeader(packet);
  const id = header.id as keyof Payloads;
  const payload = packet.encoding === Encoding.Json ? fromJson(id, pa) : fromProtobuf(id, pa);
  checkStringSizes(payload, options.maxStringBytes ?? DEFAULT_MAX_WIRE_STRING_BYTES, messageName(id));
  // The pairing of id and payload type is DECODERS' and JSON_READERS', checked by their types.
  return { id, payload, header, encoding: packet.encoding } as TypedMessage;
}

function fromProtobuf(id: keyof Payloads, pa: Module | undefined): Payloads[keyof Payloads] {
  const decoder = DECODERS[id] as Decoder<Payloads[keyof Payloads]> | undefined;
  if (!decoder || !pa) return undefined;
  try {
    return decoder.decode(pa.payload);
  } catch (err) {
    throw new WireError(`${messageName(id)} payload does not decode: ${(err as Error).message}`);
  }
}

function fromJson(id: keyof Payloads, pa: Module | undefined): Payloads[keyof Payloads] {
  const reader = JSON_READERS[id] as ((json: Record<string, unknown>) => Payloads[keyof Payloads]) | undefined;
  if (!reader) {
    if (DECODERS[id] === undefined && !pa) return undefined;
    throw new WireError(`${messageName(id)} is never sent JSON-encoded`);
  }
  if (!pa) throw new WireError(`${messageName(id)} carries no payload`);
  let json: unknown;
  try {
    json = JSON.parse(pa.payload.toString('utf8'));
  } catch (err) {
    throw new WireError(`${messageName(id)} JSON payload does not parse: ${(err as Error).message}`);
  }
  return reader(record(json, `${messageName(id)} JSON payload`));
}
