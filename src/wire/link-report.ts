import { WireError } from './errors';
import type { internal } from './generated/booster';

/** LinkReport (booster.v1, message 107): most links one report may carry. */
export const MAX_REPORTED_LINKS = 64;
/** Longest link id, in UTF-8 bytes ("if:<name>:<IPv6 address>" fits with room to spare). */
export const MAX_LINK_ID_BYTES = 128;
export const LINK_KINDS = ['direct', 'interface'] as const;
export type LinkKind = (typeof LINK_KINDS)[number];

/** One of a node's own links as it reports it (proto PayloadLinkReport.Link). */
export interface ReportedLink {
  readonly id: string;
  readonly kind: LinkKind;
  /** Estimated capacity in bytes/s; 0 = unknown. */
  readonly capacity: number;
  /** Current download rate in bytes/s. */
  readonly throughput: number;
}

/**
 * Checks a decoded PayloadLinkReport (the generated type, int64 as Long, or a
 * plain object) and returns its links; anything outside the limits is a
 * WireError (the link is closed). Every field is checked as unknown data.
 */
export function readLinkReport(payload: internal.PayloadLinkReport.$Properties | Record<string, unknown>): ReportedLink[] {
  const links: unknown = payload.links;
  if (!Array.isArray(links)) throw new WireError('LinkReport carries no list of links');
  if (links.length > MAX_REPORTED_LINKS) throw new WireError(`LinkReport carries ${links.length} links, more than the ${MAX_REPORTED_LINKS} allowed`);
  const seen = new Set<string>();
  return links.map((raw, i) => {
    const l = (raw ?? {}) as Record<string, unknown>;
    const id = typeof l.id === 'string' ? l.id : '';
    if (id.length === 0) throw new WireError(`LinkReport link ${i} has no id`);
    const bytes = Buffer.byteLength(id);
    if (bytes > MAX_LINK_ID_BYTES) throw new WireError(`LinkReport link ${i} has a ${bytes}-byte id, longer than ${MAX_LINK_ID_BYTES} bytes`);
    if (seen.has(id)) throw new WireError(`LinkReport lists link "${id}" twice`);
    seen.add(id);
    if (!(LINK_KINDS as readonly unknown[]).includes(l.kind))
      throw new WireError(`LinkReport link "${id}" has kind ${JSON.stringify(l.kind).slice(0, 40)} (direct or interface)`);
    return { id, kind: l.kind as LinkKind, capacity: rate(l.capacity, id, 'capacity'), throughput: rate(l.throughput, id, 'throughput') };
  });
}

/**
 * What this node reports of its own links: at most MAX_REPORTED_LINKS, ids
 * within MAX_LINK_ID_BYTES, rates as whole non-negative bytes/s, so that the
 * other side's checks always pass.
 */
export function fitLinkReport(links: readonly ReportedLink[]): ReportedLink[] {
  return links
    .filter((l) => l.id.length > 0 && Buffer.byteLength(l.id) <= MAX_LINK_ID_BYTES && (LINK_KINDS as readonly string[]).includes(l.kind))
    .slice(0, MAX_REPORTED_LINKS)
    .map((l) => ({ id: l.id, kind: l.kind, capacity: wholeRate(l.capacity), throughput: wholeRate(l.throughput) }));
}

function rate(v: unknown, id: string, what: string): number {
  const n = typeof v === 'number' ? v : Number(v ?? 0);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new WireError(`LinkReport link "${id}" has ${what} ${String(v).slice(0, 40)} (a non-negative number of bytes/s)`);
  return n;
}

function wholeRate(v: number): number {
  return Number.isFinite(v) && v > 0 ? Math.min(Math.round(v), Number.MAX_SAFE_INTEGER) : 0;
}
