import { expect } from 'chai';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DialAttempt } from '../../src/api/events';
import type { BoosterNode } from '../../src/core/node';
import { BIN } from '../helpers/cli';
import { run } from '../helpers/exec';
import { startHttpServer, type TestHttpServer } from '../helpers/http';
import { startTestNode } from '../helpers/node';
import { freePort } from '../helpers/ports';
import { getViaSocks } from '../helpers/socks';

describe('dispatch through a running node', function () {
  this.timeout(20_000);
  let origin: TestHttpServer;
  let node: BoosterNode | undefined;
  before(async () => {
    origin = await startHttpServer();
  });
  after(() => origin.close());
  afterEach(async () => {
    await node?.stop();
    node = undefined;
  });

  it('retries a failed dial on the next source before the client gets a reply', async () => {
    node = await startTestNode({ settings: { policy: 'least-busy' } });
    const deadProxy = await freePort();
    node.sources.add({
      id: 'dead-peer',
      kind: 'peer',
      label: 'dead peer',
      dialer: 'socks5-chain',
      proxy: { host: '127.0.0.1', port: deadProxy },
      local: false,
    });
    const dials: DialAttempt[] = [];
    node.events.onDial((d) => dials.push(d));
    const res = await run('curl', ['-sS', '--socks5-hostname', `127.0.0.1:${node.proxyAddress.port}`, `${origin.url}/hello`]);
    expect(res.stdout).to.equal('hello\n');
    // least-busy gives the tie to the peer; its proxy is down; direct serves the request.
    expect(dials.map((d) => [d.sourceId, d.ok])).to.deep.equal([
      ['dead-peer', false],
      ['direct', true],
    ]);
    expect(dials[0].error).to.match(/cannot reach peer proxy 127\.0\.0\.1:\d+: ECONNREFUSED/);
    expect(node.sources.get('dead-peer')!.stats.consecutiveFailures).to.equal(1);
  });

  it('direct dialer: a download arrives intact, and a paused client holds the upstream back (reused read buffer)', async () => {
    node = await startTestNode();
    const closedWith: string[] = [];
    node.events.onTunnelClosed((c) =>
      closedWith.push(`${c.error} down=${c.tunnel.bytesDown} up=${c.tunnel.bytesUp} after ${c.closedAt - c.tunnel.openedAt} ms`),
    );
    const blob = await getViaSocks(node.proxyAddress.port, '127.0.0.1', origin.port, '/blob');
    expect(crypto.createHash('sha256').update(blob.body).digest('hex')).to.equal(origin.blobSha256);

    const total = 200 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const big = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-length': total });
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    await new Promise<void>((r) => big.listen(0, '127.0.0.1', r));
    try {
      const { SocksClient } = await import('socks');
      const { socket } = await SocksClient.createConnection({
        proxy: { host: '127.0.0.1', port: node.proxyAddress.port, type: 5 },
        command: 'connect',
        destination: { host: '127.0.0.1', port: (big.address() as AddressInfo).port },
      });
      // The socks package resumes the socket just after it resolves: pause after that.
      await new Promise((r) => setImmediate(r));
      socket.pause();
      expect(socket.isPaused()).to.equal(true);
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await new Promise((r) => setTimeout(r, 1500));
      expect(node.tunnels.list(), `tunnel closed early: ${JSON.stringify(closedWith)}`).to.have.length(1);
      const moved = node.tunnels.list()[0].bytesDown;
      expect(moved, 'bytes the node moved while the client did not read').to.be.below(32 * 1024 * 1024);
      let received = 0;
      socket.on('data', (d: Buffer) => (received += d.length));
      socket.resume();
      await new Promise((r) => socket.once('close', r));
      expect(received).to.be.greaterThan(total);
    } finally {
      big.close();
    }
  });

  it('answers 0x05 (refused) when every source was tried and the target refuses', async () => {
    node = await startTestNode();
    const closed = await freePort();
    const res = await run('curl', ['-sS', '--socks5-hostname', `127.0.0.1:${node.proxyAddress.port}`, `http://127.0.0.1:${closed}/`]);
    expect(res.code).to.equal(97); // curl: proxy handshake error
    expect(res.stderr).to.match(/Can.t complete SOCKS5 connection to 127\.0\.0\.1\. \(5\)/);
  });

  it('reads a config file; flags win over it; a bad file is one clear error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-config-'));
    try {
      const good = path.join(dir, 'good.json');
      fs.writeFileSync(good, JSON.stringify({ policy: 'round-robin', bind: '127.0.0.1', pport: 0, bport: 0, rules: [{ type: 'block', source: 'nothing' }] }));
      const bad = path.join(dir, 'bad.json');
      fs.writeFileSync(bad, JSON.stringify({ ppport: 1 }));
      const badRule = path.join(dir, 'bad-rule.json');
      fs.writeFileSync(badRule, JSON.stringify({ rules: [{ type: 'reserve', source: 'x' }] }));
      let res = await run(process.execPath, [BIN, 'start', '--config', bad]);
      expect(res.code).to.equal(1);
      expect(res.stderr).to.match(/unknown setting "ppport"/);
      res = await run(process.execPath, [BIN, 'start', '--config', badRule]);
      expect(res.code).to.equal(1);
      expect(res.stderr).to.match(/rule reserve: "hosts" must be a non-empty list/);
      res = await run(process.execPath, [BIN, 'start', '--config', path.join(dir, 'missing.json')]);
      expect(res.code).to.not.equal(0);
      const { spawnCli } = await import('../helpers/cli');
      const cli = spawnCli(['start', '--config', good, '--policy', 'p2c']);
      try {
        await cli.waitFor(/proxy listening on 127\.0\.0\.1:\d+ .*policy=p2c/);
      } finally {
        cli.kill('SIGTERM');
        await cli.exited();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
