import type { Disposable } from '../api/disposable';
import type { Candidate, SourceDescriptor } from '../api/sources';

/**
 * One contribution kind as its users see it (dispatch asks for dialers and
 * policies, the network for transports). They never see ExtensionHost: the
 * registry activates the contributing plugin when an id is first asked for.
 */
export interface Registry<T> {
  /** The implementation registered under `id` now, without activating anything. */
  get(id: string): T | undefined;
  /** The implementation, activating the plugin that declares `id` first if needed; undefined when none can provide it. */
  load(id: string): Promise<T | undefined>;
  ids(): string[];
  /** The plugin that registered `id`. */
  ownerOf(id: string): string | undefined;
  /** Every id some valid plugin declares, active or not. */
  declared(): string[];
  /** The plugin that declares `id`, active or not. */
  declarer(id: string): string | undefined;
}

/** What the extension host needs of the node's sources to serve plugins' `context.sources`. */
export interface SourceStore {
  add(source: SourceDescriptor): Disposable;
  list(): readonly Candidate[];
  get(id: string): Candidate | undefined;
  setDown(id: string, down: boolean, reason: string): void;
}
