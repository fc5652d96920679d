import { decimalPort } from '../wire';

/**
 * What a booster node announces with DNS-SD: the service type and the TXT
 * record. The TXT record carries no secret and nothing that outlives one run
 * of the node: its 0.3 id (a hash of its ports), its ports, a random nonce
 * drawn at start, and a hint that only holders of the network key can make
 * or check (see PresenceHint).
 */

/** DNS-SD service type of a booster endpoint (RFC 6763 §7). */
export const SERVICE_TYPE = '_booster._tcp.local';
/** The DNS-SD service-type enumeration name (RFC 6763 §9). */
export const SERVICE_ENUMERATION = '_services._dns-sd._udp.local';
export const TXT_VERSION = '1';

/** A node's announcement, as carried in its TXT record. */
export interface Presence {
  /** The node's own id (0.3 sense: sha1("localhost" + bport + pport)). */
  readonly id: string;
  readonly bport: number;
  readonly pport: number;
  /** 16 random bytes (base64url), new on every start of the node. */
  readonly nonce: string;
  /** PresenceHint over the fields above: 9 bytes, base64url. */
  readonly hint: string;
}

const NONCE = /^[A-Za-z0-9_-]{22}$/;
const HINT = /^[A-Za-z0-9_-]{12}$/;
const ID = /^[0-9a-f]{40}$/;
/** More strings than a booster TXT record has is not one (the decoder looks at no more). */
const MAX_STRINGS = 16;

/** The TXT strings, "key=value" (RFC 6763 §6), txtvers first. */
export function encodeTxt(p: Presence): string[] {
  return [`txtvers=${TXT_VERSION}`, `id=${p.id}`, `bport=${p.bport}`, `pport=${p.pport}`, `nonce=${p.nonce}`, `hint=${p.hint}`];
}

/** A booster presence from a TXT record's strings, or why it is not one. Keys are case-insensitive; the first occurrence counts. */
export function decodeTxt(strings: readonly (Buffer | Uint8Array | string)[]): Presence | { readonly error: string } {
  const fields = new Map<string, string>();
  for (const raw of strings.slice(0, MAX_STRINGS)) {
    const s = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
    const eq = s.indexOf('=');
    if (eq <= 0) continue;
    const key = s.slice(0, eq).toLowerCase();
    if (!fields.has(key)) fields.set(key, s.slice(eq + 1));
  }
  if (fields.get('txtvers') !== TXT_VERSION) return { error: `txtvers ${JSON.stringify(fields.get('txtvers')?.slice(0, 8) ?? null)} is not ${TXT_VERSION}` };
  const id = fields.get('id') ?? '';
  if (!ID.test(id)) return { error: 'id is not 40 hex digits' };
  const bport = decimalPort(fields.get('bport'));
  const pport = decimalPort(fields.get('pport'));
  if (bport === undefined || pport === undefined) return { error: 'bport and pport must be ports 1-65535' };
  const nonce = fields.get('nonce') ?? '';
  const hint = fields.get('hint') ?? '';
  if (!NONCE.test(nonce) || !HINT.test(hint)) return { error: 'nonce or hint is malformed' };
  return { id, bport, pport, nonce, hint };
}

export function isPresence(p: Presence | { readonly error: string }): p is Presence {
  return !('error' in p);
}
