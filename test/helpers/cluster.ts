import type { BoosterNode } from '../../src/core/node';
import { spawnCli, type RunningCli } from './cli';
import { startHttpServer, type TestHttpServer } from './http';
import { startTestNode, type TestNodeOptions } from './node';
import { freePort } from './ports';

/** A node run as a child process (`bin/run start`), so a test can kill or freeze it; restartable on the same ports. */
export interface ChildNode {
  readonly pport: number;
  readonly bport: number;
  /** Its booster endpoint, host:port. */
  readonly address: string;
  /** The current process (replaced by start()). */
  readonly cli: RunningCli;
  /** Starts it again on the same ports (after a kill). */
  start(): Promise<void>;
}

/** What useNodes() gives a suite: factories whose products are all torn down after the current test. */
export interface NodeSet {
  /** An HTTP origin on 127.0.0.1 (slow responses are finished before it closes). */
  origin(): Promise<TestHttpServer>;
  /** A node in this process (see startTestNode). */
  node(options?: TestNodeOptions): Promise<BoosterNode>;
  /** A node in a child process on fixed free ports; `args` are extra `start` flags. */
  child(args?: readonly string[]): Promise<ChildNode>;
}

/**
 * Per-test nodes for multi-node suites: every node, child process and origin
 * a test makes is stopped after that test (afterEach), so no test depends on
 * what an earlier one left behind and each can run alone or in any order.
 */
export function useNodes(): NodeSet {
  const teardown: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    // Last made, first stopped; all of them even if one fails.
    const results = await Promise.allSettled(
      teardown
        .splice(0)
        .reverse()
        .map((fn) => fn()),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  });
  return {
    async origin() {
      const origin = await startHttpServer();
      teardown.push(async () => {
        origin.finishSlow();
        await origin.close();
      });
      return origin;
    },
    async node(options) {
      const node = await startTestNode(options);
      teardown.push(() => node.stop());
      return node;
    },
    async child(args = []) {
      let pport = 0;
      let bport = 0;
      let cli: RunningCli | undefined;
      const start = async () => {
        cli = spawnCli(['start', '--pport', String(pport), '--bport', String(bport), '--bind', '127.0.0.1', ...args]);
        await cli.waitFor(/booster endpoint listening/);
      };
      // Registered before the start, so a child that fails to come up is still killed.
      teardown.push(async () => {
        if (!cli || cli.child.exitCode !== null || cli.child.signalCode !== null) return;
        // SIGKILL also ends a process stopped with SIGSTOP.
        cli.kill('SIGKILL');
        await cli.exited();
      });
      // A port freePort() saw free can be taken before the child binds it (two
      // calls may even return the same one): pick again, a few times, if so.
      for (let attempt = 1; ; attempt++) {
        pport = await freePort();
        do bport = await freePort();
        while (bport === pport);
        try {
          await start();
          break;
        } catch (err) {
          if (attempt === 3 || !/EADDRINUSE/.test((err as Error).message)) throw err;
        }
      }
      return {
        pport,
        bport,
        address: `127.0.0.1:${bport}`,
        get cli() {
          return cli!;
        },
        start,
      };
    },
  };
}
