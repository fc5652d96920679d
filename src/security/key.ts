import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The network key: at least 256 random bits shared by every node (and remote CLI) of one booster network. */
export const KEY_BYTES = 32;
export const KEY_FILE_NAME = 'network.key';
/** A key file is a line of text; anything bigger is not one (and /dev/zero must not hang us). */
const MAX_KEY_FILE_BYTES = 4096;

export type KeyErrorCode = 'missing' | 'invalid' | 'unreadable' | 'unwritable' | 'exists';

/** A key that cannot be used; the message never contains the key. */
export class KeyError extends Error {
  constructor(
    message: string,
    readonly code: KeyErrorCode,
  ) {
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
  /** Where it came from, for messages: a path, "BOOSTER_KEY", or "the config file". */
  readonly origin: string;

  private constructor(bytes: Buffer, origin: string) {
    this.#bytes = Buffer.from(bytes);
    this.origin = origin;
    this.fingerprint = this.derive('booster fingerprint v1', 8).toString('hex');
  }

  static generate(origin = 'new'): NetworkKey {
    return new NetworkKey(crypto.randomBytes(KEY_BYTES), origin);
  }

  /**
   * Parses the text form: hex (64+ digits, either case) or base64/base64url
   * (32+ bytes). Whitespace is ignored. Errors name the origin, never the text.
   */
  static parse(text: string, origin: string): NetworkKey {
    const t = text.replace(/\s+/g, '');
    const again = '(run "booster key show" on a device that has it, or "booster key new" to make one)';
    let bytes: Buffer;
    if (t.length === 0) throw new KeyError(`the network key from ${origin} is empty ${again}`, 'invalid');
    if (/^[0-9a-fA-F]+$/.test(t)) {
      // All hex digits: a hex key (a base64 key of 43+ characters practically never is); an odd count is a copy mistake.
      if (t.length % 2 !== 0)
        throw new KeyError(`the network key from ${origin} has an odd number of hex digits (${t.length}); was it cut short? ${again}`, 'invalid');
      bytes = Buffer.from(t, 'hex');
    } else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t) && t.replace(/=+$/, '').length % 4 !== 1) {
      bytes = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    } else {
      throw new KeyError(`the network key from ${origin} is not hex or base64 ${again}`, 'invalid');
    }
    if (bytes.length < KEY_BYTES)
      throw new KeyError(`the network key from ${origin} has ${bytes.length * 8} bits; at least ${KEY_BYTES * 8} are required ${again}`, 'invalid');
    return new NetworkKey(bytes, origin);
  }

  /**
   * Reads a key file (or a pipe, e.g. `--key-file <(pass show booster)`);
   * warns through `onWarning` when other users can read it.
   */
  static read(file: string, onWarning?: (message: string) => void): NetworkKey {
    let text: string;
    try {
      const fd = fs.openSync(file, 'r');
      try {
        const stat = fs.fstatSync(fd);
        if (stat.isDirectory()) throw new KeyError(`cannot read the network key file ${file}: it is a directory`, 'unreadable');
        if (stat.isFile() && (stat.mode & 0o077) !== 0 && process.platform !== 'win32') {
          onWarning?.(`network key file ${file} is readable by other users (mode ${(stat.mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
        }
        text = readBounded(fd, file);
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      if (err instanceof KeyError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new KeyError(`cannot read the network key file ${file}: no such file (run "booster key new")`, 'missing');
      throw new KeyError(`cannot read the network key file ${file}: ${code ?? (err as Error).message}`, 'unreadable');
    }
    return NetworkKey.parse(text, file);
  }

  /** The text form written to key files and shown by `booster key show` (hex). */
  reveal(): string {
    return this.#bytes.toString('hex');
  }

  /**
   * Writes the key file with mode 0600 (a folder it creates gets 0700). Without
   * `force` an existing file is never replaced, even by another process racing
   * this one (KeyError "exists"); with it, the file is replaced atomically.
   */
  write(file: string, force = false): void {
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const fd = fs.openSync(tmp, 'wx', 0o600);
      try {
        fs.writeSync(fd, this.reveal() + '\n');
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      if (force) fs.renameSync(tmp, file);
      else linkNew(tmp, file);
    } catch (err) {
      if (err instanceof KeyError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST')
        throw new KeyError(`${file} already exists; keep it, or pass --force to replace it (every node must then get the new key)`, 'exists');
      throw new KeyError(`cannot write the network key file ${file}: ${code ?? (err as Error).message}`, 'unwritable');
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  /** A subkey for one purpose (HKDF-SHA256); the network key itself never leaves this object. */
  derive(purpose: string, length = 32): Buffer {
    return Buffer.from(crypto.hkdfSync('sha256', this.#bytes, 'booster', purpose, length));
  }

  /** Same bytes (constant time). */
  equals(other: NetworkKey): boolean {
    return this.#bytes.length === other.#bytes.length && crypto.timingSafeEqual(this.#bytes, other.#bytes);
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

function readBounded(fd: number, file: string): string {
  const buf = Buffer.alloc(MAX_KEY_FILE_BYTES + 1);
  let length = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, length, buf.length - length, null);
    if (n === 0) break;
    length += n;
    if (length > MAX_KEY_FILE_BYTES) throw new KeyError(`${file} is not a network key file (more than ${MAX_KEY_FILE_BYTES} bytes)`, 'invalid');
  }
  return buf.subarray(0, length).toString('utf8');
}

/**
 * Moves `tmp` to `file` only if `file` does not exist (a hard link fails with
 * EEXIST); falls back to an exclusive copy where links are not allowed
 * (Android, so Termux, answers EACCES; some filesystems EPERM or ENOTSUP).
 */
function linkNew(tmp: string, file: string): void {
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw err;
    fs.copyFileSync(tmp, file, fs.constants.COPYFILE_EXCL);
    fs.chmodSync(file, 0o600);
  }
}

export interface KeySources {
  /** --key-file */
  readonly keyFile?: string;
  /** BOOSTER_KEY */
  readonly env?: string;
  /** "key" in the config file */
  readonly configKey?: string;
  /** "keyFile" in the config file (already resolved against the config file's folder) */
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
  try {
    return NetworkKey.read(file, onWarning);
  } catch (err) {
    if (err instanceof KeyError && err.code === 'missing') return undefined;
    throw err;
  }
}

/**
 * Creates a key file at `file`, unless one appeared meanwhile (another node
 * starting at the same moment): then that key is used, so both agree.
 */
export function createKeyFile(file: string, onWarning?: (message: string) => void): { key: NetworkKey; created: boolean } {
  const key = NetworkKey.generate(file);
  try {
    key.write(file);
    return { key, created: true };
  } catch (err) {
    if (err instanceof KeyError && err.code === 'exists') return { key: readSettled(file, onWarning), created: false };
    throw err;
  }
}

/** Reads a key file another process has just created: after linkNew's copy fallback it can be empty for a moment. */
function readSettled(file: string, onWarning?: (message: string) => void): NetworkKey {
  for (let attempt = 1; ; attempt++) {
    try {
      return NetworkKey.read(file, onWarning);
    } catch (err) {
      if (!(err instanceof KeyError && err.code === 'invalid') || attempt === 20) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
    }
  }
}
