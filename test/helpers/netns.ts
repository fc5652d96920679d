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
    const child = spawn('ip', ['netns', 'exec', this.name, process.execPath, BIN, 'start', '--bind', '0.0.0.0', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
    this.children.push(child);
    return new Promise((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`node in ${this.name} did not start: ${err}`)), 15_000);
      child.stderr!.on('data', (d: Buffer) => {
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
