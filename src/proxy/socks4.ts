import type { Socket } from 'node:net';
import { HandshakeError, type HandshakeReader } from './reader';
import { targetOf, type InboundRequest } from './request';

const GRANTED = 0x5a;
const REJECTED = 0x5b;
const MAX_FIELD = 255;

/** SOCKS4 and SOCKS4a CONNECT. No authentication (SOCKS4's USERID is read and ignored). */
export async function socks4Handshake(reader: HandshakeReader, client: Socket): Promise<InboundRequest> {
  const head = await reader.read(8);
  const [version, cmd] = head;
  if (version !== 0x04) throw new HandshakeError(`SOCKS4 request has version ${version}`);
  const port = head.readUInt16BE(2);
  const ip = [...head.subarray(4, 8)];
  await readField(reader, 'USERID');
  let host: string;
  if (ip[0] === 0 && ip[1] === 0 && ip[2] === 0 && ip[3] !== 0) {
    host = (await readField(reader, 'domain name')).toString('latin1');
    if (!host) throw new HandshakeError('SOCKS4a request has an empty domain name');
  } else {
    host = ip.join('.');
  }
  if (cmd !== 0x01) {
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

async function readField(reader: HandshakeReader, name: string): Promise<Buffer> {
  const field = await reader.readUntil(Buffer.from([0]), MAX_FIELD + 1, () => new HandshakeError(`SOCKS4 ${name} is longer than ${MAX_FIELD} bytes`));
  return field.subarray(0, -1);
}

function reply(code: number): Buffer {
  return Buffer.from([0x00, code, 0, 0, 0, 0, 0, 0]);
}
