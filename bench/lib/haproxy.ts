/**
 * The comparison for bench/testbed.ts: microsocks (a plain SOCKS5 server) on
 * every node of a testbed, listening on its LAN address, and HAProxy (tcp
 * mode, `balance leastconn`) in node 1's namespace in front of them; the
 * client speaks SOCKS5 to HAProxy, which hands each connection whole to one
 * microsocks, whose own uplink then carries it.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Testbed, TestbedNode } from '../../test/helpers/netns';

export const MICROSOCKS_PORT = 1082;
export const HAPROXY_PORT = 1081;

/** Why the HAProxy comparison cannot run here (a missing program, with the Debian package to install), or undefined. */
export function haproxyUnavailable(): string | undefined {
  const missing = (['haproxy', 'microsocks'] as const).filter((p) => {
    try {
      execFileSync('sh', ['-c', `command -v ${p}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  return missing.length ? `needs ${missing.join(' and ')} (apt-get install -y ${missing.join(' ')})` : undefined;
}

/** Resolves once host:port accepts a TCP connection from here (polls every 100 ms). */
export async function waitListening(host: string, port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A process in a testbed namespace that can be killed and started again the same way. */
export class Restartable {
  private child?: ChildProcess;
  private stderr = '';

  constructor(
    private readonly bed: Testbed,
    readonly node: TestbedNode,
    private readonly cmd: string,
    private readonly args: readonly string[],
    private readonly port: number,
  ) {}

  async start(): Promise<void> {
    const child = this.bed.spawn(this.node, this.cmd, this.args);
    this.child = child;
    child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`${this.cmd} in ${this.node.ns} exited ${code}: ${this.stderr}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([waitListening(this.node.lanAddress, this.port), exited]);
  }

  /** SIGKILL, resolved once it is gone. */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  }
}

/** microsocks on every node and HAProxy on node 1; `proxy` is what the client dials. */
export class HaproxyLeastconn {
  readonly socks: Restartable[];
  private readonly haproxy: Restartable;
  private readonly config: string;

  constructor(bed: Testbed) {
    this.socks = bed.nodes.map((n) => new Restartable(bed, n, 'microsocks', ['-i', n.lanAddress, '-p', String(MICROSOCKS_PORT)], MICROSOCKS_PORT));
    const first = bed.nodes[0];
    this.config = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bst-haproxy-')), 'haproxy.cfg');
    fs.writeFileSync(
      this.config,
      [
        'global',
        '  maxconn 4096',
        'defaults',
        '  mode tcp',
        '  timeout connect 5s',
        '  timeout client 300s',
        '  timeout server 300s',
        // A refused connection (a dead microsocks) is retried, the last time on another server.
        '  retries 2',
        '  option redispatch',
        'frontend socks',
        `  bind ${first.lanAddress}:${HAPROXY_PORT}`,
        '  default_backend nodes',
        'backend nodes',
        '  balance leastconn',
        ...bed.nodes.map((n) => `  server node${n.index} ${n.lanAddress}:${MICROSOCKS_PORT} check inter 1s`),
        '',
      ].join('\n'),
    );
    this.haproxy = new Restartable(bed, first, 'haproxy', ['-db', '-f', this.config], HAPROXY_PORT);
  }

  get proxy(): { host: string; port: number } {
    return { host: this.haproxy.node.lanAddress, port: HAPROXY_PORT };
  }

  async start(): Promise<void> {
    await Promise.all(this.socks.map((s) => s.start()));
    await this.haproxy.start();
  }

  async stop(): Promise<void> {
    await this.haproxy.kill();
    await Promise.all(this.socks.map((s) => s.kill()));
  }

  dispose(): void {
    fs.rmSync(path.dirname(this.config), { recursive: true, force: true });
  }
}
