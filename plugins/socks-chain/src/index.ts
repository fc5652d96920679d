import * as net from 'node:net';
import { SocksClient } from 'socks';
import type { Dialer, DialRequest, DialResult, PluginContext } from 'booster';

/** RFC 1928 reply names as the socks package spells them, to recover the peer's reply code. */
const REPLY_NAMES: Record<string, number> = {
  Failure: 1, NotAllowed: 2, NetworkUnreachable: 3, HostUnreachable: 4, ConnectionRefused: 5,
  TTLExpired: 6, CommandNotSupported: 7, AddressNotSupported: 8,
};

/**
 * Reaches the target through a peer's SOCKS5 proxy. The target name is passed
 * unresolved, so the peer resolves it with its own DNS. A failure to reach the
 * peer's proxy is the source's fault (reply 0x01, counts against its health);
 * the peer's own reply (refused, unreachable...) is passed on as is.
 */
export class SocksChainDialer implements Dialer {
  readonly id = 'socks5-chain';

  async dial({ target, source, signal }: DialRequest): Promise<DialResult> {
    if (!source.proxy) throw Object.assign(new Error(`source ${source.id} has no proxy address`), { socksReply: 1 });
    const proxySocket = await connectToProxy(source.proxy, signal);
    const onAbort = () => proxySocket.destroy(Object.assign(new Error('dial aborted'), { code: 'ABORT_ERR' }));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const { socket } = await SocksClient.createConnection({
        proxy: { host: source.proxy.host, port: source.proxy.port, type: 5 },
        command: 'connect',
        destination: { host: target.host, port: target.port },
        existing_socket: proxySocket,
        timeout: 60_000,
      });
      return { socket, bound: { host: proxySocket.localAddress ?? '0.0.0.0', port: proxySocket.localPort ?? 0 } };
    } catch (err) {
      proxySocket.destroy();
      if (signal.aborted) throw Object.assign(new Error('dial aborted'), { code: 'ABORT_ERR' });
      const message = (err as Error).message;
      const reply = REPLY_NAMES[message.split(' - ').pop()?.trim() ?? ''];
      throw Object.assign(new Error(`peer proxy ${source.proxy.host}:${source.proxy.port}: ${message}`), { socksReply: reply ?? 1 });
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

function connectToProxy(proxy: { host: string; port: number }, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: proxy.host, port: proxy.port, noDelay: true });
    const onAbort = () => socket.destroy(Object.assign(new Error('dial aborted'), { name: 'AbortError', code: 'ABORT_ERR' }));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err.code === 'ABORT_ERR') reject(err);
      else reject(Object.assign(new Error(`cannot reach peer proxy ${proxy.host}:${proxy.port}: ${err.code ?? err.message}`), { socksReply: 1 }));
    });
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

export function activate(context: PluginContext): void {
  context.subscriptions.push(context.dialers.register(new SocksChainDialer()));
}
