import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { BIN } from './cli';
import { TEST_KEY_TEXT } from './key';

/** Programs namespace tests run, with the arguments that make each just print its version, and the package that has it. */
const TOOLS = {
  ip: { probe: ['-V'], from: 'iproute2' },
  tc: { probe: ['-V'], from: 'iproute2' },
  curl: { probe: ['--version'], from: 'curl' },
} as const;

export type NetnsTool = keyof typeof TOOLS;

/** Why namespace tests cannot run here, or undefined when they can (root, and the `tools` they use: iproute2's ip and tc unless told). */
export function netnsUnavailable(tools: readonly NetnsTool[] = ['ip', 'tc']): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces); CI runs as root';
  try {
    for (const tool of tools) execFileSync(tool, TOOLS[tool].probe, { stdio: 'ignore' });
  } catch {
    const packages = [...new Set(tools.map((t) => TOOLS[t].from))].map((p) => {
      const own = tools.filter((t) => TOOLS[t].from === p && t !== p);
      return own.length > 0 ? `${p} (${own.join(', ')})` : p;
    });
    return `needs ${packages.join(' and ')}; bash .ci/run installs ${packages.length > 1 ? 'them' : 'it'}`;
  }
  return undefined;
}

/** For a suite's before hook (`ctx` is its `this`): skips the suite, saying why, where namespace tests cannot run. */
export function skipUnlessNetns(ctx: Mocha.Context, tools?: readonly NetnsTool[]): void {
  const why = netnsUnavailable(tools);
  if (why) {
    console.warn(`      skipped: ${why}`);
    ctx.skip();
  }
}

/** Runs a command (ip, tc) to completion; throws with its stderr if it fails. */
export function sh(args: readonly string[]): void {
  execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** sh() for removing what may not be there (never made, or gone with its namespace). */
export function quietly(args: readonly string[]): void {
  try {
    sh(args);
  } catch {
    // already gone
  }
}

/**
 * A host in its own network namespace, joined to this (host) namespace by a
 * veth pair; its "uplink" is the host side of the pair, shaped with tbf, so
 * what it downloads from the host arrives at `rateMbit`.
 */
export class NamespaceHost {
  readonly hostAddress: string;
  readonly address: string;
  private readonly children: ChildProcess[] = [];

  constructor(
    readonly name: string,
    subnet: number,
    private readonly rateMbit: number,
  ) {
    this.hostAddress = `10.231.${subnet}.1`;
    this.address = `10.231.${subnet}.2`;
  }

  private get hostIf(): string {
    return `${this.name}-h`;
  }

  create(): void {
    this.destroy();
    const ns = this.name;
    sh(['ip', 'netns', 'add', ns]);
    sh(['ip', 'link', 'add', this.hostIf, 'type', 'veth', 'peer', 'name', `${ns}-n`]);
    sh(['ip', 'link', 'set', `${ns}-n`, 'netns', ns]);
    sh(['ip', 'addr', 'add', `${this.hostAddress}/24`, 'dev', this.hostIf]);
    sh(['ip', 'link', 'set', this.hostIf, 'up']);
    sh(['ip', '-n', ns, 'addr', 'add', `${this.address}/24`, 'dev', `${ns}-n`]);
    sh(['ip', '-n', ns, 'link', 'set', `${ns}-n`, 'up']);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    sh(['ip', '-n', ns, 'route', 'add', 'default', 'via', this.hostAddress]);
    sh(['tc', 'qdisc', 'add', 'dev', this.hostIf, 'root', 'tbf', 'rate', `${this.rateMbit}mbit`, 'burst', '32kb', 'latency', '200ms']);
  }

  /** Starts a booster node inside the namespace; resolves once it listens. */
  startNode(args: readonly string[]): Promise<ChildProcess> {
    // Nodes of a testbed share the test network key (unless the caller set another), so they can wire each other.
    const env = { ...process.env, BOOSTER_KEY: process.env.BOOSTER_KEY ?? TEST_KEY_TEXT };
    const child = spawn('ip', ['netns', 'exec', this.name, process.execPath, BIN, 'start', '--bind', '0.0.0.0', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env,
    });
    this.children.push(child);
    return new Promise((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`node in ${this.name} did not start: ${err}`)), 15_000);
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('booster endpoint listening')) {
          clearTimeout(timer);
          resolve(child);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`node in ${this.name} exited ${code}: ${err}`));
      });
    });
  }

  destroy(): void {
    for (const c of this.children.splice(0)) c.kill('SIGKILL');
    quietly(['ip', 'netns', 'del', this.name]);
    quietly(['ip', 'link', 'del', this.hostIf]);
  }
}

