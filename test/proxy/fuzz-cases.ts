// Fuzzing of the proxy's handshakes (SOCKS5, SOCKS4/4a, HTTP) against real ProxyServers over real
// sockets: shared by test/proxy/fuzz.test.ts and bench/fuzz-proxy.ts.
import fc from 'fast-check';
import { DEFAULT_LIMITS } from '../../src/core/config';
import { DialFailure, Socks5Reply } from '../../src/kernel/connector-errors';
import type { DispatchRequest, OpenedUpstream } from '../../src/kernel/connector';
import type { ProxyAccess } from '../../src/proxy/access';
import { CapturingLogger, DirectConnector, RawClient, socks5Open, startProxy, startTcpOrigin, type TestProxy } from './harness';
import { securityFor } from './peer-client';

export function fuzzRuns(fallback: number): number {
  const runs = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(runs) && runs > 0 ? runs : fallback;
}

const USER = 'alice';
const PASSWORD = 's3cret';
/** How long a fuzzed connection may stay open after the client has sent everything and ended. */
const CLOSE_WITHIN_MS = 3000;

/**
 * Dials only the test's own echo origin; any other target (random bytes can
 * spell one) fails with "connection refused", so fuzzing sends nothing anywhere.
 */
class EchoOnlyConnector extends DirectConnector {
  constructor(private readonly echoPort: () => number) {
    super();
  }

  override open(request: DispatchRequest, signal: AbortSignal): Promise<OpenedUpstream> {
    const { host, port } = request.target;
    if (host === '127.0.0.1' && port === this.echoPort()) return super.open(request, signal);
    return Promise.reject(new DialFailure(`${host}:${port} is not dialed while fuzzing`, Socks5Reply.ConnectionRefused));
  }
}

/** The proxies under test: every access path a client can take through the handshakes. */
export interface FuzzRig {
  readonly proxies: readonly FuzzProxy[];
  close(): Promise<void>;
}

export interface FuzzProxy {
  readonly name: string;
  readonly proxy: TestProxy;
  readonly log: CapturingLogger;
  /** A legitimate client gets through and its bytes are echoed. */
  checkServes(): Promise<void>;
}

export async function startFuzzRig(): Promise<FuzzRig> {
  const echo = await startTcpOrigin((s) => s.pipe(s));
  const security = securityFor();
  const limits = { ...DEFAULT_LIMITS, authFailureDelayMs: 1, authFailuresBeforeLockout: 1_000_000_000 };
  const auth = { username: USER, password: PASSWORD };
  const specs: { name: string; access?: ProxyAccess; auth?: typeof auth; serves: (port: number) => Promise<void> }[] = [
    { name: 'local, no credentials', serves: (port) => socks5Serves(port, echo.port) },
    { name: 'local, credentials required', auth, serves: (port) => socks5Serves(port, echo.port, true) },
    {
      name: 'stranger (0x86 with the network key, or credentials)',
      access: { classify: () => 'stranger', openProxy: false, secureServer: (s, signal) => security.secureServer(s, signal) },
      auth,
      serves: (port) => httpConnectServes(port, echo.port),
    },
  ];
  const proxies: FuzzProxy[] = [];
  for (const spec of specs) {
    const log = new CapturingLogger();
    const proxy = await startProxy({ access: spec.access, auth: spec.auth, limits, handshakeTimeoutMs: 1000 }, new EchoOnlyConnector(() => echo.port), log);
    proxies.push({ name: spec.name, proxy, log, checkServes: () => spec.serves(proxy.port) });
  }
  return {
    proxies,
    close: async () => {
      for (const p of proxies) await p.proxy.server.close(0);
      await echo.close();
    },
  };
}

async function socks5Serves(proxyPort: number, echoPort: number, withCredentials = false): Promise<void> {
  const c = await RawClient.connect(proxyPort);
  try {
    if (withCredentials) {
      c.send([0x05, 0x01, 0x02, 0x01, USER.length, ...Buffer.from(USER), PASSWORD.length, ...Buffer.from(PASSWORD)]);
      const replies = await c.read(4);
      if (!replies.equals(Buffer.from([0x05, 0x02, 0x01, 0x00]))) throw new Error(`login answered ${replies.toString('hex')}`);
      c.send([0x05, 0x01, 0x00, 0x01, 127, 0, 0, 1, echoPort >> 8, echoPort & 0xff]);
      const reply = await c.read(10);
      if (reply[1] !== 0) throw new Error(`SOCKS5 reply ${reply[1]}`);
    } else {
      await socks5Open(c, '127.0.0.1', echoPort);
    }
    await echoes(c);
  } finally {
    c.destroy();
  }
}

