import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { Socks5Reply } from '../kernel/connector-errors';
import { NOT_ALLOWED } from './access';
import { ipv6FromBytes, ipv6ToBytes } from './ip';
import { printable } from './printable';
import { HandshakeError, type HandshakeReader } from './reader';
import { targetOf, type CredentialCheck, type HandshakeContext, type InboundRequest } from './request';

const VERSION = 0x05;
const NO_AUTH = 0x00;
const USER_PASS = 0x02;
/** booster's private method (RFC 1928 reserves 0x80–0xFE): TLS with the network key, then a fresh SOCKS5 handshake inside. */
export const BOOSTER_TLS = 0x86;
const NO_ACCEPTABLE = 0xff;
const CMD_CONNECT = 0x01;
const CMD_NAMES: Record<number, string> = { 0x02: 'BIND', 0x03: 'UDP ASSOCIATE' };
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;

/** Method replies, shared: a written Buffer is only read. */
const CHOSE_NO_AUTH = Buffer.from([VERSION, NO_AUTH]);
const CHOSE_USER_PASS = Buffer.from([VERSION, USER_PASS]);

/** The client chose method 0x86: the caller runs TLS over the socket, then serves a new handshake inside. */
export const UPGRADE_TO_TLS = { upgrade: 'tls' } as const;

export function isTlsUpgrade(outcome: object): outcome is typeof UPGRADE_TO_TLS {
  return outcome === UPGRADE_TO_TLS;
}

/**
 * SOCKS5 (RFC 1928) CONNECT. The method is chosen by who the client is: 0x86
 * (booster TLS) when offered and the proxy has the network key; no
 * authentication for an admitted client; username/password (RFC 1929) when
 * the proxy has credentials; otherwise 0xFF. Throws HandshakeError on
 * malformed or refused input, after writing the reply the RFC calls for (if any).
 */
export async function socks5Handshake(reader: HandshakeReader, client: Duplex, ctx: HandshakeContext): Promise<InboundRequest | typeof UPGRADE_TO_TLS> {
  const [version, nmethods] = reader.readNow(2) ?? (await reader.read(2));
  if (version !== VERSION) throw new HandshakeError(`SOCKS5 greeting has version ${version}`);
  if (nmethods === 0) throw new HandshakeError('SOCKS5 greeting offers zero authentication methods');
  const methods = reader.readNow(nmethods) ?? (await reader.read(nmethods));
  const { access } = ctx;
  if (access.tlsUpgrade && methods.includes(BOOSTER_TLS)) {
    client.write(Buffer.from([VERSION, BOOSTER_TLS]));
    return UPGRADE_TO_TLS;
  }
  const method = access.admitted && methods.includes(NO_AUTH) ? NO_AUTH : access.credentials && methods.includes(USER_PASS) ? USER_PASS : NO_ACCEPTABLE;
  if (method === NO_ACCEPTABLE) {
    client.end(Buffer.from([VERSION, NO_ACCEPTABLE]));
    if (!access.admitted && !access.credentials) throw new HandshakeError(`SOCKS5 client not allowed: ${NOT_ALLOWED}`);
    const needs = access.admitted ? 'no authentication (0)' : 'username/password (2)';
    throw new HandshakeError(`SOCKS5 client offers methods [${[...methods].join(', ')}], none acceptable (this proxy needs ${needs})`);
  }
  client.write(method === NO_AUTH ? CHOSE_NO_AUTH : CHOSE_USER_PASS);
  if (method === USER_PASS) await authenticate(reader, client, access.credentials!);

  const [ver, cmd, rsv, atyp] = reader.readNow(4) ?? (await reader.read(4));
  if (ver !== VERSION) throw new HandshakeError(`SOCKS5 request has version ${ver}`);
  if (rsv !== 0) ctx.log.debug(`SOCKS5 client ${ctx.peer} sent a non-zero reserved byte (${rsv}); ignored`);
  let host: string;
  if (atyp === ATYP_IPV4) {
    const [a, b, c, d] = reader.readNow(4) ?? (await reader.read(4));
    host = `${a}.${b}.${c}.${d}`;
  } else if (atyp === ATYP_IPV6) host = ipv6FromBytes(reader.readNow(16) ?? (await reader.read(16)));
  else if (atyp === ATYP_DOMAIN) {
    const [len] = reader.readNow(1) ?? (await reader.read(1));
    if (len === 0) {
      client.end(failure(Socks5Reply.GeneralFailure));
      throw new HandshakeError('SOCKS5 request has an empty domain name');
    }
    host = (reader.readNow(len) ?? (await reader.read(len))).toString('latin1');
  } else {
    client.end(failure(Socks5Reply.AddressTypeNotSupported));
    throw new HandshakeError(`SOCKS5 address type ${atyp} is not supported`);
  }
  const portBytes = reader.readNow(2) ?? (await reader.read(2));
  const port = (portBytes[0] << 8) | portBytes[1];
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

async function authenticate(reader: HandshakeReader, client: Duplex, credentials: CredentialCheck): Promise<void> {
  const [ver, ulen] = await reader.read(2);
  if (ver !== 0x01) {
    client.end(Buffer.from([0x01, 0x01]));
    throw new HandshakeError(`RFC 1929 sub-negotiation has version ${ver}`);
  }
  const user = Buffer.from(await reader.read(ulen));
  const [plen] = await reader.read(1);
  const pass = Buffer.from(await reader.read(plen));
  const verdict = await credentials.check(user, pass);
  if (verdict !== 'ok') {
    client.end(Buffer.from([0x01, 0x01]));
    const who = `user "${printable(user.toString('utf8'), 64)}"`;
    throw new HandshakeError(
      verdict === 'locked-out' ? `SOCKS5 login refused for ${who}: too many failed logins from this address` : `SOCKS5 authentication failed for ${who}`,
    );
  }
  client.write(Buffer.from([0x01, 0x00]));
}

/** Success reply with BND.ADDR/BND.PORT (0.0.0.0:0 when the bound address is unknown or not an IP). */
function success(bound?: { host: string; port: number }): Buffer {
  const host = bound?.host ?? '';
  const port = bound && Number.isInteger(bound.port) && bound.port >= 0 && bound.port < 65536 ? bound.port : 0;
  // One address check per reply (this runs for every connection); a zone id ("fe80::1%eth0") is dropped.
  const family = net.isIP(host) || (host.includes('%') && net.isIPv6(host.replace(/%.*$/, '')) ? 6 : 0);
  if (family === 6) {
    const out = Buffer.alloc(22);
    out.set([VERSION, Socks5Reply.Succeeded, 0, ATYP_IPV6]);
    ipv6ToBytes(host)!.copy(out, 4);
    out.writeUInt16BE(port, 20);
    return out;
  }
  const out = Buffer.alloc(10);
  out[0] = VERSION;
  out[1] = Socks5Reply.Succeeded;
  out[3] = ATYP_IPV4;
  if (family === 4) {
    const [a, b, c, d] = host.split('.');
    out[4] = +a;
    out[5] = +b;
    out[6] = +c;
    out[7] = +d;
    out.writeUInt16BE(port, 8);
  }
  return out;
}

function failure(reply: Socks5Reply): Buffer {
  return Buffer.from([VERSION, reply, 0x00, ATYP_IPV4, 0, 0, 0, 0, 0, 0]);
}
