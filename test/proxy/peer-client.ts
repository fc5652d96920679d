// The client side of SOCKS5 method 0x86 (booster TLS), as a booster peer does it: for tests of the proxy's server side.
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { SocksClient } from 'socks';
import type { LinkSecurity } from '../../src/api/security';
import { resolveSettings } from '../../src/core/config';
import type { NetworkKey } from '../../src/security/key';
import { NodeSecurity } from '../../src/security/node-security';
import { TEST_KEY } from '../helpers/key';

/** A NodeSecurity for `key` (the shared test key unless given); its TLS handshakes time out after authTimeoutMs. */
export function securityFor(key: NetworkKey = TEST_KEY, authTimeoutMs = 3000): NodeSecurity {
  return new NodeSecurity(key, resolveSettings({ limits: { authTimeoutMs } as never }));
}

export interface PeerConnection {
  /** The TCP socket under the TLS stream. */
  readonly raw: net.Socket;
  readonly secured: Duplex;
}

/** Connects, offers method 0x86 alone, expects [05 86], then runs TLS as the client; rejects if any step fails. */
export async function connectAsPeer(port: number, security: LinkSecurity, host = '127.0.0.1'): Promise<PeerConnection> {
  const raw = net.connect({ port, host });
  raw.on('error', () => undefined);
  try {
    await new Promise<void>((resolve, reject) => {
      raw.once('error', reject);
      raw.once('connect', () => {
        raw.off('error', reject);
        resolve();
      });
    });
    raw.write(Buffer.from([0x05, 0x01, 0x86]));
    const reply = await readExactly(raw, 2);
    if (reply[0] !== 0x05 || reply[1] !== 0x86) throw new Error(`proxy answered method 0x86 with ${reply.toString('hex')}`);
    const secured = await security.secureClient(raw);
    secured.on('error', () => undefined);
    return { raw, secured };
  } catch (err) {
    raw.destroy();
    throw err;
  }
}

/** A SOCKS5 CONNECT (method 0x00) inside the TLS stream, with the socks package; resolves with the stream to the target. */
export async function openAsPeer(port: number, security: LinkSecurity, destination: { host: string; port: number }): Promise<PeerConnection> {
  const peer = await connectAsPeer(port, security);
  try {
    await SocksClient.createConnection({
      proxy: { host: '127.0.0.1', port, type: 5 },
      command: 'connect',
      destination,
      existing_socket: peer.secured,
      timeout: 5000,
    });
    return peer;
  } catch (err) {
    peer.raw.destroy();
    throw err;
  }
}

/** Reads exactly n bytes, consuming nothing beyond them (TLS takes the socket over after). */
function readExactly(socket: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onReadable = () => {
      const chunk = socket.read(n) as Buffer | null;
      if (chunk) done(() => resolve(chunk));
    };
    const onEnd = () => done(() => reject(new Error(`proxy closed the connection before its ${n}-byte reply`)));
    const done = (fn: () => void) => {
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      fn();
    };
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
  });
}