async function httpConnectServes(proxyPort: number, echoPort: number): Promise<void> {
  const c = await RawClient.connect(proxyPort);
  try {
    const creds = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    c.send(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nProxy-Authorization: Basic ${creds}\r\n\r\n`);
    const head = (await c.read(39)).toString();
    if (head !== 'HTTP/1.1 200 Connection established\r\n\r\n') throw new Error(`CONNECT answered ${JSON.stringify(head)}`);
    await echoes(c);
  } finally {
    c.destroy();
  }
}

async function echoes(c: RawClient): Promise<void> {
  c.send('ping');
  const back = (await c.read(4)).toString();
  if (back !== 'ping') throw new Error(`echo returned ${JSON.stringify(back)}`);
}

// ---- inputs: valid handshakes built from random fields, then mutated, and plain random bytes ----

const byte = fc.integer({ min: 0, max: 255 });
const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));
const port = fc.oneof(fc.constant(80), fc.integer({ min: 0, max: 65535 }));
const hostName = fc.oneof(fc.constantFrom('example.com', 'localhost', '127.0.0.1', '[::1]', ''), fc.string({ unit: 'binary-ascii', maxLength: 40 }));

const socks5 = fc
  .record({
    methods: fc.oneof(fc.constantFrom([0x00], [0x02], [0x86], [0x00, 0x02, 0x86]), fc.array(byte, { maxLength: 8 })),
    login: fc.option(
      fc.record({
        version: fc.oneof(fc.constant(1), byte),
        user: fc.oneof(fc.constant(Buffer.from(USER)), bytes(40)),
        pass: fc.oneof(fc.constant(Buffer.from(PASSWORD)), bytes(40)),
      }),
    ),
    cmd: fc.oneof(fc.constant(1), byte),
    rsv: fc.oneof(fc.constant(0), byte),
    address: fc.oneof(
      fc.tuple(fc.constant(1), bytes(4)),
      fc.tuple(
        fc.constant(3),
        hostName.map((h) => Buffer.concat([Buffer.from([Buffer.byteLength(h, 'latin1') & 0xff]), Buffer.from(h, 'latin1')])),
      ),
      fc.tuple(fc.constant(4), bytes(16)),
      fc.tuple(byte, bytes(20)),
    ),
    port,
  })
  .map(({ methods, login, cmd, rsv, address, port }) => {
    const parts = [Buffer.from([0x05, methods.length & 0xff, ...methods])];
    if (login) parts.push(Buffer.from([login.version, login.user.length & 0xff]), login.user, Buffer.from([login.pass.length & 0xff]), login.pass);
    parts.push(Buffer.from([0x05, cmd, rsv, address[0]]), address[1], Buffer.from([port >> 8, port & 0xff]));
    return Buffer.concat(parts);
  });

const socks4 = fc
  .record({
    cmd: fc.oneof(fc.constant(1), byte),
    port,
    ip: fc.oneof(fc.constant(Buffer.from([0, 0, 0, 1])), bytes(4)),
    user: bytes(300),
    host: fc.option(hostName),
  })
  .map(({ cmd, port, ip, user, host }) =>
    Buffer.concat([
      Buffer.from([0x04, cmd, port >> 8, port & 0xff]),
      ip,
      user,
      Buffer.from([0]),
      ...(host === null ? [] : [Buffer.from(host, 'latin1'), Buffer.from([0])]),
    ]),
  );

const headerLine = fc.oneof(
  fc.constantFrom(
    'Host: example.com',
    'Connection: keep-alive, X-Drop',
    'Proxy-Authorization: Basic YWxpY2U6czNjcmV0',
    'Proxy-Authorization: Basic !!',
    'Transfer-Encoding: chunked',
    'X-Drop: 1',
  ),
  fc.tuple(fc.string({ unit: 'binary-ascii', maxLength: 20 }), fc.string({ unit: 'binary-ascii', maxLength: 60 })).map(([n, v]) => `${n}: ${v}`),
);
const http = fc
  .record({
    method: fc.oneof(fc.constantFrom('GET', 'CONNECT', 'POST', 'OPTIONS'), fc.string({ unit: 'binary-ascii', maxLength: 10 })),
    uri: fc.oneof(
      fc.tuple(hostName, port).map(([h, p]) => `${h}:${p}`),
      fc
        .tuple(fc.constantFrom('http', 'https', 'ftp', 'HTTP'), hostName, fc.string({ unit: 'binary-ascii', maxLength: 30 }))
        .map(([s, h, p]) => `${s}://${h}${p}`),
      fc.string({ unit: 'binary-ascii', maxLength: 50 }),
    ),
    version: fc.constantFrom('1.1', '1.0', '2.0', 'x'),
    headers: fc.array(headerLine, { maxLength: 6 }),
    body: bytes(40),
  })
  .map(({ method, uri, version, headers, body }) =>
    Buffer.concat([Buffer.from(`${method} ${uri} HTTP/${version}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`, 'latin1'), body]),
  );

