import type { Logger } from '../api/logger';
import type { Rule } from '../api/settings';
import type { PeerEntry } from './peer-entry';
import { writeStateFile, type NodeState } from './state-file';

/**
 * The node's state file in memory: each change is written at once (atomically,
 * one write at a time, in order), so a crash loses nothing a user was told was saved.
 */
export class StateKeeper {
  private state: NodeState;
  private queue: Promise<void> = Promise.resolve();
  constructor(
    readonly file: string,
    initial: NodeState,
    private readonly log: Logger,
    /** limits.maxPeers: a longer list would make the file unreadable at the next start. */
    private readonly maxPeers: number,
  ) {
    this.state = initial;
  }

  get current(): NodeState {
    return this.state;
  }

  /** Adds (or renames) a peer; an entry with the same address or name is replaced. */
  addPeer(entry: PeerEntry): Promise<void> {
    const others = this.state.peers.filter((p) => p.address !== entry.address && (entry.name === undefined || p.name !== entry.name));
    if (others.length >= this.maxPeers) {
      return Promise.reject(
        new Error(
          `could not save it: ${this.file} already holds ${others.length} peers, the most limits.maxPeers allows ("booster disconnect" one without --transient)`,
        ),
      );
    }
    return this.update({ ...this.state, peers: [...others, entry] });
  }

  /** Forgets the peers whose address `matches`; resolves to how many entries went. */
  async removePeer(matches: (address: string) => boolean): Promise<number> {
    const kept = this.state.peers.filter((p) => !matches(p.address));
    const removed = this.state.peers.length - kept.length;
    if (removed > 0) await this.update({ ...this.state, peers: kept });
    return removed;
  }

  setPolicy(policy: string): Promise<void> {
    return this.update({ ...this.state, policy });
  }

  setRules(rules: readonly Rule[]): Promise<void> {
    return this.update({ ...this.state, rules: [...rules] });
  }

  /** Drops the saved policy or rules, so the config file's apply again (a reload that changed them there). */
  forget(key: 'policy' | 'rules'): Promise<void> {
    if (this.state[key] === undefined) return Promise.resolve();
    const { [key]: _dropped, ...rest } = this.state;
    return this.update(rest);
  }

  /** Resolves once every change so far is on disk. */
  flush(): Promise<void> {
    return this.queue.catch(() => undefined);
  }

  private update(next: NodeState): Promise<void> {
    this.state = next;
    const write = this.queue.catch(() => undefined).then(() => writeStateFile(this.file, next));
    this.queue = write;
    return write.catch((err: Error) => {
      this.log.warn(`cannot save the node's state to ${this.file}: ${err.message}`);
      throw new Error(`could not save it to ${this.file}: ${err.message}`);
    });
  }
}
