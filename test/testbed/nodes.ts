import type { ChildProcess } from 'node:child_process';
import { BIN } from '../helpers/cli';
import { run } from '../helpers/exec';
import type { Testbed, TestbedNode } from '../helpers/netns';

export const PPORT = 1080;
export const BPORT = 4884;

/** A `booster start` in a testbed namespace, bound to the node's LAN address; restartable with the same arguments. */
export class NodeProcess {
  private child?: ChildProcess;
  private text = '';
  private readonly watchers = new Set<() => void>();
  private exit?: Promise<void>;

  constructor(
    private readonly testbed: Testbed,
    readonly node: TestbedNode,
    private readonly args: readonly string[],
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Every log line of every start so far. */
  log(): string {
    return this.text;
  }

  /** Starts the node; resolves once its endpoint listens. */
  async start(): Promise<void> {
    if (this.alive) throw new Error(`node ${this.node.index} is already running`);
    const child = this.testbed.spawn(
      this.node,
      process.execPath,
      [BIN, 'start', '--bind', this.node.lanAddress, '--pport', String(PPORT), '--bport', String(BPORT), ...this.args],
      { env: this.env },
    );
    this.child = child;
    const from = this.text.length;
    child.stderr!.on('data', (d: Buffer) => {
      this.text += d.toString();
      this.watchers.forEach((w) => w());
    });
    this.exit = new Promise((resolve) => child.once('exit', () => resolve()));
    await this.waitFor(/booster endpoint listening/, 30_000, from);
  }

  /** Resolves when `pattern` appears in the log after offset `from` (default: anywhere); rejects on timeout or exit. */
  waitFor(pattern: RegExp, timeoutMs = 20_000, from = 0): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (pattern.test(this.text.slice(from))) end(() => resolve());
        else if (!this.alive && this.child) end(() => reject(new Error(`node ${this.node.index} exited before ${pattern}:\n${this.text.slice(-2000)}`)));
      };
      const timer = setTimeout(
        () => end(() => reject(new Error(`node ${this.node.index}: no ${pattern} within ${timeoutMs} ms:\n${this.text.slice(-2000)}`))),
        timeoutMs,
      );
      const end = (f: () => void) => {
        clearTimeout(timer);
        this.watchers.delete(check);
        f();
      };
      this.watchers.add(check);
      void this.exit?.then(check);
      check();
    });
  }

  /** Calls `fn` once, at the first log line matching `pattern` written from now on. */
  onNextLine(pattern: RegExp, fn: () => void): void {
    const from = this.text.length;
    const check = () => {
      if (pattern.test(this.text.slice(from))) {
        this.watchers.delete(check);
        fn();
      }
    };
    this.watchers.add(check);
  }

  /** SIGTERM (the node drains and exits), SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.alive) return;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exit;
    clearTimeout(timer);
  }

  /** SIGKILL: the node dies without a word to its peers. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    this.child!.kill('SIGKILL');
    await this.exit;
  }
}

export interface ClusterOptions {
  /** The balancing policy of node 1; undefined: the node's default. */
  readonly policy?: string;
  /** One data directory per node, kept across restarts (capacity estimates persist there). */
  readonly dataDirs: readonly string[];
  /** The network key all nodes share (BOOSTER_KEY). */
  readonly key: string;
}

/**
 * booster on every node of a testbed: node 1 (the client's) is wired to all
 * the others and admits the testbed host's LAN address as a client without
 * the key. stop() and start() again keep each node's data directory.
 */
export class BoosterCluster {
  readonly nodes: NodeProcess[];

  constructor(
    private readonly testbed: Testbed,
    private readonly options: ClusterOptions,
  ) {
    this.nodes = testbed.nodes.map((n, i) => {
      const args = ['--data-dir', options.dataDirs[i], '--allow-clients', testbed.hostLanAddress];
      if (options.policy) args.push('--policy', options.policy);
      return new NodeProcess(testbed, n, args, { BOOSTER_KEY: options.key, BOOSTER_HOME: options.dataDirs[i] });
    });
  }

  /** Node 1's proxy, as the client reaches it over the LAN. */
  get proxy(): { host: string; port: number } {
    return { host: this.testbed.nodes[0].lanAddress, port: PPORT };
  }

  /** Node i's proxy (1-based): every node admits the testbed host as a client. */
  proxyOf(index: number): { host: string; port: number } {
    return { host: this.testbed.nodes[index - 1].lanAddress, port: PPORT };
  }

  /** Starts every node, then (unless `wire` is false) wires node 1 to the others (`booster connect`). */
  async start(options: { wire?: boolean } = {}): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.start()));
    if (options.wire === false) return;
    for (const peer of this.testbed.nodes.slice(1)) await this.connect(peer);
  }

  /** `booster connect node1 peer`, authenticated with the network key. */
  async connect(peer: TestbedNode): Promise<void> {
    const first = this.testbed.nodes[0];
    const r = await run(process.execPath, [BIN, 'connect', `${first.lanAddress}:${BPORT}`, `${peer.lanAddress}:${BPORT}`], {
      env: { ...process.env, BOOSTER_KEY: this.options.key },
      timeoutMs: 30_000,
    });
    if (r.code !== 0) throw new Error(`booster connect ${first.lanAddress} → ${peer.lanAddress} exited ${r.code}: ${r.stderr || r.stdout}`);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}