// ---------------------------------------------------------------- the household testbed

/** One node's place in a Testbed: its namespace, its LAN address and its shaped uplink. */
export interface TestbedNode {
  /** 1-based: node 1 is the one the client uses. */
  readonly index: number;
  readonly ns: string;
  /** Where the node listens (proxy, endpoint), on the unshaped LAN. */
  readonly lanAddress: string;
  /** The node's side of its uplink: what the origin sees as the client address. */
  readonly uplinkAddress: string;
  /** The configured download rate of the uplink (tbf), Mbit/s. */
  rateMbit: number;
}

const live = new Set<Testbed>();
let signalHooks = false;

/** Tears down every live testbed at exit and on SIGINT/SIGTERM (then lets the signal do what it would have done). */
function hookTeardown(): void {
  if (signalHooks) return;
  signalHooks = true;
  process.on('exit', () => [...live].forEach((t) => t.destroy()));
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = () => {
      [...live].forEach((t) => t.destroy());
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.once(sig, onSignal);
  }
}

/**
 * A household of nodes, each in its own network namespace (root):
 *
 *   - the "Internet" is this (host) namespace: the origin listens on
 *     `originAddress` (on a veth pair of its own), and each node's default route is
 *     its own veth uplink to here. The host side of each uplink is shaped with
 *     tbf at the node's rate, so what a node downloads arrives at that rate;
 *     the upload direction is not shaped.
 *   - the LAN is a bridge in a namespace of its own, one unshaped veth per node
 *     on `lanCidr`, plus one for this namespace (`hostLanAddress`), so a client
 *     here reaches node 1's proxy without crossing any uplink, and traffic
 *     between nodes never goes through a shaped link.
 *
 * Names carry the pid (`bt<pid base 36><serial>`); destroy() (also run at exit and on
 * SIGINT/SIGTERM) kills what was spawned in the namespaces and removes them.
 */
export class Testbed {
  readonly prefix: string;
  readonly nodes: TestbedNode[];
  readonly originAddress: string;
  readonly hostLanAddress: string;
  readonly lanCidr: string;
  private readonly lanNs: string;
  private readonly children = new Set<ChildProcess>();
  private created = false;

  private static made = 0;

  /** `rates`: each node's uplink in Mbit/s, node 1 first. */
  constructor(rates: readonly number[]) {
    const serial = Testbed.made++;
    this.prefix = `bt${process.pid.toString(36)}${serial.toString(36)}`;
    const k = Testbed.freeOctet(serial);
    this.lanNs = `${this.prefix}-lan`;
    this.originAddress = `10.238.${k}.1`;
    this.hostLanAddress = `10.237.${k}.100`;
    this.lanCidr = `10.237.${k}.0/24`;
    this.nodes = rates.map((rateMbit, i) => ({
      index: i + 1,
      ns: `${this.prefix}-n${i + 1}`,
      lanAddress: `10.237.${k}.${i + 1}`,
      uplinkAddress: `10.236.${k}.${4 * i + 2}`,
      rateMbit,
    }));
  }

  /** An octet k for 10.236-238.k.0/24 that no interface here uses yet (starting from one derived from the pid). */
  private static freeOctet(serial: number): number {
    let used = '';
    try {
      used = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    } catch {
      // no ip: create() will say so
    }
    for (let n = 0; n < 250; n++) {
      const k = ((process.pid + 17 * serial + n) % 250) + 1;
      if (!new RegExp(`10\\.23[678]\\.${k}\\.`).test(used)) return k;
    }
    throw new Error('no free 10.236-238.k.0/24 subnets for a testbed');
  }

  private uplinkHostIf(n: TestbedNode): string {
    return `${this.prefix}-u${n.index}`;
  }

