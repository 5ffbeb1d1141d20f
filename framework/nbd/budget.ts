/**
 * @module nbd/budget
 * A counting limit with waiters, first come first served: `acquire(n)` waits until `n` more
 * units fit under the limit. A request larger than the whole limit is let through when nothing
 * else holds units, so one big request can never deadlock.
 *
 * @example
 * const slots = new Budget(64);
 * await slots.acquire(1);
 * try { await work(); } finally { slots.release(1); }
 */
interface Waiter {
  n: number;
  resolve: () => void;
}

export class Budget {
  private used = 0;
  private readonly waiters: Waiter[] = [];

  constructor(readonly limit: number) {}

  get inUse(): number { return this.used; }

  /** Resolves once `n` units are held; `undefined` (no promise) when they were free at once. */
  acquire(n: number): Promise<void> | undefined {
    if (this.waiters.length === 0 && this.fits(n)) {
      this.used += n;
      return undefined;
    }
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  release(n: number): void {
    this.used -= n;
    this.wake();
  }

  /** Grants every waiter regardless of the limit (shutdown: nobody must stay blocked). */
  flush(): void {
    for (const w of this.waiters.splice(0)) {
      this.used += w.n;
      w.resolve();
    }
  }

  private fits(n: number): boolean {
    return this.used === 0 || this.used + n <= this.limit;
  }

  private wake(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.n)) {
      const w = this.waiters.shift()!;
      this.used += w.n;
      w.resolve();
    }
  }
}
