import * as tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { NetworkKey } from './key';

/** TLS 1.3 only; ChaCha20 first for CPUs without AES instructions (a Raspberry Pi), AES-GCM otherwise. */
const CIPHERS = 'TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384';
const IDENTITY = 'booster.v1';
/** RFC 9266-style channel binding: both ends of one TLS session compute the same value. */
const EXPORTER_LABEL = 'EXPORTER-booster-channel-binding';

/** The TLS side of a failed handshake, in words a user can act on. */
export class TlsError extends Error {
  constructor(
    message: string,
    readonly code: 'key-mismatch' | 'timeout' | 'tls',
  ) {
    super(message);
    this.name = 'TlsError';
  }
}

/**
 * TLS 1.3 with a pre-shared key derived from the network key: both sides prove
 * they hold it (a wrong key fails the handshake's binder check) and the stream
 * is encrypted. No certificates: the network key is the only trust anchor.
 */
export class PskTls {
  readonly #psk: Buffer;

  constructor(key: NetworkKey) {
    this.#psk = key.derive('booster tls psk v1');
  }

  /** Runs the client side of TLS over an established stream (a socket the caller no longer reads). */
  client(stream: Duplex, timeoutMs: number, signal?: AbortSignal): Promise<tls.TLSSocket> {
    const socket = tls.connect({
      socket: stream,
      minVersion: 'TLSv1.3',
      ciphers: CIPHERS,
      pskCallback: () => ({ psk: this.#psk, identity: IDENTITY }),
      checkServerIdentity: () => undefined,
    });
    return settle(socket, 'secureConnect', timeoutMs, signal);
  }

  /** Runs the server side of TLS over an established stream. */
  server(stream: Duplex, timeoutMs: number, signal?: AbortSignal): Promise<tls.TLSSocket> {
    const socket = new tls.TLSSocket(stream, {
      isServer: true,
      minVersion: 'TLSv1.3',
      ciphers: CIPHERS,
      pskCallback: (_socket: tls.TLSSocket, identity: string) => (identity === IDENTITY ? this.#psk : null),
    } as tls.TLSSocketOptions);
    return settle(socket, 'secure', timeoutMs, signal);
  }
}

/** The channel-binding value of a TLS link, or an empty buffer for anything else. */
export function channelBinding(stream: Duplex): Buffer {
  return stream instanceof tls.TLSSocket && stream.encrypted ? stream.exportKeyingMaterial(32, EXPORTER_LABEL, Buffer.alloc(0)) : Buffer.alloc(0);
}

function settle(socket: tls.TLSSocket, event: 'secure' | 'secureConnect', timeoutMs: number, signal?: AbortSignal): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off(event, onSecure);
      socket.off('close', onClose);
      socket.off('end', onClose);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve(socket);
    };
    const onSecure = () => done();
    const onError = (err: Error) => done(describe(err));
    const onClose = () => done(new TlsError('the other side closed the connection during the TLS handshake (does it hold this network key?)', 'key-mismatch'));
    const onAbort = () => done(Object.assign(new Error('TLS handshake aborted'), { name: 'AbortError', code: 'ABORT_ERR' }));
    const timer = setTimeout(() => done(new TlsError(`TLS handshake not completed within ${timeoutMs} ms`, 'timeout')), timeoutMs);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once(event, onSecure);
    socket.once('error', onError);
    // An EOF in the middle of the handshake (a half-open socket) is as final as a close.
    socket.once('close', onClose);
    socket.once('end', onClose);
  });
}

function describe(err: Error): TlsError {
  const m = err.message;
  if (/binder does not verify|decrypt|illegal parameter|bad record mac|psk/i.test(m)) {
    return new TlsError('TLS handshake failed: the other side does not hold this network key', 'key-mismatch');
  }
  const code = (err as NodeJS.ErrnoException).code;
  return new TlsError(`TLS handshake failed: ${code && !/^ERR_SSL/.test(code) ? code : m.split(':').pop()?.trim() || m}`, 'tls');
}
