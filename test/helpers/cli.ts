import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './paths';

export const BIN = path.join(REPO_ROOT, 'bin', 'run');

/**
 * Every CLI a test runs (through spawnCli, or `run(process.execPath, [BIN, ...])`,
 * which inherits process.env) keeps its state, such as the network key a node
 * creates, in one temporary data dir per test run, never in the real home.
 */
export const TEST_BOOSTER_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-home-'));
process.env.BOOSTER_HOME = TEST_BOOSTER_HOME;
process.once('exit', () => fs.rmSync(TEST_BOOSTER_HOME, { recursive: true, force: true }));

export interface RunningCli {
  readonly child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the first stderr match of `pattern` (rejects after timeoutMs). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code. */
  exited(): Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts `bin/run ...args` as a child process (e.g. a node), capturing its log. */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const waiters: (() => void)[] = [];
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    waiters.forEach((w) => w());
  });
  child.stdout.resume();
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stderr: () => err,
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = err.match(pattern);
          if (m) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(check), 1);
            resolve(m);
          }
        };
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; stderr so far:\n${err}`)), timeoutMs);
        waiters.push(check);
        void exit.then((code) => {
          if (!err.match(pattern)) {
            clearTimeout(timer);
            reject(new Error(`process exited (${code}) before ${pattern}; stderr:\n${err}`));
          }
        });
        check();
      });
    },
    exited: () => exit,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
    },
  };
}
