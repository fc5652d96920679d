import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import type { BoosterNode } from '../../src/core/node';
import { run } from '../helpers/exec';
import { startHttpServer, type TestHttpServer } from '../helpers/http';
import { quietly, sh, skipUnlessNetns } from '../helpers/netns';
import { startTestNode } from '../helpers/node';
import { waitUntil } from '../helpers/ports';
import { forbiddenForRemoteClients } from '../../src/security/addresses';

/**
 * The node's proxy as a LAN host sees it. Namespace `bst-prx-aN` (10.232.x.2)
 * is a host on the LAN; namespace `bst-prx-bN` (10.232.y.2) stands in for the
 * Internet (an HTTP server the proxy may reach). The node runs here, in the
 * host namespace, bound to 0.0.0.0 (10.232.x.1 and 10.232.y.1 are its own).
 */
// Unique per test process (concurrent runs on one machine must not share namespaces or subnets).
const SLOT = process.pid % 120;
const LAN = { ns: `bst-prx-a${SLOT}`, host: `10.232.${2 * SLOT + 1}.1`, peer: `10.232.${2 * SLOT + 1}.2` };
const NET = { ns: `bst-prx-b${SLOT}`, host: `10.232.${2 * SLOT + 2}.1`, peer: `10.232.${2 * SLOT + 2}.2` };
const REMOTE_PORT = 8080;

function removeNamespace({ ns }: { ns: string }): void {
  quietly(['ip', 'netns', 'del', ns]);
  quietly(['ip', 'link', 'del', `${ns}-h`]);
}

function createNamespace(n: typeof LAN): void {
  removeNamespace(n);
  sh(['ip', 'netns', 'add', n.ns]);
  sh(['ip', 'link', 'add', `${n.ns}-h`, 'type', 'veth', 'peer', 'name', `${n.ns}-n`]);
  sh(['ip', 'link', 'set', `${n.ns}-n`, 'netns', n.ns]);
  sh(['ip', 'addr', 'add', `${n.host}/24`, 'dev', `${n.ns}-h`]);
  sh(['ip', 'link', 'set', `${n.ns}-h`, 'up']);
  sh(['ip', '-n', n.ns, 'addr', 'add', `${n.peer}/24`, 'dev', `${n.ns}-n`]);
  sh(['ip', '-n', n.ns, 'link', 'set', `${n.ns}-n`, 'up']);
  sh(['ip', '-n', n.ns, 'link', 'set', 'lo', 'up']);
}

/** curl run inside the LAN host's namespace. */
function curlFromLan(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('ip', ['netns', 'exec', LAN.ns, 'curl', '-sS', '--noproxy', '', '--max-time', '5', ...args], { env: { PATH: process.env.PATH } });
}

function curlHere(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('curl', ['-sS', '--max-time', '5', ...args], { env: { PATH: process.env.PATH } });
}

