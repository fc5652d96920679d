import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * How a file is replaced so that a reader (the node at its next start,
 * systemd) never sees half of it: write a sibling, then rename it over the
 * file. The sibling is removed if anything fails.
 */
export interface AtomicWrite {
  /** Mode of the file (default 0600: state, config and estimates may be private). */
  readonly mode?: number;
  /** Mode of a directory it creates (default 0700; undefined: the umask's). */
  readonly dirMode?: number | null;
}

const sibling = (file: string) => `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;

export async function writeFileAtomic(file: string, body: string, options: AtomicWrite = {}): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: dirMode(options) });
  const tmp = sibling(file);
  try {
    await fs.promises.writeFile(tmp, body, { mode: options.mode ?? 0o600 });
    await fs.promises.rename(tmp, file);
  } finally {
    await fs.promises.rm(tmp, { force: true });
  }
}

export function writeFileAtomicSync(file: string, body: string, options: AtomicWrite = {}): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: dirMode(options) });
  const tmp = sibling(file);
  try {
    fs.writeFileSync(tmp, body, { mode: options.mode ?? 0o600 });
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

const dirMode = (options: AtomicWrite) => (options.dirMode === null ? undefined : (options.dirMode ?? 0o700));
