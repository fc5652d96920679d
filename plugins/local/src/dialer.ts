import * as dns from 'node:dns';
import * as net from 'node:net';
import type { AddressGuard, Dialer, DialRequest, DialResult } from 'booster';

/** Opens a TCP connection from this machine; resolves names with the local resolver. */
export class DirectDialer implements Dialer {
  readonly id = 'direct';

  dial({ target, source, signal, socketOptions, guard }: DialRequest): Promise<DialResult> {
    return new Promise((resolve, reject) => {
      // net.connect skips the lookup for an address literal: check it here.
      const literalRefusal = guard && net.isIP(target.host) ? guard(target.host) : undefined;
      if (literalRefusal) return reject(notAllowed(target.host, literalRefusal));
      const localAddress = source.localAddress;
      const socket = net.connect({
        ...socketOptions,
        host: target.host,
        port: target.port,
        localAddress,
        family: localAddress ? net.isIP(localAddress) : undefined,
        noDelay: true,
        lookup: guard ? guardedLookup(guard) : undefined,
      });
      // The signal bounds the dial only, never the tunnel's lifetime. Listeners are removed by hand
      // rather than with `once` (no wrapper per dial): this runs for every connection.
      const onAbort = () => socket.destroy(Object.assign(new Error('dial aborted'), { name: 'AbortError', code: 'ABORT_ERR' }));
      const onError = (err: Error) => {
        signal.removeEventListener('abort', onAbort);
        socket.off('connect', onConnect);
        socket.off('error', onError);
        socket.destroy();
        reject(err);
      };
      const onConnect = () => {
        signal.removeEventListener('abort', onAbort);
        socket.off('connect', onConnect);
        socket.off('error', onError);
        resolve({ socket, bound: { host: socket.localAddress ?? '0.0.0.0', port: socket.localPort ?? 0 } });
      };
      socket.on('error', onError);
      socket.on('connect', onConnect);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort);
    });
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * dns.lookup that drops the addresses `guard` forbids (a name may resolve to
 * 127.0.0.1, or to this machine's own address) and fails when none is left.
 * Handles both forms net.connect uses: one address, and `all: true` (Happy
 * Eyeballs).
 */
function guardedLookup(guard: AddressGuard): (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => void {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, options.all ? [] : '');
      const allowed = addresses.filter((a) => guard(a.address) === undefined);
      if (allowed.length === 0) {
        const first = addresses[0]?.address ?? hostname;
        return callback(notAllowed(hostname, `it resolves to ${first}; ${guard(first) ?? ''}`), options.all ? [] : '');
      }
      if (options.all) callback(null, allowed);
      else callback(null, allowed[0].address, allowed[0].family);
    });
  };
}

function notAllowed(host: string, why: string): Error {
  return Object.assign(new Error(`connection to ${host} not allowed: ${why} (off limits to clients that are not on this machine)`), {
    code: 'ERR_TARGET_NOT_ALLOWED',
    socksReply: 2,
  });
}