describe('proxy access from another host on the LAN (network namespaces)', function () {
  this.timeout(60_000);
  let local: TestHttpServer;
  let remote: ChildProcess | undefined;
  const remoteRequests: string[] = [];
  let node: BoosterNode | undefined;

  before(async function () {
    skipUnlessNetns(this, ['ip', 'curl']);
    createNamespace(LAN);
    createNamespace(NET);
    local = await startHttpServer('127.0.0.1', 1024);
    const script = `require('http').createServer((q, s) => { console.log(q.url); s.end('hello from the internet\\n'); }).listen(${REMOTE_PORT}, '${NET.peer}', () => console.log('ready'))`;
    remote = spawn('ip', ['netns', 'exec', NET.ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      remote!.once('exit', (code) => reject(new Error(`the HTTP server in ${NET.ns} exited ${code}`)));
      remote!.stdout!.on('data', (d: Buffer) => {
        for (const line of d.toString().split('\n').filter(Boolean)) {
          if (line === 'ready') resolve();
          else remoteRequests.push(line);
        }
      });
    });
  });

  after(async () => {
    await node?.stop();
    await local?.close();
    remote?.kill('SIGKILL');
    removeNamespace(LAN);
    removeNamespace(NET);
  });

  afterEach(async () => {
    await node?.stop();
    node = undefined;
  });

  const remoteUrl = `http://${NET.peer}:${REMOTE_PORT}/`;

  it('by default, a LAN host is refused in SOCKS5, SOCKS4a and HTTP (CONNECT and GET); a loopback client is served', async () => {
    node = await startTestNode({ settings: { bind: '0.0.0.0' } });
    const proxy = `${LAN.host}:${node.proxyAddress.port}`;
    const seenBefore = remoteRequests.length;

    const socks5 = await curlFromLan(['--socks5-hostname', proxy, remoteUrl]);
    expect(socks5.code, socks5.stderr).to.not.equal(0);
    expect(socks5.stderr).to.match(/authentication method|No authentication/i);
    const socks4a = await curlFromLan(['--socks4a', proxy, remoteUrl]);
    expect(socks4a.code, socks4a.stderr).to.not.equal(0);
    expect(socks4a.stderr).to.match(/rejected|failed/i);
    const get = await curlFromLan(['--proxy', `http://${proxy}`, '-w', '%{http_code}', remoteUrl]);
    expect(get.stdout).to.match(
      /^403 Forbidden: this proxy serves local applications and authenticated booster peers only \(see --allow-clients \/ --open-proxy\)\n403$/,
    );
    const connect = await curlFromLan(['-p', '--proxy', `http://${proxy}`, remoteUrl]);
    expect(connect.code).to.not.equal(0);
    expect(connect.stderr).to.match(/403/);
    expect(remoteRequests.length - seenBefore, 'nothing reached the Internet').to.equal(0);

    const here = await curlHere(['--socks5-hostname', `127.0.0.1:${node.proxyAddress.port}`, `${local.url}/hello`]);
    expect(here.stdout).to.equal('hello\n');
    const out = await curlHere(['--socks5-hostname', `127.0.0.1:${node.proxyAddress.port}`, remoteUrl]);
    expect(out.stdout).to.equal('hello from the internet\n');
  });

  it('with allowClients, the LAN host is served but cannot reach this machine (127.0.0.1, localhost, its own address)', async () => {
    node = await startTestNode({ settings: { bind: '0.0.0.0', allowClients: [`${LAN.peer}/32`] } });
    const proxy = `${LAN.host}:${node.proxyAddress.port}`;

    const out = await curlFromLan(['--socks5-hostname', proxy, remoteUrl]);
    expect(out.stdout, out.stderr).to.equal('hello from the internet\n');
    const viaHttp = await curlFromLan(['--proxy', `http://${proxy}`, remoteUrl]);
    expect(viaHttp.stdout, viaHttp.stderr).to.equal('hello from the internet\n');

    // This machine's addresses are cached for a few seconds; the veth's is new.
    await waitUntil(`${LAN.host} to count as this node's own address`, () => forbiddenForRemoteClients(LAN.host) !== undefined, 8000, 200);
    for (const url of [`${local.url}/hello`, `http://localhost:${local.port}/hello`, `http://${LAN.host}:${local.port}/hello`]) {
      const socks = await curlFromLan(['--socks5-hostname', proxy, url]);
      expect(socks.code, `${url}: ${socks.stdout}`).to.not.equal(0);
      expect(socks.stderr, url).to.match(/not allowed|\(2\)/i);
      const http = await curlFromLan(['--proxy', `http://${proxy}`, '-w', '%{http_code}', url]);
      expect(http.stdout, url).to.match(/^403 Forbidden: .*not allowed[^]*403$/);
    }
    expect(node.sources.get('direct')!.stats.consecutiveFailures, 'refusals are not the source’s failures').to.equal(0);

    const here = await curlHere(['--socks5-hostname', `127.0.0.1:${node.proxyAddress.port}`, `${local.url}/hello`]);
    expect(here.stdout).to.equal('hello\n');
  });
});
