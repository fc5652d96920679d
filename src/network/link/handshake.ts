import type { Duplex } from 'node:stream';
import type { Logger } from '../../api/logger';
import type { Limits } from '../../api/settings';
import { DEFAULT_LIMITS } from '../../kernel/defaults';
import type { Transport, TransportAddress } from '../../api/transport';
import { nonce, type AuthRole, type Authenticator } from '../../security/auth';
import { channelBinding } from '../../security/tls';
import { formatHostPort, PeerError } from './errors';
import { ProtocolLink, type WireMessage } from './protocol';

export interface Greeting {
  readonly link: ProtocolLink;
  readonly bport: number;
  readonly pport: number;
  /** The address the other side was reached at, as the socket reports it. */
  readonly remoteHost?: string;
  /** The link runs over TLS keyed by the network key. */
  readonly secure: boolean;
  /** Both sides proved they hold the network key. */
  readonly authenticated: boolean;
  /** The other side is a 0.3 node (no booster.v1): it cannot authenticate. */
  readonly legacy: boolean;
}

export interface DialOptions {
  readonly transport: Transport;
  readonly address: TransportAddress;
  readonly timeoutMs: number;
  /** Cancels the attempt (its connection is closed), whatever is left of timeoutMs. */
  readonly signal?: AbortSignal;
  readonly log?: Logger;
  /** Authenticate as `role` with this key; without it the link is plain and unauthenticated (a CLI on the node's own machine). */
  readonly auth?: { readonly role: AuthRole; readonly authenticator: Authenticator };
  /** May the other side be a 0.3 node? (Only at addresses the user allowed: --allow-legacy-peers.) */
  readonly allowLegacy: (host: string) => boolean;
  /** Packet and buffer limits of the link (settings.limits); the defaults without. */
  readonly limits?: Pick<Limits, 'maxPacketBytes' | 'maxUnauthenticatedPacketBytes' | 'maxLinkBufferBytes'>;
}

/**
 * Dials a booster endpoint and establishes a link (README "Security"):
 * 1. read the other side's plain Hello (the accepting side speaks first, as in 0.3);
 * 2. a 0.3 node (no booster.v1) is accepted only where `allowLegacy` says so;
 * 3. if the transport can secure links, StartTls and TLS keyed by the network key, then Hello again inside;
 * 4. with a key, the mutual challenge-response; the other side must prove it holds the key too.
 */
