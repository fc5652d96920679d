import * as net from 'node:net';
import { SocksClient } from 'socks';
import type { Duplex } from 'node:stream';
import type { Dialer, DialRequest, DialResult, LinkSecurity, PluginContext } from 'booster';

/** SOCKS5 private method (RFC 1928 reserves 0x80–0xFE): TLS keyed by the network key, then SOCKS5 inside. */
const METHOD_BOOSTER_TLS = 0x86;

/** RFC 1928 reply names as the socks package spells them, to recover the peer's reply code. */
const REPLY_NAMES: Record<string, number> = {
  Failure: 1,
  NotAllowed: 2,
  NetworkUnreachable: 3,
  HostUnreachable: 4,
  ConnectionRefused: 5,
  TTLExpired: 6,
  CommandNotSupported: 7,
  AddressNotSupported: 8,
};

/**
 * Reaches the target through a peer's SOCKS5 proxy. The target name is passed
 * unresolved, so the peer resolves it with its own DNS. A failure to reach the
 * peer's proxy is the source's fault (reply 0x01, counts against its health);
 * the peer's own reply (refused, unreachable...) is passed on as is.
 */
export class SocksChainDialer implements Dialer {
  readonly id = 'socks5-chain';

  constructor(private readonly security: LinkSecurity) {}

  async dial({ target, source, signal }: DialRequest): Promise<DialResult> {
    if (!source.proxy) throw Object.assign(new Error(`source ${source.id} has no proxy address`), { socksReply: 1 });
    const proxySocket = await connectToProxy(source.proxy, signal);
    // An abort closes the socket without an error: the phase in progress
    // (method negotiation, TLS, SOCKS) then fails, and the catch below turns
    // that into ABORT_ERR. A socket destroyed *with* an error emits it only
    // once its handle has closed, after this dial has settled and dropped its
    // listeners: that error would be uncaught and take the node down (seen
    // when a peer went down mid-dial). For the same reason a failed dial
    // leaves `keepCaught` on the dead socket.
    const keepCaught = () => {};
    proxySocket.on('error', keepCaught);
    const onAbort = () => proxySocket.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    let handedOver = false;
    try {
      // A peer that proved it holds the network key is reached through TLS; a 0.3 peer through plain SOCKS5.
      const carrier = source.proxy.secure ? await this.secure(proxySocket, source.proxy, signal) : proxySocket;
      const { socket } = await SocksClient.createConnection({
        proxy: { host: source.proxy.host, port: source.proxy.port, type: 5 },
        command: 'connect',
        destination: { host: target.host, port: target.port },
        existing_socket: carrier,
        timeout: 60_000,
      });
      handedOver = true;
      return { socket, bound: { host: proxySocket.localAddress ?? '0.0.0.0', port: proxySocket.localPort ?? 0 } };
    } catch (err) {
      proxySocket.destroy();
      if (signal.aborted) throw Object.assign(new Error('dial aborted'), { code: 'ABORT_ERR' });
      if ((err as { socksReply?: number }).socksReply !== undefined) throw err;
      const message = (err as Error).message;
      const reply = REPLY_NAMES[message.split(' - ').pop()?.trim() ?? ''];
      throw Object.assign(new Error(`peer proxy ${source.proxy.host}:${source.proxy.port}: ${message}`), { socksReply: reply ?? 1 });
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (handedOver) proxySocket.off('error', keepCaught);
    }
  }

  /** Offers only method 0x86; on the peer's go-ahead, runs TLS over the socket (the peer then speaks SOCKS5 inside). */
  private async secure(socket: net.Socket, proxy: { host: string; port: number }, signal: AbortSignal): Promise<Duplex> {
    const where = `peer proxy ${proxy.host}:${proxy.port}`;
    const reply = await new Promise<Buffer>((resolve, reject) => {
      let got = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (got.length < 2) return;
        cleanup();
        socket.pause();
        if (got.length > 2) reject(Object.assign(new Error(`${where} sent unexpected bytes after its method reply`), { socksReply: 1 }));
        else resolve(got);
      };
      const onClose = () => {
        cleanup();
        reject(Object.assign(new Error(`${where} closed the connection during method negotiation`), { socksReply: 1 }));
      };
      // A peer that dies during negotiation resets the socket: that must fail this dial, never crash the node.
      const onError = (err: NodeJS.ErrnoException) => {
        cleanup();
        socket.destroy();
        reject(Object.assign(new Error(`${where} failed during method negotiation: ${err.code ?? err.message}`), { socksReply: 1 }));
      };
      const cleanup = () => {
        socket.off('data', onData);
        socket.off('close', onClose);
        socket.off('error', onError);
      };
      socket.on('data', onData);
      socket.once('close', onClose);
      socket.on('error', onError);
      socket.write(Buffer.from([0x05, 0x01, METHOD_BOOSTER_TLS]));
    });
    if (reply[0] !== 0x05 || reply[1] !== METHOD_BOOSTER_TLS) {
      throw Object.assign(
        new Error(
          `${where} refused booster's TLS method (reply ${reply[1] === 0xff ? 'no acceptable methods' : `0x${reply[1].toString(16)}`}): it does not know this network, or is a 0.3 node`,
        ),
        { socksReply: 1 },
      );
    }
    try {
      return await this.security.secureClient(socket, signal);
    } catch (err) {
      throw Object.assign(new Error(`${where}: ${(err as Error).message}`), { socksReply: 1 });
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
  context.subscriptions.push(context.dialers.register(new SocksChainDialer(context.security)));
}
