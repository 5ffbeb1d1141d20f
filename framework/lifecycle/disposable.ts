/**
 * @module disposable
 * VS Code-style disposables. Every `register*()` in the framework returns an `IDisposable`;
 * a `DisposableStore` releases what it holds in reverse order (devm semantics: the failure
 * path of probe and the unbind path are the same code).
 */

export interface IDisposable {
  dispose(): void | Promise<void>;
}

export function toDisposable(fn: () => void | Promise<void>): IDisposable {
  let done = false;
  return { dispose: () => { if (!done) { done = true; return fn(); } } };
}

/** Global count of live tracked stores, for leak checks in tests. */
let liveStores = 0;
export function liveDisposableStores(): number { return liveStores; }

export class DisposableStore implements IDisposable {
  private items: IDisposable[] = [];
  private disposed = false;
  constructor(readonly label = 'store') { liveStores++; }

  get isDisposed(): boolean { return this.disposed; }
  get size(): number { return this.items.length; }

  /** Adds `d`; on an already-disposed store the item is disposed at once (and a warning logged). */
  add<T extends IDisposable>(d: T): T {
    if (this.disposed) {
      process.emitWarning(`DisposableStore(${this.label}): add() after dispose; disposing the item now`);
      void d.dispose();
      return d;
    }
    this.items.push(d);
    return d;
  }

  /** Removes `d` without disposing it. */
  delete(d: IDisposable): void {
    const i = this.items.lastIndexOf(d);
    if (i >= 0) this.items.splice(i, 1);
  }

  /** Disposes everything in reverse order of addition; errors are collected, not fatal. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    liveStores--;
    const errors: unknown[] = [];
    while (this.items.length) {
      const d = this.items.pop()!;
      try { await d.dispose(); } catch (e) { errors.push(e); }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} errors while disposing ${this.label}`);
  }
}
