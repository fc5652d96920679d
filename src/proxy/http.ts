import type { Socket } from 'node:net';
import { Socks5Reply } from '../dispatch/errors';
import { HandshakeError, type HandshakeReader } from './reader';
import { targetOf, type HandshakeOptions, type InboundRequest } from './request';

const MAX_HEAD = 64 * 1024;
const CRLF2 = Buffer.from('\r\n\r\n');
/** Headers that concern only this hop; never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'upgrade']);

/**
 * HTTP proxy requests: CONNECT host:port (tunnels, e.g. HTTPS), and
 * absolute-URI requests (GET http://host/path ...) forwarded in origin form
 * with `Connection: close`, one request per client connection.
 */
export async function httpHandshake(reader: HandshakeReader, client: Socket, options: HandshakeOptions): Promise<InboundRequest | undefined> {
  const head = (
    await reader.readUntil(CRLF2, MAX_HEAD, () => {
      respond(client, 431, 'Request Header Fields Too Large');
      return new HandshakeError(`HTTP request head is larger than ${MAX_HEAD} bytes`);
    })
  ).toString('latin1');
  const lines = head.slice(0, -4).split('\r\n');
  const match = /^([A-Z]+) (\S+) HTTP\/(1\.[01])$/.exec(lines[0]);
  if (!match) {
    respond(client, 400, 'Bad Request');
    throw new HandshakeError(`malformed HTTP request line "${lines[0].slice(0, 80)}"`);
  }
  const [, method, uri, version] = match;
  const headers = lines.slice(1).map((l) => {
    const i = l.indexOf(':');
    if (i <= 0) {
      respond(client, 400, 'Bad Request');
      throw new HandshakeError(`malformed HTTP header line "${l.slice(0, 80)}"`);
    }
    return { name: l.slice(0, i).trim(), value: l.slice(i + 1).trim() };
  });

  if (options.auth && !authorized(headers, options.auth)) {
    respond(client, 407, 'Proxy Authentication Required', 'Proxy-Authenticate: Basic realm="booster"\r\n');
    throw new HandshakeError('HTTP proxy request without valid Proxy-Authorization');
  }

  if (method === 'CONNECT') {
    const hp = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(uri) ?? /^([^:\s]+):(\d+)$/.exec(uri);
    const port = Number(hp?.[2]);
    if (!hp || !(port > 0 && port < 65536)) {
      respond(client, 400, 'Bad Request');
      throw new HandshakeError(`HTTP CONNECT target "${uri.slice(0, 80)}" is not host:port`);
    }
    return {
      target: targetOf(hp[1], port),
      protocol: 'http-connect',
      succeed(socket) {
        socket.write(`HTTP/${version} 200 Connection established\r\n\r\n`);
        return undefined;
      },
      fail: (socket, reply, message) => failHttp(socket, reply, message),
    };
  }

  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    respond(client, 400, 'Bad Request');
    throw new HandshakeError(`HTTP proxy request for "${uri.slice(0, 80)}" is not an absolute URI`);
  }
  if (url.protocol !== 'http:') {
    respond(client, 400, 'Bad Request');
    throw new HandshakeError(`HTTP proxy request for scheme "${url.protocol}" (only http: is forwarded; use CONNECT for https)`);
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port ? Number(url.port) : 80;
  const kept = headers.filter((h) => !HOP_BY_HOP.has(h.name.toLowerCase()));
  if (!kept.some((h) => h.name.toLowerCase() === 'host')) kept.unshift({ name: 'Host', value: url.host });
  const rewritten = `${method} ${url.pathname}${url.search} HTTP/${version}\r\n${kept.map((h) => `${h.name}: ${h.value}\r\n`).join('')}Connection: close\r\n\r\n`;
  return {
    target: targetOf(host, port),
    protocol: 'http-forward',
    succeed: () => Buffer.from(rewritten, 'latin1'),
    fail: (socket, reply, message) => failHttp(socket, reply, message),
  };
}

function authorized(headers: { name: string; value: string }[], auth: { username: string; password: string }): boolean {
  const h = headers.find((x) => x.name.toLowerCase() === 'proxy-authorization');
  const m = h && /^Basic\s+(\S+)$/i.exec(h.value);
  if (!m) return false;
  return Buffer.from(m[1], 'base64').toString('utf8') === `${auth.username}:${auth.password}`;
}

function failHttp(socket: Socket, reply: Socks5Reply, message: string): void {
  if (reply === Socks5Reply.TtlExpired) respond(socket, 504, 'Gateway Timeout', '', message);
  else respond(socket, 502, 'Bad Gateway', '', message);
}

function respond(socket: Socket, code: number, reason: string, extra = '', body = `${code} ${reason}`): void {
  const text = `${body}\n`;
  socket.end(`HTTP/1.1 ${code} ${reason}\r\n${extra}Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}