  create(): void {
    this.destroy();
    live.add(this);
    hookTeardown();
    this.created = true;
    const p = this.prefix;
    const lan = this.lanNs;
    sh(['ip', 'netns', 'add', lan]);
    sh(['ip', '-n', lan, 'link', 'set', 'lo', 'up']);
    sh(['ip', '-n', lan, 'link', 'add', 'br0', 'type', 'bridge']);
    sh(['ip', '-n', lan, 'link', 'set', 'br0', 'up']);
    this.lanLeg(`${p}-lh`, `${p}-lhb`);
    sh(['ip', 'addr', 'add', `${this.hostLanAddress}/24`, 'dev', `${p}-lh`]);
    sh(['ip', 'link', 'set', `${p}-lh`, 'up']);
    // The origin's address, on a veth pair of its own (no dummy driver everywhere): a local address here.
    sh(['ip', 'link', 'add', `${p}-o`, 'type', 'veth', 'peer', 'name', `${p}-op`]);
    sh(['ip', 'addr', 'add', `${this.originAddress}/32`, 'dev', `${p}-o`]);
    sh(['ip', 'link', 'set', `${p}-op`, 'up']);
    sh(['ip', 'link', 'set', `${p}-o`, 'up']);
    for (const n of this.nodes) {
      const ns = n.ns;
      sh(['ip', 'netns', 'add', ns]);
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      // Uplink: host side shaped (downloads), node side the default route.
      const hostIf = this.uplinkHostIf(n);
      const gateway = n.uplinkAddress.replace(/\d+$/, (d) => String(Number(d) - 1));
      sh(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', `${hostIf}n`]);
      sh(['ip', 'link', 'set', `${hostIf}n`, 'netns', ns]);
      sh(['ip', 'addr', 'add', `${gateway}/30`, 'dev', hostIf]);
      sh(['ip', 'link', 'set', hostIf, 'up']);
      sh(['ip', '-n', ns, 'addr', 'add', `${n.uplinkAddress}/30`, 'dev', `${hostIf}n`]);
      sh(['ip', '-n', ns, 'link', 'set', `${hostIf}n`, 'up']);
      sh(['ip', '-n', ns, 'route', 'add', 'default', 'via', gateway]);
      this.shape(n);
      // LAN leg: unshaped, on the bridge.
      this.lanLeg(`${p}-l${n.index}`, `${p}-l${n.index}b`, ns);
      sh(['ip', '-n', ns, 'addr', 'add', `${n.lanAddress}/24`, 'dev', `${p}-l${n.index}`]);
      sh(['ip', '-n', ns, 'link', 'set', `${p}-l${n.index}`, 'up']);
    }
  }

  /** A veth pair whose `bridged` end joins the LAN bridge; `own` stays here or moves to `ns`. */
  private lanLeg(own: string, bridged: string, ns?: string): void {
    sh(['ip', 'link', 'add', own, 'type', 'veth', 'peer', 'name', bridged]);
    sh(['ip', 'link', 'set', bridged, 'netns', this.lanNs]);
    sh(['ip', '-n', this.lanNs, 'link', 'set', bridged, 'master', 'br0']);
    sh(['ip', '-n', this.lanNs, 'link', 'set', bridged, 'up']);
    if (ns) sh(['ip', 'link', 'set', own, 'netns', ns]);
  }

  private shape(n: TestbedNode): void {
    sh(['tc', 'qdisc', 'replace', 'dev', this.uplinkHostIf(n), 'root', 'tbf', 'rate', `${n.rateMbit}mbit`, 'burst', '32kb', 'latency', '200ms']);
  }

  /** Reshapes the uplinks (node 1 first); the namespaces and what runs in them stay. */
  setRates(rates: readonly number[]): void {
    rates.forEach((r, i) => {
      this.nodes[i].rateMbit = r;
      this.shape(this.nodes[i]);
    });
  }

  /** The node whose uplink has this address (what the origin sees), if any. */
  nodeByUplink(address: string): TestbedNode | undefined {
    const a = address.replace(/^::ffff:/, '');
    return this.nodes.find((n) => n.uplinkAddress === a);
  }

  /**
   * Starts `cmd args` inside node n's namespace (`ip netns exec` execs it, so
   * the child's pid is the program's). The child is killed by destroy().
   */
  spawn(n: TestbedNode, cmd: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', n.ns, cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...options.env } });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  destroy(): void {
    for (const c of this.children) {
      try {
        c.kill('SIGKILL');
      } catch {
        // gone
      }
    }
    this.children.clear();
    live.delete(this);
    if (!this.created) return;
    for (const n of this.nodes) quietly(['ip', 'netns', 'del', n.ns]);
    quietly(['ip', 'netns', 'del', this.lanNs]);
    for (const n of this.nodes) quietly(['ip', 'link', 'del', this.uplinkHostIf(n)]);
    quietly(['ip', 'link', 'del', `${this.prefix}-lh`]);
    quietly(['ip', 'link', 'del', `${this.prefix}-o`]);
    this.created = false;
  }
}
