import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The network key: at least 256 random bits shared by every node (and remote CLI) of one booster network. */
export const KEY_BYTES = 32;
export const KEY_FILE_NAME = 'network.key';

/** A key that cannot be used; the message never contains the key. */
export class KeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyError';
  }
}

/**
 * The network key. The bytes stay inside this object: `toString`, `toJSON` and
 * `util.inspect` print only the fingerprint, so a key passed to a logger or a
 * JSON dump by mistake does not leak.
 */
export class NetworkKey {
  readonly #bytes: Buffer;
  /** Non-secret identifier of the network (first 8 bytes of a one-way derivation), for logs and status. */
  readonly fingerprint: string;
  /** Where it came from, for messages: a path, "BOOSTER_KEY", or "config file". */
  readonly origin: string;

  private constructor(bytes: Buffer, origin: string) {
    this.#bytes = Buffer.from(bytes);
    this.origin = origin;
    this.fingerprint = this.derive('booster fingerprint v1', 8).toString('hex');
  }

  static generate(origin = 'new'): NetworkKey {
    return new NetworkKey(crypto.randomBytes(KEY_BYTES), origin);
  }

  /** Parses the text form: hex (64+ digits) or base64/base64url (32+ bytes). Whitespace is ignored. */
  static parse(text: string, origin: string): NetworkKey {
    const t = text.replace(/\s+/g, '');
    let bytes: Buffer;
    if (/^[0-9a-fA-F]+$/.test(t) && t.length % 2 === 0) bytes = Buffer.from(t, 'hex');
    else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) bytes = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    else throw new KeyError(`the network key from ${origin} is not hex or base64 (run "booster key new" to make one)`);
    if (bytes.length < KEY_BYTES) throw new KeyError(`the network key from ${origin} has ${bytes.length * 8} bits; at least ${KEY_BYTES * 8} are required (run "booster key new")`);
    return new NetworkKey(bytes, origin);
  }

  /** Reads a key file; warns (through `onWarning`) when others can read it. */
  static read(file: string, onWarning?: (message: string) => void): NetworkKey {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new KeyError(`cannot read the network key file ${file}: ${code === 'ENOENT' ? 'no such file (run "booster key new")' : code ?? (err as Error).message}`);
    }
    try {
      const mode = fs.statSync(file).mode & 0o077;
      if (mode !== 0 && process.platform !== 'win32') onWarning?.(`network key file ${file} is readable by other users (mode ${(fs.statSync(file).mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
    } catch {
      // stat raced a removal: the read above succeeded, keep the key
    }
    return NetworkKey.parse(text, file);
  }

  /** The text form written to key files and shown by `booster key show` (hex). */
  reveal(): string {
    return this.#bytes.toString('hex');
  }

  /** Writes the key file with mode 0600 (its folder 0700); refuses to overwrite unless `force`. */
  write(file: string, force = false): void {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, this.reveal() + '\n', { mode: 0o600, flag: 'wx' });
    try {
      if (!force && fs.existsSync(file)) throw new KeyError(`${file} already exists; keep it, or pass --force to replace it (every node must then get the new key)`);
      fs.renameSync(tmp, file);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  /** A subkey for one purpose (HKDF-SHA256); the network key itself never leaves this object. */
  derive(purpose: string, length = 32): Buffer {
    return Buffer.from(crypto.hkdfSync('sha256', this.#bytes, 'booster', purpose, length));
  }

  toString(): string {
    return `NetworkKey(${this.fingerprint})`;
  }
  toJSON(): string {
    return this.toString();
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

export interface KeySources {
  /** --key-file */
  readonly keyFile?: string;
  /** BOOSTER_KEY */
  readonly env?: string;
  /** "key" in the config file */
  readonly configKey?: string;
  /** "keyFile" in the config file */
  readonly configKeyFile?: string;
  /** The data directory; its network.key is used when nothing else names a key. */
  readonly dataDir: string;
}

export function keyFileIn(dataDir: string): string {
  return path.join(dataDir, KEY_FILE_NAME);
}

/**
 * Finds the network key: --key-file, then BOOSTER_KEY, then the config file's
 * "key" or "keyFile", then the data directory. Returns undefined when none of
 * them has one (the caller decides whether to create one).
 */
export function loadKey(sources: KeySources, onWarning?: (message: string) => void): NetworkKey | undefined {
  if (sources.keyFile) return NetworkKey.read(sources.keyFile, onWarning);
  if (sources.env) return NetworkKey.parse(sources.env, 'BOOSTER_KEY');
  if (sources.configKey) return NetworkKey.parse(sources.configKey, 'the config file');
  if (sources.configKeyFile) return NetworkKey.read(sources.configKeyFile, onWarning);
  const file = keyFileIn(sources.dataDir);
  return fs.existsSync(file) ? NetworkKey.read(file, onWarning) : undefined;
}
