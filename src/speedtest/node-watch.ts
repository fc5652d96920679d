import type { BoosterClient } from '../client/client';
import { ClientError } from '../client/client';
import type { WireMessage } from '../network/link/protocol';
import { SourceTally } from './source-tally';

export interface WatchOptions {
  readonly timeoutMs: number;
  /** Gets every monitor message as it arrives (e.g. a Recorder). */
  readonly recorder?: { write(m: WireMessage): void };
}

/**
 * A node's two monitor streams (node: tunnels and peers; net: byte counters)
 * for the length of a speed test, feeding a SourceTally.
 */
export class NodeWatch {
  readonly tally = new SourceTally();
  private readonly stops: (() => void)[] = [];
  private paddr?: string;

  private constructor() {}

  /** Opens both streams and waits for the node's snapshot and first byte report. */
  static async start(open: (feature: 'node' | 'net') => Promise<BoosterClient>, options: WatchOptions): Promise<NodeWatch> {
    const watch = new NodeWatch();
    try {
      const snapshot = watch.subscribe(await open('node'), 'node', options, (m) => m.kind === 'node-status');
      const firstReport = watch.subscribe(await open('net'), 'net', options, (m) => m.kind === 'bandwidth');
      await Promise.all([snapshot, firstReport]);
      return watch;
    } catch (err) {
      watch.stop();
      throw err;
    }
  }

  /** The node's proxy address as its first NodeStatus gives it. */
  get proxyAddress(): string | undefined {
    return this.paddr;
  }

  stop(): void {
    this.stops.splice(0).forEach((s) => s());
  }

  private subscribe(client: BoosterClient, feature: 'node' | 'net', options: WatchOptions, first: (m: WireMessage) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new ClientError(`node ${client.address} sent no ${feature} monitor data within ${options.timeoutMs} ms`)),
        Math.max(options.timeoutMs, 2000),
      );
      const stop = client.monitor(
        feature,
        (m) => {
          if (m.kind === 'node-status') this.paddr ??= m.node.paddr;
          this.tally.observe(m);
          options.recorder?.write(m);
          if (first(m)) {
            clearTimeout(timer);
            resolve();
          }
        },
        (reason) => {
          clearTimeout(timer);
          reject(new ClientError(`node ${client.address} closed the ${feature} monitor stream (${reason})`));
        },
      );
      this.stops.push(() => {
        clearTimeout(timer);
        stop();
      });
    });
  }
}
