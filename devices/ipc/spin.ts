/**
 * @module spin
 * Spinning is how a round trip costs 0.2 µs instead of the ~25-60 µs of a futex wake on these
 * VMs, but a spinner burns a core. Two rules keep it honest:
 *  - a machine-wide budget: never more spinners than cores (a shared counter every container
 *    maps), so a spinner never steals the core its peer needs to answer;
 *  - adaptive length: a wait that was answered while spinning lengthens the next spin, one that
 *    ended in sleep anyway shortens it (like an adaptive mutex).
 */

/** Int32 index, in the kernel page, of the count of active spinners. */
export const SPINNERS = 0;

export class SpinBudget {
  constructor(private readonly page: Int32Array, readonly max: number) {}

  /** Takes a spin token; false when `max` spinners are already spinning. */
  acquire(): boolean {
    if (Atomics.add(this.page, SPINNERS, 1) < this.max) return true;
    Atomics.sub(this.page, SPINNERS, 1);
    return false;
  }

  release(): void {
    Atomics.sub(this.page, SPINNERS, 1);
  }

  active(): number {
    return Atomics.load(this.page, SPINNERS);
  }
}

/** Adaptive spin length, in nanoseconds, between `minNs` and `maxNs`. */
export class AdaptiveSpin {
  limitNs: number;
  hits = 0;
  misses = 0;
  constructor(readonly minNs = 2_000, readonly maxNs = 100_000, initialNs = 20_000) {
    this.limitNs = initialNs;
  }

  hit(): void {
    this.hits++;
    this.limitNs = Math.min(this.maxNs, this.limitNs * 2);
  }

  miss(): void {
    this.misses++;
    this.limitNs = Math.max(this.minNs, this.limitNs >> 1);
  }
}

/**
 * Spins until `ready()` or until `limitNs` passed. Reads the clock only every 256 probes and
 * not at all when the answer comes first: an Atomics.load costs a few ns, hrtime ~50-100.
 */
export function spinUntil(ready: () => boolean, limitNs: number): boolean {
  let deadline = 0n;
  for (let i = 1; ; i++) {
    if (ready()) return true;
    if ((i & 255) === 0) {
      const now = process.hrtime.bigint();
      if (deadline === 0n) deadline = now + BigInt(limitNs);
      else if (now >= deadline) return ready();
    }
  }
}
