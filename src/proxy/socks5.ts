import * as crypto from 'node:crypto';
import * as net from 'node:net';
import type { Socket } from 'node:net';
import { Socks5Reply } from '../dispatch/errors';
import { HandshakeError, type HandshakeReader } from './reader';
import { targetOf, type HandshakeOptions, type InboundRequest } from './request';

const NO_AUTH = 0x00;
const USER_PASS = 0x02;
const NO_ACCEPTABLE = 0xff;
const CMD_CONNECT = 0x01;
const CMD_NAMES: Record<number, string> = { 0x02: 'BIND', 0x03: 'UDP ASSOCIATE' };

/**
 * SOCKS5 (RFC 1928) with optional username/password (RFC 1929). Returns the
 * request, or undefined when the client was answered and closed (unsupported
 * command or address type). Throws HandshakeError on malformed input.
 */
export async function socks5Handshake(reader: HandshakeReader, client: Socket, options: HandshakeOptions): Promise<InboundRequest | undefined> {
  const [version, nmethods] = await reader.read(2);
  if (version !== 0x05) throw new HandshakeError(`SOCKS5 greeting has version ${version}`);
  if (nmethods === 0) throw new HandshakeError('SOCKS5 greeting offers zero authentication methods');
  const methods = await reader.read(nmethods);
  const wanted = options.auth ? USER_PASS : NO_AUTH;
  if (!methods.includes(wanted)) {
    client.end(Buffer.from([0x05, NO_ACCEPTABLE]));
    throw new HandshakeError(`SOCKS5 client offers methods [${[...methods].join(', ')}], none acceptable (need ${wanted === USER_PASS ? 'username/password' : 'no-auth'})`);
  }
  client.write(Buffer.from([0x05, wanted]));
  if (options.auth) await authenticate(reader, client, options.auth);

  const [ver, cmd, , atyp] = await reader.read(4);
  if (ver !== 0x05) throw new HandshakeError(`SOCKS5 request has version ${ver}`);
  let host: string;
  if (atyp === 0x01) host = [...(await reader.read(4))].join('.');
  else if (atyp === 0x04) host = ipv6(await reader.read(16));
  else if (atyp === 0x03) {
    const [len] = await reader.read(1);
    if (len === 0) throw new HandshakeError('SOCKS5 request has an empty domain name');
    host = (await reader.read(len)).toString('latin1');
  } else {
    client.end(failure(Socks5Reply.AddressTypeNotSupported));
    throw new HandshakeError(`SOCKS5 address type ${atyp} is not supported`);
  }
  const port = (await reader.read(2)).readUInt16BE(0);
  if (cmd !== CMD_CONNECT) {
    client.end(failure(Socks5Reply.CommandNotSupported));
    throw new HandshakeError(`SOCKS5 command ${CMD_NAMES[cmd] ?? cmd} is not supported (CONNECT only)`);
  }
  return {
    target: targetOf(host, port),
    protocol: 'socks5',
    succeed(socket, bound) {
      socket.write(success(bound));
      return undefined;
    },
    fail(socket, reply) {
      socket.end(failure(reply));
    },
  };
}

async function authenticate(reader: HandshakeReader, client: Socket, auth: { username: string; password: string }): Promise<void> {
  const [ver, ulen] = await reader.read(2);
  if (ver !== 0x01) throw new HandshakeError(`RFC 1929 sub-negotiation has version ${ver}`);
  const user = await reader.read(ulen);
  const [plen] = await reader.read(1);
  const pass = await reader.read(plen);
  if (!(equal(user, Buffer.from(auth.username)) & equal(pass, Buffer.from(auth.password)))) {
    client.end(Buffer.from([0x01, 0x01]));
    throw new HandshakeError(`SOCKS5 authentication failed for user "${user.toString('utf8').slice(0, 64)}"`);
  }
  client.write(Buffer.from([0x01, 0x00]));
}

/** Constant-time comparison (1 or 0), whatever the lengths. */
function equal(a: Buffer, b: Buffer): number {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb) ? 1 : 0;
}

function ipv6(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // Let Node print the canonical (compressed) form.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function success(bound?: { host: string; port: number }): Buffer {
  const host = bound?.host ?? '0.0.0.0';
  const port = bound?.port ?? 0;
  const family = net.isIP(host);
  let addr: Buffer;
  if (family === 4) addr = Buffer.from([0x01, ...host.split('.').map(Number)]);
  else if (family === 6) addr = Buffer.concat([Buffer.from([0x04]), ipv6Bytes(host)]);
  else addr = Buffer.from([0x01, 0, 0, 0, 0]);
  const out = Buffer.alloc(3 + addr.length + 2);
  out[0] = 0x05;
  addr.copy(out, 3);
  out.writeUInt16BE(port, 3 + addr.length);
  return out;
}

function failure(reply: Socks5Reply): Buffer {
  return Buffer.from([0x05, reply, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
}

function ipv6Bytes(host: string): Buffer {
  const v4 = host.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i);
  if (v4) return Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4[1].split('.').map(Number)]);
  const [head, tail = ''] = host.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = host.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return out;
}
