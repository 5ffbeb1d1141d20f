/**
 * @module clock
 * Time for device models, in nanoseconds as bigint. `RealClock` reads the monotonic clock (timing
 * models: latency, bandwidth, refresh rate). `VirtualClock` stands still until a test moves it,
 * and owns the event queue that timers on it use: `runUntil(t)` runs every event due by `t`, in
 * time order then scheduling order, setting `now()` to each event's time as it runs it. The same
 * sequence of calls therefore always produces the same trace. Schedule work with a Scheduler
 * (scheduler.ts), which works over either clock.
 *
 * @example
 * const clock = new VirtualClock();
 * const sched = new Scheduler(clock);
 * sched.after(1_000_000n, () => model.complete());
 * clock.advance(1_000_000n);                    // runs model.complete() at t = 1 ms
 */
import { EventQueue, type QueuedEvent } from './event-queue.js';

/** A duration or instant in ns; numbers are rounded up and negative values clamp to 0. */
export type Ns = bigint | number;

export interface Clock {
  readonly kind: 'real' | 'virtual';
  /** Nanoseconds since the clock was created. */
  now(): bigint;
}

export function toNs(v: Ns): bigint {
  if (typeof v === 'bigint') return v < 0n ? 0n : v;
  if (!Number.isFinite(v)) throw new RangeError(`not a time in ns: ${v}`);
  return v <= 0 ? 0n : BigInt(Math.ceil(v));
}

/** Monotonic real time (process.hrtime), counted from construction. */
export class RealClock implements Clock {
  readonly kind = 'real' as const;
  private readonly origin = process.hrtime.bigint();

  now(): bigint {
    return process.hrtime.bigint() - this.origin;
  }
}

/** Deterministic time that moves only through advance / runUntil / runUntilIdle. */
export class VirtualClock implements Clock {
  readonly kind = 'virtual' as const;
  private t = 0n;
  private running = false;
  private readonly queue = new EventQueue();

  now(): bigint {
    return this.t;
  }

  /** Events scheduled and not yet run. */
  get pending(): number {
    return this.queue.size;
  }

  /** Due time of the next event, if any. */
  nextEventTime(): bigint | undefined {
    return this.queue.peek()?.t;
  }

  /** Queues `fn` at `t` (never in the past: earlier times mean now). For schedulers. */
  schedule(t: bigint, fn: () => void): QueuedEvent {
    return this.queue.push(t < this.t ? this.t : t, fn);
  }

  cancel(e: QueuedEvent): void {
    this.queue.cancel(e);
  }

  /** Moves time forward by `ns`, running the events due on the way. Returns how many ran. */
  advance(ns: Ns): number {
    return this.runUntil(this.t + toNs(ns));
  }

  /**
   * Runs every event due at or before `t` (including events those events schedule, if due),
   * then sets now() to `t` (time never goes backwards). An exception from an event propagates,
   * with now() at that event's time and the event consumed. Returns how many events ran.
   */
  runUntil(t: Ns): number {
    const target = toNs(t);
    return this.run((e) => e.t <= target, () => { if (target > this.t) this.t = target; });
  }

  /** Runs events until none is left; throws after `maxEvents` (a periodic timer never idles). */
  runUntilIdle(maxEvents = 100_000): number {
    let n = 0;
    return this.run(() => {
      if (n++ < maxEvents) return true;
      throw new Error(`VirtualClock.runUntilIdle: still busy after ${maxEvents} events (a periodic timer?)`);
    });
  }

  private run(due: (e: QueuedEvent) => boolean, after: () => void = () => {}): number {
    if (this.running) throw new Error('VirtualClock: run called from inside an event');
    this.running = true;
    let ran = 0;
    try {
      for (let e = this.queue.peek(); e !== undefined && due(e); e = this.queue.peek()) {
        this.queue.pop();
        if (e.t > this.t) this.t = e.t;
        ran++;
        e.fn();
      }
      after();
    } finally {
      this.running = false;
    }
    return ran;
  }
}
