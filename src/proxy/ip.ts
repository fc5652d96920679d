import * as net from 'node:net';

/** The 16 bytes of an IPv6 address (zone id ignored); undefined if `host` is not one. */
export function ipv6ToBytes(host: string): Buffer | undefined {
  const addr = host.replace(/%.*$/, '');
  if (net.isIPv6(addr) === false) return undefined;
  let groups: string[];
  const tail: number[] = [];
  let text = addr;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    tail.push(...v4[1].split('.').map(Number));
    text = text.slice(0, -v4[1].length) + '0:0';
  }
  const [head, rest] = text.split('::');
  const h = head ? head.split(':') : [];
  if (rest === undefined) groups = h;
  else {
    const t = rest ? rest.split(':') : [];
    groups = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  }
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  if (tail.length) Buffer.from(tail).copy(out, 12);
  return out;
}

/** Canonical (RFC 5952, compressed lowercase) text of 16 IPv6 bytes. */
export function ipv6FromBytes(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}
