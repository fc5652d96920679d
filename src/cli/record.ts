import * as fs from 'node:fs';
import type { WireMessage } from '../network/link/protocol';

/** Version of the record format; `booster plot` reads this one. */
const RECORD_VERSION = 1;

/** First line of a recording. */
export interface RecordHeader {
  readonly t: number;
  readonly kind: 'booster-record';
  readonly version: number;
  /** The node's booster endpoint, as the user named it. */
  readonly node: string;
  /** Which monitor streams were recorded. */
  readonly features: readonly ('node' | 'net')[];
}

/** Every later line: the time it arrived (epoch ms) and the monitor message's fields. */
export type RecordLine = { readonly t: number } & WireMessage;

/** A recorded monitor stream: `{ "t", "kind", ...fields }` JSON lines after a header line. */
export class Recorder {
  private readonly out: fs.WriteStream;
  private failure?: Error;

  private constructor(
    readonly file: string,
    out: fs.WriteStream,
  ) {
    this.out = out;
    out.on('error', (err) => (this.failure = err));
  }

  /** Creates (or truncates) `file` and writes the header; fails early if the file cannot be written. */
  static async open(file: string, node: string, features: readonly ('node' | 'net')[]): Promise<Recorder> {
    const handle = await fs.promises.open(file, 'w').catch((err: Error) => {
      throw new Error(`cannot record to ${file}: ${err.message}`);
    });
    // The stream must own the FileHandle: a bare fd lets the handle be garbage-collected, which closes the file mid-recording.
    const recorder = new Recorder(file, handle.createWriteStream());
    const header: RecordHeader = { t: Date.now(), kind: 'booster-record', version: RECORD_VERSION, node, features };
    recorder.out.write(`${JSON.stringify(header)}\n`);
    return recorder;
  }

  write(m: WireMessage, t = Date.now()): void {
    if (m.kind === 'result') return;
    this.out.write(`${JSON.stringify({ t, ...m })}\n`);
  }

  /** Flushes and closes the file; rejects if any write failed. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.out.end(() => (this.failure ? reject(new Error(`recording to ${this.file} failed: ${this.failure.message}`)) : resolve()));
    });
  }
}

/** A recording read back: its header and lines, each checked for a time and a kind. */
export function parseRecord(text: string, file = 'recording'): { header: RecordHeader; lines: RecordLine[] } {
  const rows = text
    .split('\n')
    .map((l, i) => ({ l: l.trim(), n: i + 1 }))
    .filter((r) => r.l.length > 0);
  const parsed = rows.map(({ l, n }) => {
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch (err) {
      throw new Error(`${file} line ${n}: not JSON (${(err as Error).message})`);
    }
    const o = v as { t?: unknown; kind?: unknown };
    if (typeof o !== 'object' || o === null || typeof o.t !== 'number' || typeof o.kind !== 'string')
      throw new Error(`${file} line ${n}: expected an object with a numeric "t" and a "kind"`);
    return v;
  });
  const header = parsed[0] as RecordHeader | undefined;
  if (!header || header.kind !== 'booster-record') throw new Error(`${file} is not a booster recording (no header line; record one with --record)`);
  if (header.version !== RECORD_VERSION) throw new Error(`${file} is a version ${header.version} recording; this booster reads version ${RECORD_VERSION}`);
  return { header, lines: parsed.slice(1) as RecordLine[] };
}
