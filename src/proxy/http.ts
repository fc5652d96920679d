import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { Socks5Reply } from '../kernel/connector-errors';
import { NOT_ALLOWED } from './access';
import { printable } from './printable';
import { HandshakeError, type HandshakeReader } from './reader';
import { targetOf, type CredentialCheck, type CredentialVerdict, type HandshakeContext, type InboundRequest } from './request';

/** Largest request head (request line + headers + blank line) accepted. */
export const MAX_HEAD = 64 * 1024;
const END_OF_HEAD = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Headers that concern only the hop to this proxy; never forwarded. Transfer-Encoding stays: the body is relayed as is. */
const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'upgrade']);

interface Header {
  readonly name: string;
  readonly value: string;
}

/**
 * HTTP proxy requests: `CONNECT host:port` (a raw tunnel, e.g. HTTPS), and
 * absolute-URI requests (`GET http://host/path`) forwarded in origin form with
 * `Connection: close`, one request per client connection.
 */
export async function httpHandshake(reader: HandshakeReader, client: Duplex, ctx: HandshakeContext): Promise<InboundRequest> {
  const { access } = ctx;
  if (!access.admitted && !access.credentials) {
    respond(client, 403, 'Forbidden', '', NOT_ALLOWED);
    throw new HandshakeError(`HTTP client not allowed: ${NOT_ALLOWED}`);
  }
  const raw = await reader.readUntil(END_OF_HEAD, MAX_HEAD, () => {
    respond(client, 431, 'Request Header Fields Too Large');
    return new HandshakeError(`HTTP request head is larger than ${MAX_HEAD} bytes`);
  });
  const lines = raw.toString('latin1', 0, raw.length - END_OF_HEAD.length).split('\r\n');
  const line = /^(\S+) (\S+) HTTP\/(1\.[01])$/.exec(lines[0]);
  if (!line || !TOKEN.test(line[1])) throw badRequest(client, `malformed HTTP request line "${printable(lines[0])}"`);
  const [, method, uri, version] = line;
  const headers = lines.slice(1).map((l): Header => {
    const colon = l.indexOf(':');
    const name = l.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name) || /[\r\n\0]/.test(l)) throw badRequest(client, `malformed HTTP header line "${printable(l)}"`);
    return { name, value: l.slice(colon + 1).trim() };
  });

  if (!access.admitted) {
    const verdict = await authorize(headers, access.credentials!);
    if (verdict !== 'ok') {
      const detail = verdict === 'locked-out' ? 'too many failed logins from this address; try again later' : undefined;
      respond(client, 407, 'Proxy Authentication Required', 'Proxy-Authenticate: Basic realm="booster"\r\n', detail);
      throw new HandshakeError(
        verdict === 'missing'
          ? 'HTTP proxy request without Proxy-Authorization'
          : verdict === 'locked-out'
            ? 'HTTP proxy login refused: too many failed logins from this address'
            : 'HTTP proxy request with wrong Proxy-Authorization credentials',
      );
    }
  }

  if (method === 'CONNECT') {
    const authority = parseAuthority(uri);
    if (!authority || authority.port === undefined) throw badRequest(client, `HTTP CONNECT target "${printable(uri)}" is not host:port`);
    return {
      target: targetOf(authority.host, authority.port),
      protocol: 'http-connect',
      succeed(socket) {
        socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
        return undefined;
      },
      fail: failHttp,
    };
  }

  const absolute = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^#]*)/.exec(uri);
  if (!absolute) throw badRequest(client, `HTTP request for "${printable(uri)}" is not an absolute URI (this is a proxy, not a web server)`);
  const [, scheme, rawAuthority, rawPath] = absolute;
  if (scheme.toLowerCase() !== 'http')
    throw badRequest(client, `HTTP proxy request for scheme "${printable(scheme)}" (only http:// is forwarded; use CONNECT for https)`);
  const hostPart = rawAuthority.slice(rawAuthority.lastIndexOf('@') + 1);
  const authority = parseAuthority(hostPart);
  if (!authority) throw badRequest(client, `HTTP request URI "${printable(uri)}" has an invalid host`);
  const path = rawPath === '' ? '/' : rawPath.startsWith('?') ? `/${rawPath}` : rawPath;

  const dropped = new Set(HOP_BY_HOP);
  for (const h of headers) {
    if (h.name.toLowerCase() === 'connection') for (const t of h.value.split(',')) dropped.add(t.trim().toLowerCase());
  }
  dropped.add('host');
  let head = `${method} ${path} HTTP/${version}\r\nHost: ${hostPart}\r\n`;
  for (const h of headers) if (!dropped.has(h.name.toLowerCase())) head += `${h.name}: ${h.value}\r\n`;
  head += 'Connection: close\r\n\r\n';
  return {
    target: targetOf(authority.host, authority.port ?? 80),
    protocol: 'http-forward',
    succeed: () => Buffer.from(head, 'latin1'),
    fail: failHttp,
  };
}

/** `host`, `host:port`, `[v6]` or `[v6]:port`; undefined when malformed. */
function parseAuthority(text: string): { host: string; port?: number } | undefined {
  const m = /^\[([^\]]+)\](?::(\d*))?$/.exec(text) ?? /^([^:[\]\s/@]+)(?::(\d*))?$/.exec(text);
  if (!m) return undefined;
  const host = m[1];
  if (text.startsWith('[') && !net.isIPv6(host)) return undefined;
  if (!m[2]) return { host };
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? { host, port } : undefined;
}

/** Checks Proxy-Authorization: Basic; a header that is absent is not a failed login (it is how a client learns it needs one). */
async function authorize(headers: readonly Header[], credentials: CredentialCheck): Promise<CredentialVerdict | 'missing'> {
  const h = headers.find((x) => x.name.toLowerCase() === 'proxy-authorization');
  if (!h) return 'missing';
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(h.value);
  const given = m ? Buffer.from(m[1], 'base64') : Buffer.alloc(0);
  const colon = given.indexOf(':');
  return colon < 0 ? credentials.check(given, Buffer.alloc(0)) : credentials.check(given.subarray(0, colon), given.subarray(colon + 1));
}

function failHttp(socket: Duplex, reply: Socks5Reply, message: string): void {
  if (reply === Socks5Reply.TtlExpired) respond(socket, 504, 'Gateway Timeout', '', message);
  else if (reply === Socks5Reply.NotAllowed) respond(socket, 403, 'Forbidden', '', message);
  else respond(socket, 502, 'Bad Gateway', '', message);
}

function badRequest(client: Duplex, reason: string): HandshakeError {
  respond(client, 400, 'Bad Request');
  return new HandshakeError(reason);
}

function respond(socket: Duplex, code: number, reason: string, extraHeaders = '', detail?: string): void {
  const body = `${code} ${reason}${detail ? `: ${detail}` : ''}\n`;
  socket.end(
    `HTTP/1.1 ${code} ${reason}\r\n${extraHeaders}Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
