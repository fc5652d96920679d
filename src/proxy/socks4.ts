import type { Duplex } from 'node:stream';
import { NOT_ALLOWED } from './access';
import { HandshakeError, type HandshakeReader } from './reader';
import { targetOf, type HandshakeContext, type InboundRequest } from './request';

const GRANTED = 0x5a;
const REJECTED = 0x5b;
const CMD_CONNECT = 0x01;
/** Longest USERID or SOCKS4a domain name accepted, without the terminating null. */
const MAX_FIELD = 255;

/**
 * SOCKS4 and SOCKS4a CONNECT (DSTIP 0.0.0.x, x ≠ 0, means a domain name
 * follows the USERID). SOCKS4 has no authentication: a client that is not
 * admitted without credentials is refused (0x5B) before its request is read.
 */
export async function socks4Handshake(reader: HandshakeReader, client: Duplex, ctx: HandshakeContext): Promise<InboundRequest> {
  if (!ctx.access.admitted) {
    client.end(reply(REJECTED));
    throw new HandshakeError(
      ctx.access.credentials
        ? 'SOCKS4 has no authentication and this proxy requires it; use SOCKS5 or HTTP with credentials'
        : `SOCKS4 client not allowed: ${NOT_ALLOWED}`,
    );
  }
  const head = Buffer.from(await reader.read(8));
  const cmd = head[1];
  const port = head.readUInt16BE(2);
  const ip = [...head.subarray(4, 8)];
  await readField(reader, client, 'USERID');
  const socks4a = ip[0] === 0 && ip[1] === 0 && ip[2] === 0 && ip[3] !== 0;
  const host = socks4a ? (await readField(reader, client, 'domain name')).toString('latin1') : ip.join('.');
  if (socks4a && !host) {
    client.end(reply(REJECTED));
    throw new HandshakeError('SOCKS4a request has an empty domain name');
  }
  if (cmd !== CMD_CONNECT) {
    client.end(reply(REJECTED));
    throw new HandshakeError(`SOCKS4 command ${cmd === 0x02 ? 'BIND' : cmd} is not supported (CONNECT only)`);
  }
  return {
    target: targetOf(host, port),
    protocol: 'socks4',
    succeed(socket) {
      socket.write(reply(GRANTED));
      return undefined;
    },
    fail(socket) {
      socket.end(reply(REJECTED));
    },
  };
}

async function readField(reader: HandshakeReader, client: Duplex, name: string): Promise<Buffer> {
  const field = await reader.readUntil(Buffer.from([0]), MAX_FIELD + 1, () => {
    client.end(reply(REJECTED));
    return new HandshakeError(`SOCKS4 ${name} is longer than ${MAX_FIELD} bytes`);
  });
  return field.subarray(0, -1);
}

function reply(code: number): Buffer {
  return Buffer.from([0x00, code, 0, 0, 0, 0, 0, 0]);
}
