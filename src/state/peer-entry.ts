import { parseHostPort } from '../network/link/errors';

/** A peer to wire: its booster address as the user wrote it, and an optional name. */
export interface PeerEntry {
  readonly address: string;
  readonly name?: string;
}

/** How long a peer name may be: it is shown in one column of `booster status`. */
const MAX_PEER_NAME_LENGTH = 32;

/** A peer name: 1-32 letters, digits, '.', '_' or '-', starting with a letter or digit (never 40 hex digits, which is an id). */
export function checkPeerName(name: unknown, where = 'peer name'): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.length > MAX_PEER_NAME_LENGTH) {
    throw new Error(
      `${where} must be 1-${MAX_PEER_NAME_LENGTH} letters, digits, ".", "_" or "-", starting with a letter or digit; got ${JSON.stringify(name)?.slice(0, 64)}`,
    );
  }
  if (/^[0-9a-f]{40}$/i.test(name)) throw new Error(`${where} "${name}" looks like a node id; choose another name`);
  return name;
}

/** A "HOST:PORT" booster address (port defaults to 4884); returns it trimmed. */
export function checkPeerAddress(address: unknown, where = 'peer address'): string {
  if (typeof address !== 'string' || address.trim().length === 0 || address.length > 300)
    throw new Error(`${where} must be "HOST:PORT", got ${JSON.stringify(address)?.slice(0, 64)}`);
  const trimmed = address.trim();
  try {
    parseHostPort(trimmed, 4884);
  } catch (err) {
    throw new Error(`${where} "${address.slice(0, 64)}" is not HOST:PORT: ${(err as Error).message}`);
  }
  return trimmed;
}

/**
 * A `peers` list as a config or state file holds it: `"HOST:PORT"` strings or
 * `{ "address": "HOST:PORT", "name"?: "..." }` objects. Names must be unique;
 * at most `max` entries.
 */
export function parsePeerEntries(raw: unknown, where: string, max: number): PeerEntry[] {
  if (!Array.isArray(raw)) throw new Error(`${where} must be a list of "HOST:PORT" or {"address": "HOST:PORT", "name": "phone"}`);
  if (raw.length > max) throw new Error(`${where} lists ${raw.length} peers, more than limits.maxPeers (${max})`);
  const names = new Set<string>();
  return raw.map((item: unknown, i) => {
    const at = `${where}[${i}]`;
    if (typeof item === 'string') return { address: checkPeerAddress(item, at) };
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new Error(`${at} must be "HOST:PORT" or {"address": "HOST:PORT", "name": "phone"}`);
    for (const k of Object.keys(item)) if (k !== 'address' && k !== 'name') throw new Error(`${at}: unknown key "${k.slice(0, 64)}" (known: address, name)`);
    const r = item as Record<string, unknown>;
    const address = checkPeerAddress(r.address, `${at}.address`);
    if (r.name === undefined) return { address };
    const name = checkPeerName(r.name, `${at}.name`);
    if (names.has(name)) throw new Error(`${at}: the name "${name}" is used twice`);
    names.add(name);
    return { address, name };
  });
}