export async function greet(options: DialOptions): Promise<Greeting> {
  const { transport, address, timeoutMs } = options;
  const label = formatHostPort(address.host, address.port);
  const limits = options.limits ?? DEFAULT_LIMITS;
  // Before authentication a link accepts small packets only: nothing legitimate is bigger.
  const unauthenticated = limits.maxUnauthenticatedPacketBytes;
  const deadline = options.signal ? AbortSignal.any([AbortSignal.timeout(timeoutMs), options.signal]) : AbortSignal.timeout(timeoutMs);
  let stream: Duplex;
  try {
    stream = await transport.connect(address, deadline);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ECONNREFUSED') throw new PeerError(`${label} refused the connection (is a booster node listening there?)`, 'refused');
    if (e.name === 'AbortError' || e.name === 'TimeoutError') throw new PeerError(`${label} did not answer within ${timeoutMs} ms`, 'timeout');
    throw new PeerError(`cannot reach ${label}: ${e.code ?? e.message}`, 'unreachable');
  }
  let link = new ProtocolLink(stream, label, options.log, { maxPacketBytes: unauthenticated, maxBufferBytes: limits.maxLinkBufferBytes });
  const remoteHost = link.remoteHost;
  try {
    const hello = await expect(link, 'hello', 'Hello', deadline);
    if (!link.peerExtended) {
      if (!options.allowLegacy(remoteHost ?? address.host)) {
        throw new PeerError(
          `${label} is a Booster Protocol 0.3 node (it does not speak booster.v1), so it cannot prove it holds the network key; allow 0.3 nodes at that address with --allow-legacy-peers ${remoteHost ?? address.host}/32`,
          'legacy',
        );
      }
      link.maxPacketBytes = limits.maxPacketBytes;
      return { link, bport: hello.bport, pport: hello.pport, remoteHost, secure: false, authenticated: false, legacy: true };
    }
    let secure = false;
    if (transport.secure && options.auth) {
      link.sendStartTls();
      await expect(link, 'start-tls', 'the StartTls go-ahead', deadline);
      const raw = link.release();
      let tls: Duplex;
      try {
        tls = await transport.secure(raw, 'client', deadline);
      } catch (err) {
        raw.destroy();
        throw new PeerError(`${label}: ${(err as Error).message}`, 'auth');
      }
      link = new ProtocolLink(tls, label, options.log, { maxPacketBytes: unauthenticated, maxBufferBytes: limits.maxLinkBufferBytes });
      const inner = await expect(link, 'hello', 'Hello inside TLS', deadline);
      if (inner.bport !== hello.bport || inner.pport !== hello.pport) throw new PeerError(`${label} announced different ports inside TLS`, 'protocol');
      secure = true;
    }
    if (options.auth) await authenticate(link, label, hello, options.auth, deadline);
    link.maxPacketBytes = limits.maxPacketBytes;
    return { link, bport: hello.bport, pport: hello.pport, remoteHost, secure, authenticated: Boolean(options.auth), legacy: false };
  } catch (err) {
    link.close();
    throw err;
  }
}

async function authenticate(
  link: ProtocolLink,
  label: string,
  hello: { bport: number; pport: number },
  auth: NonNullable<DialOptions['auth']>,
  signal: AbortSignal,
): Promise<void> {
  const clientNonce = nonce();
  link.sendAuthInit(clientNonce, auth.role);
  const challenge = await expect(link, 'auth-challenge', 'an authentication challenge', signal);
  const transcript = {
    role: auth.role,
    clientNonce,
    serverNonce: challenge.nonce,
    bport: hello.bport,
    pport: hello.pport,
    binding: channelBinding(link.transportStream),
  };
  if (challenge.nonce.length !== clientNonce.length || !auth.authenticator.verify('server', transcript, challenge.proof)) {
    throw new PeerError(
      `${label} does not hold this network's key (its authentication proof is wrong); check that both nodes use the same key ("booster key show")`,
      'auth',
    );
  }
  link.sendAuthProof(auth.authenticator.proof('client', transcript));
  const result = await expect(link, 'result', 'the authentication result', signal);
  if (result.code !== 0) throw new PeerError(`${label} refused authentication: ${result.message}`, 'auth');
}

type Of<K extends WireMessage['kind']> = Extract<WireMessage, { kind: K }>;

/**
 * The next message, which must be of `kind`. A Result with a non-zero code
 * (a refusal, with its reason) or anything else fails with a clear error.
 */
function expect<K extends WireMessage['kind']>(link: ProtocolLink, kind: K, what: string, signal: AbortSignal): Promise<Of<K>> {
  return new Promise((resolve, reject) => {
    const subs = [
      link.onMessage((m) => {
        if (m.kind === kind) return done(undefined, m as Of<K>);
        if (m.kind === 'result' && m.code !== 0) return done(new PeerError(`${link.label} refused: ${m.message}`, 'auth'));
        done(new PeerError(`${link.label} sent ${m.kind} where ${what} was expected`, 'protocol'));
      }),
      link.onClose((reason) => done(new PeerError(`${link.label} closed the link before ${what}: ${reason}`, 'protocol'))),
    ];
    const onAbort = () => done(new PeerError(`${link.label} sent no ${what} in time (not a booster node, or too slow?)`, 'timeout'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    function done(err?: Error, value?: Of<K>) {
      subs.forEach((s) => s.dispose());
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(value!);
    }
  });
}
