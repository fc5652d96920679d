import type { Rule } from '../../api/settings';

/**
 * What a reply we build may take. A module payload is at most 65,535 bytes
 * (src/wire/framing.ts) and encoding more throws; the estimates below are
 * upper bounds, and the margin covers what they leave out.
 */
export const PACKET_BUDGET_BYTES = 60_000;

/** A protobuf string field at most: tag, length varint (3 bytes up to 2 MiB), the UTF-8 bytes. */
export function stringFieldBytes(s: string): number {
  return 4 + Buffer.byteLength(s);
}

/** A number field at most: tag and a 10-byte varint. */
const NUMBER_FIELD_BYTES = 11;

/** One Rule inside a ControlReply, at most. */
export function estimateRuleBytes(rule: Rule): number {
  let bytes = 4 + stringFieldBytes(rule.type) + NUMBER_FIELD_BYTES;
  if ('source' in rule) bytes += stringFieldBytes(rule.source);
  for (const host of ('hosts' in rule && rule.hosts) || []) bytes += stringFieldBytes(host);
  return bytes;
}

/** A ControlReply without its rules, at most. */
export function estimateControlReplyBytes(head: {
  readonly message?: string;
  readonly error?: string;
  readonly policy: string;
  readonly available: readonly string[];
  readonly faults: Readonly<Record<string, number>>;
}): number {
  let bytes = 3 * NUMBER_FIELD_BYTES; // ok, rulesOffset, rulesTotal
  for (const s of [head.message ?? '', head.error ?? '', head.policy, ...head.available]) bytes += stringFieldBytes(s);
  for (const key of Object.keys(head.faults)) bytes += 4 + stringFieldBytes(key) + NUMBER_FIELD_BYTES;
  return bytes;
}
