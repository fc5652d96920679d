import * as net from 'node:net';
import type { Socket } from 'node:net';
import { Socks5Reply } from '../dispatch/errors';
import { sameSecret } from './credentials';
import { ipv6FromBytes, ipv6ToBytes } from './ip';
import { HandshakeError, type HandshakeReader } from './reader';
import { targetOf, type HandshakeContext, type InboundRequest } from './request';

const VERSION = 0x05;
const NO_AUTH = 0x00;
const USER_PASS = 0x02;
const NO_ACCEPTABLE = 0xff;
const CMD_CONNECT = 0x01;
const CMD_NAMES: Record<number, string> = { 0x02: 'BIND', 0x03: 'UDP ASSOCIATE' };
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;

/**
 * SOCKS5 (RFC 1928) CONNECT, with username/password (RFC 1929) when `auth` is
 * set. Throws HandshakeError on malformed or refused input, after writing the
 * reply the RFC calls for (if any).
 */
export async function socks5Handshake(reader: HandshakeReader, client: Socket, ctx: HandshakeContext): Promise<InboundRequest> {
  const [version, nmethods] = await reader.read(2);
  if (version !== VERSION) throw new HandshakeError(`SOCKS5 greeting has version ${version}`);
  if (nmethods === 0) throw new HandshakeError('SOCKS5 greeting offers zero authentication methods');
  const methods = await reader.read(nmethods);
  const wanted = ctx.auth ? USER_PASS : NO_AUTH;
  if (!methods.includes(wanted)) {
    client.end(Buffer.from([VERSION, NO_ACCEPTABLE]));
    throw new HandshakeError(`SOCKS5 client offers methods [${[...methods].join(', ')}], none acceptable (this proxy needs ${wanted === USER_PASS ? 'username/password (2)' : 'no authentication (0)'})`);
  }
  client.write(Buffer.from([VERSION, wanted]));
  if (ctx.auth) await authenticate(reader, client, ctx.auth);

  const [ver, cmd, rsv, atyp] = await reader.read(4);
  if (ver !== VERSION) throw new HandshakeError(`SOCKS5 request has version ${ver}`);
  if (rsv !== 0) ctx.log.debug(`SOCKS5 client ${ctx.peer} sent a non-zero reserved byte (${rsv}); ignored`);
  let host: string;
  if (atyp === ATYP_IPV4) host = [...(await reader.read(4))].join('.');
  else if (atyp === ATYP_IPV6) host = ipv6FromBytes(await reader.read(16));
  else if (atyp === ATYP_DOMAIN) {
    const [len] = await reader.read(1);
    if (len === 0) {
      client.end(failure(Socks5Reply.GeneralFailure));
      throw new HandshakeError('SOCKS5 request has an empty domain name');
    }
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
  if (ver !== 0x01) {
    client.end(Buffer.from([0x01, 0x01]));
    throw new HandshakeError(`RFC 1929 sub-negotiation has version ${ver}`);
  }
  const user = Buffer.from(await reader.read(ulen));
  const [plen] = await reader.read(1);
  const pass = await reader.read(plen);
  if (!(sameSecret(user, Buffer.from(auth.username)) & sameSecret(pass, Buffer.from(auth.password)))) {
    client.end(Buffer.from([0x01, 0x01]));
    throw new HandshakeError(`SOCKS5 authentication failed for user "${user.toString('utf8').slice(0, 64)}"`);
  }
  client.write(Buffer.from([0x01, 0x00]));
}

/** Success reply with BND.ADDR/BND.PORT (0.0.0.0:0 when the bound address is unknown or not an IP). */
function success(bound?: { host: string; port: number }): Buffer {
  const host = bound?.host ?? '';
  const port = bound && Number.isInteger(bound.port) && bound.port >= 0 && bound.port < 65536 ? bound.port : 0;
  if (net.isIPv6(host.replace(/%.*$/, ''))) {
    const out = Buffer.alloc(22);
    out.set([VERSION, Socks5Reply.Succeeded, 0, ATYP_IPV6]);
    ipv6ToBytes(host)!.copy(out, 4);
    out.writeUInt16BE(port, 20);
    return out;
  }
  const out = Buffer.alloc(10);
  out.set([VERSION, Socks5Reply.Succeeded, 0, ATYP_IPV4]);
  if (net.isIPv4(host)) out.set(host.split('.').map(Number), 4);
  out.writeUInt16BE(net.isIP(host) ? port : 0, 8);
  return out;
}

function failure(reply: Socks5Reply): Buffer {
  return Buffer.from([VERSION, reply, 0x00, ATYP_IPV4, 0, 0, 0, 0, 0, 0]);
}