type Mutation =
  { kind: 'flip'; at: number; value: number } | { kind: 'cut'; at: number } | { kind: 'insert'; at: number; bytes: Buffer } | { kind: 'repeat'; times: number };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: byte }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: bytes(8) }),
  fc.record({ kind: fc.constant('repeat' as const), times: fc.integer({ min: 2, max: 3 }) }),
);

function mutate(input: Buffer, m: Mutation): Buffer {
  if (input.length === 0) return input;
  const at = m.kind === 'repeat' ? 0 : m.at % (input.length + 1);
  switch (m.kind) {
    case 'flip': {
      const out = Buffer.from(input);
      out[Math.min(at, out.length - 1)] = m.value;
      return out;
    }
    case 'cut':
      return input.subarray(0, at);
    case 'insert':
      return Buffer.concat([input.subarray(0, at), m.bytes, input.subarray(at)]);
    case 'repeat':
      return Buffer.concat(Array.from({ length: m.times }, () => input));
  }
}

const mutated = (valid: fc.Arbitrary<Buffer>) => fc.tuple(valid, fc.array(mutation, { maxLength: 3 })).map(([input, ms]) => ms.reduce(mutate, input));

/** One fuzzed connection: its bytes, how they are cut into writes, and whether the client ends its side. */
export interface FuzzConnection {
  readonly input: Buffer;
  readonly cuts: readonly number[];
}

const connection = (input: fc.Arbitrary<Buffer>): fc.Arbitrary<FuzzConnection> => fc.record({ input, cuts: fc.array(fc.nat(), { maxLength: 3 }) });

export const inputs = {
  socks5: connection(fc.oneof({ arbitrary: mutated(socks5), weight: 4 }, { arbitrary: socks5, weight: 1 })),
  socks4: connection(fc.oneof({ arbitrary: mutated(socks4), weight: 4 }, { arbitrary: socks4, weight: 1 })),
  http: connection(fc.oneof({ arbitrary: mutated(http), weight: 4 }, { arbitrary: http, weight: 1 })),
  random: connection(bytes(600)),
};

/** Sends one fuzzed input (in pieces), ends the client's side, and waits until the server has closed or ended the connection. */
async function play(port: number, { input, cuts }: FuzzConnection): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    const at = [...new Set(cuts.map((n) => n % (input.length + 1)))].sort((a, b) => a - b);
    let from = 0;
    for (const to of [...at, input.length]) {
      if (to > from) c.send(input.subarray(from, to));
      from = to;
      await new Promise((resolve) => setImmediate(resolve));
    }
    c.socket.end();
    await c.gone(CLOSE_WITHIN_MS);
  } finally {
    c.destroy();
  }
}

/**
 * The property: a batch of fuzzed connections to one of the proxies, sent at
 * once, is answered or closed (never left hanging), nothing escapes as an
 * internal error, and a legitimate client is served right after.
 */
export function handshakeProperty(rig: FuzzRig, input: fc.Arbitrary<FuzzConnection>): fc.IAsyncPropertyWithHooks<[number, FuzzConnection[]]> {
  return fc.asyncProperty(fc.nat({ max: rig.proxies.length - 1 }), fc.array(input, { minLength: 1, maxLength: 4 }), async (which, batch) => {
    const target = rig.proxies[which];
    await Promise.all(batch.map((conn) => play(target.proxy.port, conn)));
    const internal = target.log.lines.filter((l) => l.level === 'error');
    if (internal.length > 0) throw new Error(`${target.name}: internal error logged: ${internal[0].message}`);
    await target.checkServes();
    // Rejections pile up in the harness's list: drop them so that a long run stays flat in memory.
    target.proxy.rejections.splice(0);
    target.log.lines.splice(0);
  });
}

/** Inputs the property should also see, whatever the generator does. */
export const knownInputs: readonly Buffer[] = [
  Buffer.from([0x05, 0x01, 0x86]),
  Buffer.from([0x05, 0x01, 0x86, 0x16, 0x03, 0x01, 0x00, 0x05]),
  Buffer.from([0x05, 0xff, ...new Array<number>(255).fill(0x86)]),
  Buffer.from([0x05, 0x01, 0x02, 0x01, 0xff]),
  Buffer.from([0x04, 0x01, 0x00, 0x50, 0, 0, 0, 1, 0x00]),
  Buffer.from('GET http://127.0.0.1:1/ HTTP/1.1\r\nProxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n\r\n'),
  Buffer.from('CONNECT [::1]:1 HTTP/1.1\r\n\r\n'),
];

export function playKnown(rig: FuzzRig): Promise<void[]> {
  return Promise.all(rig.proxies.flatMap((p) => knownInputs.map((input) => play(p.proxy.port, { input, cuts: [] }))));
}
