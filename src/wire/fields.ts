import { WireError } from './errors';

/**
 * Checks on single fields of a decoded payload. protobufjs decodes int64 as a
 * Long object whatever the generated types say (--force-number only changes
 * the types), and a JSON payload can hold anything, so every number and string
 * read from the wire goes through one of these.
 */

/** A whole number within `min..max` (int32, or int64 within the safe range). */
export function wholeNumber(v: unknown, what: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  // A Long prints as its decimal value; anything else that is not a number is refused below.
  const n = typeof v === 'number' ? v : isLong(v) ? Number(v.toString()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new WireError(`${what} must be a whole number from ${min} to ${max}, got ${show(v)}`);
  return n;
}

/** A port written as 0.3 writes it (Hello, and the discovery TXT record): a decimal string, 1 to 65535; undefined if not one. */
export function decimalPort(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** A finite number (a protobuf double, or a JSON number). */
export function finiteNumber(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new WireError(`${what} must be a finite number, got ${show(v)}`);
  return v;
}

export function text(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new WireError(`${what} must be a string, got ${show(v)}`);
  return v;
}

export function flag(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw new WireError(`${what} must be true or false, got ${show(v)}`);
  return v;
}

export function list(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new WireError(`${what} must be a list, got ${show(v)}`);
  return v;
}

export function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new WireError(`${what} must be an object, got ${show(v)}`);
  return v as Record<string, unknown>;
}

/**
 * Refuses a payload holding a string longer than `maxBytes` (UTF-8), anywhere
 * in it: a field no booster message needs that long is a peer misbehaving.
 */
export function checkStringSizes(v: unknown, maxBytes: number, path: string): void {
  const found = overlong(v, maxBytes);
  if (found) throw new WireError(`${path}${found.at} is a ${found.bytes}-byte string, longer than the ${maxBytes} bytes a link accepts in one field`);
}

/** The first string over `maxBytes` in `v` (where, below `v`, and its size); the path is built only for it, not for every field of every packet. */
function overlong(v: unknown, maxBytes: number): { at: string; bytes: number } | undefined {
  if (typeof v === 'string') {
    // Each UTF-16 unit is at most 3 UTF-8 bytes: only count the ones that could be over.
    if (v.length * 3 <= maxBytes) return undefined;
    const bytes = Buffer.byteLength(v);
    return bytes > maxBytes ? { at: '', bytes } : undefined;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const found = overlong(v[i], maxBytes);
      if (found) return { at: `[${i}]${found.at}`, bytes: found.bytes };
    }
  } else if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !isLong(v)) {
    for (const [k, x] of Object.entries(v)) {
      const found = overlong(x, maxBytes);
      if (found) return { at: `.${k}${found.at}`, bytes: found.bytes };
    }
  }
  return undefined;
}

function isLong(v: unknown): v is { low: number; high: number; toString(): string } {
  return typeof v === 'object' && v !== null && typeof (v as { low?: unknown }).low === 'number' && typeof (v as { high?: unknown }).high === 'number';
}

/** A value from the wire in an error message: short, and never a huge string. */
function show(v: unknown): string {
  if (isLong(v)) return v.toString();
  let s: string;
  try {
    s = typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : (JSON.stringify(v) ?? String(v));
  } catch {
    s = typeof v;
  }
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
