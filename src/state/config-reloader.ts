import type { Logger } from '../api/logger';
import { applyReload, describeReload, type ConfigLayer, type ReloadTarget } from './reload';

/**
 * A running node's `booster ctrl reload` and SIGHUP: reads the config again,
 * applies what changed since the last reading (applyReload), one reload at a
 * time. A config that cannot be read or used is logged as an error and
 * changes nothing.
 */
export class ConfigReloader {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    /** What the config file said at the last (re)load. */
    private layer: ConfigLayer,
    private readonly read: () => ConfigLayer,
    private readonly target: ReloadTarget,
    private readonly log: Logger,
  ) {}

  /** Resolves to what changed, in words; rejects, saying why, when nothing did. */
  reload(): Promise<string> {
    const run = () => this.once();
    // A SIGHUP during a ctrl reload waits its turn.
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async once(): Promise<string> {
    let next: ConfigLayer;
    try {
      next = this.read();
    } catch (err) {
      return this.refuse(`config not reloaded, nothing changed: ${(err as Error).message}`);
    }
    try {
      const text = describeReload(await applyReload(this.layer, next, this.target));
      this.layer = next;
      this.log.info(text);
      return text;
    } catch (err) {
      return this.refuse(`config not reloaded: ${(err as Error).message}`);
    }
  }

  private refuse(message: string): never {
    this.log.error(message);
    throw new Error(message);
  }
}
