import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { quietly, sh } from './netns';

/** One host of a LanBridge: its namespace and its address on the LAN. */
export interface LanHost {
  readonly ns: string;
  readonly address: string;
}

/**
 * A LAN of `count` hosts, each in its own network namespace, joined by a
 * bridge in a namespace of its own: what mDNS needs (multicast between the
 * hosts) without touching this machine's interfaces. Names carry the pid
 * (`bl<pid base 36>`); destroy() kills what was spawned and removes it all.
 */
export class LanBridge {
  readonly hosts: LanHost[];
  private readonly prefix = `bl${process.pid.toString(36)}`;
  private readonly children = new Set<ChildProcess>();

  constructor(count: number) {
    const k = LanBridge.freeOctet();
    this.hosts = Array.from({ length: count }, (_, i) => ({ ns: `${this.prefix}-h${i + 1}`, address: `10.235.${k}.${i + 1}` }));
  }

  private get bridgeNs(): string {
    return `${this.prefix}-br`;
  }

  /** An octet k for 10.235.k.0/24 that no interface here uses yet. */
  private static freeOctet(): number {
    const used = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    for (let n = 0; n < 250; n++) {
      const k = ((process.pid + n) % 250) + 1;
      if (!used.includes(`10.235.${k}.`)) return k;
    }
    throw new Error('no free 10.235.k.0/24 subnet for a LAN bridge');
  }

  create(): void {
    this.destroy();
    const br = this.bridgeNs;
    sh(['ip', 'netns', 'add', br]);
    sh(['ip', '-n', br, 'link', 'add', 'br0', 'type', 'bridge']);
    sh(['ip', '-n', br, 'link', 'set', 'br0', 'up']);
    this.hosts.forEach((h, i) => {
      const own = `${this.prefix}-l${i + 1}`;
      const bridged = `${own}b`;
      sh(['ip', 'netns', 'add', h.ns]);
      sh(['ip', '-n', h.ns, 'link', 'set', 'lo', 'up']);
      sh(['ip', 'link', 'add', own, 'type', 'veth', 'peer', 'name', bridged]);
      sh(['ip', 'link', 'set', bridged, 'netns', br]);
      sh(['ip', '-n', br, 'link', 'set', bridged, 'master', 'br0']);
      sh(['ip', '-n', br, 'link', 'set', bridged, 'up']);
      sh(['ip', 'link', 'set', own, 'netns', h.ns]);
      sh(['ip', '-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', own]);
      sh(['ip', '-n', h.ns, 'link', 'set', own, 'up']);
    });
  }

  /** Runs `cmd args` inside host h's namespace; killed by destroy(). */
  spawn(h: LanHost, cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', h.ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  destroy(): void {
    for (const c of this.children) c.kill('SIGKILL');
    this.children.clear();
    for (const h of this.hosts) quietly(['ip', 'netns', 'del', h.ns]);
    quietly(['ip', 'netns', 'del', this.bridgeNs]);
  }
}
