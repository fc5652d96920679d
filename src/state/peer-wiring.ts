import type { Disposable } from '../api/disposable';
import type { Logger } from '../api/logger';
import { PeerError } from '../network/link/errors';
import type { Network } from '../network/peers/network';
import type { NodeStatusView } from '../network/link/protocol';
import { checkPeerAddress, checkPeerName, type PeerEntry } from './peer-entry';
import type { StateKeeper } from './state-keeper';

/** The longest wait between two attempts to wire a configured peer that is not answering. */
const MAX_WIRE_RETRY_MS = 60_000;

/**
 * Wires the peers a node should have (config file and state file) and keeps
 * trying those that do not answer yet; once wired, Network's reconnection
 * takes over. Also serves `booster connect` / `disconnect` on a control
 * request, saving the change to the state file unless it is transient.
 */
export class PeerWiring implements Disposable {
  private readonly pending = new Map<string, NodeJS.Timeout>();
  /** The id each address was wired as, so a disconnect by id finds the entry the user wrote as a hostname. */
  private readonly ids = new Map<string, string>();
  private disposed = false;

  constructor(
    private readonly network: Pick<Network, 'connect' | 'disconnect' | 'get' | 'byName' | 'list'>,
    private readonly log: Logger,
    private readonly retryMs: number,
    private readonly state?: StateKeeper,
  ) {}

  /** Starts wiring each entry (in the background: a peer that is away must not hold up the node's start). */
  wireAll(entries: readonly PeerEntry[]): void {
    for (const entry of entries) this.wire(entry, this.retryMs, true);
  }

  /** Stops trying `address` and drops the peer wired from it, if any (a reload removed it from the config file). */
  unwire(address: string): void {
    clearTimeout(this.pending.get(address));
    this.pending.delete(address);
    const id = this.ids.get(address);
    if (id && this.network.get(id)) this.network.disconnect(id);
  }

  async add(target: string, name: string | undefined, persist: boolean): Promise<{ peer: NodeStatusView; message: string }> {
    const address = checkPeerAddress(target, 'the peer address');
    if (name !== undefined) checkPeerName(name, 'the peer name');
    const other = name === undefined ? undefined : this.network.byName(name);
    if (other && other.baddr !== address)
      throw new Error(`the name "${name}" is taken by peer ${other.baddr} (${other.id}); disconnect it first or choose another`);
    const { peer, already } = await this.network.connect(address, name);
    this.ids.set(address, peer.id);
    const current = this.network.get(peer.id)?.name;
    const renamed =
      already && name !== undefined && current !== name
        ? ` (it keeps the name ${current ?? '(none)'} until it is wired again${persist && this.state ? `; ${name} is saved for the next start` : ''})`
        : '';
    let message = already ? `already connected to ${peer.baddr}; kept the existing link${renamed}` : `connected to ${peer.baddr}${name ? ` as ${name}` : ''}`;
    if (!persist) message += ' (transient: not saved)';
    else if (this.state) {
      try {
        await this.state.addPeer(name === undefined ? { address } : { address, name });
      } catch (err) {
        message += `, but ${(err as Error).message}`;
      }
    }
    return { peer, message };
  }

  /** Drops a peer named by its id or its name. */
  async remove(idOrName: string, persist: boolean): Promise<{ peer: NodeStatusView; message: string }> {
    const found = this.network.get(idOrName.toLowerCase()) ?? this.network.byName(idOrName);
    if (!found) {
      const known = this.network.list().map((p) => `${p.id}${p.name ? ` (${p.name})` : ''}`);
      throw new PeerError(`no peer with id or name "${idOrName.slice(0, 64)}" (known: ${known.join(', ') || 'none'})`, 'unknown-peer');
    }
    const peer = this.network.disconnect(found.id);
    let message = `disconnected ${peer.baddr}`;
    if (!persist) return { peer, message: `${message} (transient: it comes back at the next start if saved)` };
    if (this.state) {
      try {
        await this.state.removePeer((a) => this.ids.get(a) === found.id || a === peer.baddr);
      } catch (err) {
        message += `, but ${(err as Error).message}`;
      }
    }
    return { peer, message };
  }

  dispose(): void {
    this.disposed = true;
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }

  private wire(entry: PeerEntry, delayMs: number, first: boolean): void {
    if (this.disposed) return;
    const attempt = async () => {
      this.pending.delete(entry.address);
      try {
        const { peer } = await this.network.connect(entry.address, entry.name);
        if (this.disposed) {
          // The node stopped while this attempt was under way: a peer wired now would outlive it.
          if (this.network.get(peer.id)) this.network.disconnect(peer.id);
          return;
        }
        this.ids.set(entry.address, peer.id);
        this.log.info(`wired saved peer ${entry.name ? `${entry.name} (${entry.address})` : entry.address}`, { id: peer.id });
      } catch (err) {
        // This node itself, or no room for it: trying again would only fail the same way.
        if (err instanceof PeerError && (err.code === 'self' || err.code === 'limit')) {
          this.log.warn(`not wiring peer ${entry.address}: ${err.message}`);
          return;
        }
        const next = Math.min(delayMs * 2, MAX_WIRE_RETRY_MS);
        const line = `cannot wire peer ${entry.address} yet (${(err as Error).message}); trying again, at most every ${MAX_WIRE_RETRY_MS / 1000} s`;
        if (first) this.log.warn(line);
        else this.log.debug(line);
        if (!this.disposed)
          this.pending.set(
            entry.address,
            setTimeout(() => this.wire(entry, next, false), delayMs),
          );
      }
    };
    void attempt();
  }
}
