import * as fs from 'node:fs';
import * as path from 'node:path';
import { VECTORS } from '../helpers/paths';

export const VECTORS_DIR = VECTORS;

/** What the vectors README says about one file. */
export interface VectorSpec {
  readonly file: string;
  readonly bytes: Buffer;
  readonly messageId: number;
  readonly length: number;
  readonly encoding: number;
  readonly compression: number;
  readonly encryption: number;
  readonly count: number;
  readonly order: readonly { id: string; size: number }[];
  readonly header?: { id: number; modules: string[]; seconds: number; nanos: number; version: string };
  readonly jsonHeader?: number;
  readonly fields: Record<string, unknown>;
  readonly jsonText?: string;
}

/** Parses the per-file sections of vectors/README.md into expectations. */
export function loadVectors(): VectorSpec[] {
  const readme = fs.readFileSync(path.join(VECTORS_DIR, 'README.md'), 'utf8');
  const sections = readme.split(/^### `/m).slice(1);
  return sections.map((section) => {
    const file = section.slice(0, section.indexOf('`'));
    const bytes = Buffer.from(fs.readFileSync(path.join(VECTORS_DIR, file), 'utf8').trim(), 'hex');
    const msg = /- message: \*\*\w+\*\* \(id (\d+)\), (\d+) bytes/.exec(section)!;
    const fr = /- framing: encoding=(\d) .*?, compression=(\d), encryption=(\d), module count=(\d+), module order on the wire: (.*)/.exec(section)!;
    const order = [...fr[5].matchAll(/(HE|PA) \((\d+) bytes?\)/g)].map((m) => ({ id: m[1], size: Number(m[2]) }));
    const h = /- header \(protobuf `Header`\): id=(\d+), modules=(\[[^\]]*\])[^,]*, sentAt=\{seconds: (\d+), nanos: (\d+)\}.*protocolVersion="([^"]+)"/.exec(
      section,
    );
    const jh = /the HE module is the bare JSON number `(\d+)`/.exec(section);
    const json = /- payload \(JSON, exact text\): `(.*)`$/m.exec(section);
    const fields: Record<string, unknown> = {};
    for (const m of section.matchAll(/^ {2}- (\w+) \(\d+\) (\+?=) (.*)$/gm)) {
      const [, name, op, raw] = m;
      if (op === '+=') {
        const t = /Tunnel\{id \(1\) = "(\w+)", target \(2\) = "([^"]+)", copies \(4\) = (\d+)\}/.exec(raw)!;
        ((fields[name] ??= []) as unknown[]).push({ id: t[1], target: t[2], copies: Number(t[3]) });
      } else {
        fields[name] = parseValue(raw);
      }
    }
    return {
      file,
      bytes,
      messageId: Number(msg[1]),
      length: Number(msg[2]),
      encoding: Number(fr[1]),
      compression: Number(fr[2]),
      encryption: Number(fr[3]),
      count: Number(fr[4]),
      order,
      header: h ? { id: Number(h[1]), modules: JSON.parse(h[2]) as string[], seconds: Number(h[3]), nanos: Number(h[4]), version: h[5] } : undefined,
      jsonHeader: jh ? Number(jh[1]) : undefined,
      fields,
      jsonText: json?.[1],
    };
  });
}

function parseValue(raw: string): unknown {
  if (raw.startsWith('"')) return JSON.parse(raw.slice(0, raw.indexOf('"', 1) + 1));
  if (raw.startsWith('true')) return true;
  if (raw.startsWith('false')) return false;
  if (raw.startsWith('[]')) return [];
  const ts = /^Timestamp\{seconds: (\d+), nanos: (\d+)\}/.exec(raw);
  if (ts) return { seconds: Number(ts[1]), nanos: Number(ts[2]) };
  const n = /^(-?\d+)/.exec(raw);
  if (n) return Number(n[1]);
  throw new Error(`cannot parse vector field value: ${raw}`);
}
