import { type Disposable, toDisposable } from './disposable';

/** A typed event: call it with a listener to subscribe; dispose the result to unsubscribe. */
export type Event<T> = (listener: (e: T) => void) => Disposable;

export namespace Event {
  export const None: Event<never> = () => toDisposable(() => undefined);
}

/**
 * The owner side of an Event. Listener exceptions are isolated: one faulty
 * listener (a plugin's monitor, say) never stops delivery to the others.
 */
export class Emitter<T> implements Disposable {
  private listeners = new Set<(e: T) => void>();
  private disposed = false;

  constructor(private readonly onListenerError: (err: unknown) => void = defaultListenerError) {}

  readonly event: Event<T> = (listener) => {
    if (this.disposed) return toDisposable(() => undefined);
    this.listeners.add(listener);
    return toDisposable(() => this.listeners.delete(listener));
  };

  get hasListeners(): boolean {
    return this.listeners.size > 0;
  }

  fire(e: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(e);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  dispose(): void {
    this.disposed = true;
    this.listeners.clear();
  }
}

function defaultListenerError(err: unknown): void {
  process.emitWarning(`event listener failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
}
