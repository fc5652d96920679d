import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { BIN, spawnCli, type RunningCli } from './cli';
import { run, type ExecResult } from './exec';
import { quietly, sh } from './netns';
import { freePort } from './ports';

/** The script a stranger runs inside its namespace (compiled next to this file). */
export const AGENT = path.join(__dirname, 'stranger-agent.js');

/** Starts a process and keeps its stderr, like spawnCli (stdout is kept too: the agent prints JSON there). */
function spawnLogged(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): RunningCli & { stdout(): string } {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  const waiters = new Set<() => void>();
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    waiters.forEach((w) => w());
  });
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    waiters.forEach((w) => w());
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = (err + '\n' + out).match(pattern);
          if (!m) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(m);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; stderr:\n${err}\nstdout:\n${out}`));
        }, timeoutMs);
        waiters.add(check);
        void exit.then((code) => {
          if (!waiters.has(check)) return;
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`process exited (${code}) before ${pattern}; stderr:\n${err}\nstdout:\n${out}`));
        });
        check();
      });
    },
    exited: () => exit,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

export type Spawned = ReturnType<typeof spawnLogged>;

/** The JSON lines a spawned agent printed so far. */
export function agentLines(p: Spawned): Record<string, unknown>[] {
  return p
    .stdout()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * A stranger's machine: a network namespace joined to this (host) namespace by
 * a veth pair. The host side (10.233.S.1) is the node's "LAN" address; the
 * stranger is 10.233.S.2 (plus any extra addresses). Everything it creates,
 * and every process started in it, goes in destroy().
 */
export class StrangerHost {
  readonly hostAddress: string;
  readonly address: string;
  private readonly children: Spawned[] = [];
  private created = false;

  /** `tag`: a few characters making the names unique (interface names are at most 15 characters). */
  constructor(
    readonly tag: string,
    readonly subnet: number,
  ) {
    if (`bst-sec-${tag}h`.length > 15) throw new Error(`tag "${tag}" too long for an interface name`);
    this.hostAddress = `10.233.${subnet}.1`;
    this.address = `10.233.${subnet}.2`;
  }

  get name(): string {
    return `bst-sec-${this.tag}`;
  }

  private get hostIf(): string {
    return `bst-sec-${this.tag}h`;
  }

  private get nsIf(): string {
    return `bst-sec-${this.tag}n`;
  }

  /** `extra`: more stranger addresses (e.g. 10.233.S.3); `hostExtra`: more host addresses on the veth (CIDR, e.g. 169.254.233.1/32). */
  create(options: { extra?: readonly string[]; hostExtra?: readonly string[] } = {}): void {
    this.destroy();
    // Left over by a run that was killed (same pid, same names)?
    quietly(['ip', 'netns', 'del', this.name]);
    quietly(['ip', 'link', 'del', this.hostIf]);
    this.created = true;
    process.once('exit', () => this.destroy());
    const ns = this.name;
    sh(['ip', 'netns', 'add', ns]);
    sh(['ip', 'link', 'add', this.hostIf, 'type', 'veth', 'peer', 'name', this.nsIf]);
    sh(['ip', 'link', 'set', this.nsIf, 'netns', ns]);
    sh(['ip', 'addr', 'add', `${this.hostAddress}/24`, 'dev', this.hostIf]);
    for (const a of options.hostExtra ?? []) sh(['ip', 'addr', 'add', a, 'dev', this.hostIf]);
    sh(['ip', 'link', 'set', this.hostIf, 'up']);
    sh(['ip', '-n', ns, 'addr', 'add', `${this.address}/24`, 'dev', this.nsIf]);
    for (const a of options.extra ?? []) sh(['ip', '-n', ns, 'addr', 'add', `${a}/24`, 'dev', this.nsIf]);
    sh(['ip', '-n', ns, 'link', 'set', this.nsIf, 'up']);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    sh(['ip', '-n', ns, 'route', 'add', 'default', 'via', this.hostAddress]);
  }

  /** Runs a program inside the namespace to completion. */
  exec(cmd: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ExecResult> {
    return run('ip', ['netns', 'exec', this.name, cmd, ...args], { env: { ...process.env, ...options.env }, timeoutMs: options.timeoutMs ?? 15_000 });
  }

  curl(args: readonly string[]): Promise<ExecResult> {
    return this.exec('curl', ['-sS', '--max-time', '5', ...args]);
  }

  /** The booster CLI, run inside the namespace. */
  cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ExecResult> {
    return this.exec(process.execPath, [BIN, ...args], { env, timeoutMs: 30_000 });
  }

  /** Runs an agent command inside the namespace and returns its result. */
  async agent<T>(command: string, options: object, timeoutMs = 20_000): Promise<T> {
    const res = await this.exec(process.execPath, [AGENT, command, JSON.stringify(options)], { timeoutMs });
    const last = res.stdout.trim().split('\n').pop() ?? '';
    if (res.code !== 0 || !last.startsWith('{"result"')) {
      throw new Error(`agent ${command} failed (exit ${res.code}): ${res.stderr || res.stdout}`);
    }
    return (JSON.parse(last) as { result: T }).result;
  }

  /** Starts a long-running agent command (serve, legacy-listen, hold) inside the namespace. */
  spawnAgent(command: string, options: object): Spawned {
    return this.track(spawnLogged('ip', ['netns', 'exec', this.name, process.execPath, AGENT, command, JSON.stringify(options)], {}));
  }

  /** Starts a booster node inside the namespace (`bin/run start ...args`); resolves once it listens. */
  async startNode(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Spawned> {
    const node = this.track(spawnLogged('ip', ['netns', 'exec', this.name, process.execPath, BIN, 'start', ...args], env));
    await node.waitFor(/booster endpoint listening/);
    return node;
  }

  /** The last lines each process started in the namespace wrote (for a failed test's report). */
  logs(lines = 30): string {
    return this.children
      .map((c) => `--- in ${this.name}: ${c.child.spawnargs.slice(4).join(' ').slice(0, 160)}\n${tail(c.stderr() + c.stdout(), lines)}`)
      .join('\n');
  }

  private track(p: Spawned): Spawned {
    this.children.push(p);
    return p;
  }

  destroy(): void {
    for (const c of this.children.splice(0)) c.kill('SIGKILL');
    if (!this.created) return;
    quietly(['ip', 'netns', 'del', this.name]);
    quietly(['ip', 'link', 'del', this.hostIf]);
  }
}

/** A node under test, started as `bin/run start --bind 0.0.0.0` in this namespace. */
export interface HostNode {
  readonly proc: RunningCli;
  readonly bport: number;
  readonly pport: number;
  /** 127.0.0.1:bport, for the CLI on this machine. */
  readonly local: string;
  /** Lines of its log that match `pattern`. */
  lines(pattern: RegExp): string[];
  kill(): void;
}

let configDir: string | undefined;

/** Writes a config file for `bin/run start --config` (removed at exit). */
export function configFile(name: string, config: object): string {
  if (!configDir) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-sec-config-'));
    configDir = dir;
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  const file = path.join(configDir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(config));
  return file;
}

const running = new Set<HostNode>();

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** What the nodes still running here and the processes in `hosts` last logged: printed when a test fails. */
export function failureLogs(hosts: readonly StrangerHost[], lines = 30): string {
  const nodes = [...running].map((n) => `--- node ${n.local} (proxy ${n.pport})\n${tail(n.proc.stderr(), lines)}`);
  return [...nodes, ...hosts.map((h) => h.logs(lines))].join('\n');
}

export async function startHostNode(args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<HostNode> {
  const bport = await freePort();
  let pport = await freePort();
  while (pport === bport) pport = await freePort();
  const proc = spawnCli(['start', '--bind', '0.0.0.0', '--pport', String(pport), '--bport', String(bport), ...args], env);
  try {
    await proc.waitFor(/booster endpoint listening/);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  const node: HostNode = {
    proc,
    bport,
    pport,
    local: `127.0.0.1:${bport}`,
    lines: (pattern) =>
      proc
        .stderr()
        .split('\n')
        .filter((l) => pattern.test(l)),
    kill: () => {
      running.delete(node);
      proc.kill('SIGKILL');
    },
  };
  running.add(node);
  return node;
}

/** Runs the booster CLI on this machine. */
export function hostCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ExecResult> {
  return run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeoutMs: 30_000 });
}

/** An HTTP origin that counts every connection it accepts: "saw no request" means not even a TCP connection. */
export interface CountingOrigin {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  connections: number;
  requests: number;
  close(): Promise<void>;
}

export async function startCountingOrigin(host: string): Promise<CountingOrigin> {
  const server = http.createServer((req, res) => {
    origin.requests++;
    res.end(`hello from ${host}\n`);
  });
  server.on('connection', () => origin.connections++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const origin: CountingOrigin = {
    host,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    connections: 0,
    requests: 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return origin;
}
