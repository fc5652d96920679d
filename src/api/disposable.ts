/** Something that owns a resource (socket, timer, listener, registration) and can release it. */
export interface Disposable {
  dispose(): void;
}

export function toDisposable(fn: () => void): Disposable {
  let done = false;
  return {
    dispose() {
      if (done) return;
      done = true;
      fn();
    },
  };
}

/**
 * Owns a set of disposables and releases them in reverse order of addition.
 * Errors thrown by one disposable do not stop the others; the first is rethrown.
 */
export class DisposableStore implements Disposable {
  private readonly items: Disposable[] = [];
  private disposed = false;

  get isDisposed(): boolean {
    return this.disposed;
  }

  add<T extends Disposable>(item: T): T {
    if (this.disposed) {
      item.dispose();
      return item;
    }
    this.items.push(item);
    return item;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    let firstError: unknown;
    while (this.items.length > 0) {
      const item = this.items.pop()!;
      try {
        item.dispose();
      } catch (err) {
        firstError ??= err;
      }
    }
    // Rethrows what a disposable threw, as it was (it may not be an Error).
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    if (firstError !== undefined) throw firstError;
  }
}
