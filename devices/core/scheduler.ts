/**
 * @module scheduler
 * Deferred work for device models: QEMU bottom halves (`defer`) and timers (`at`, `after`,
 * `every`). MMIO handlers only record state and schedule; the work runs later (style anchor C3).
 *
 * Over a VirtualClock everything goes into the clock's queue and runs on the next
 * `advance` / `runUntil` / `runUntilIdle`; `defer` queues at the current instant, after what is
 * already queued for it. Exceptions propagate out of the run call.
 *
 * Over a RealClock, `defer` runs in a microtask (after the current MMIO access returns); work a
 * deferred function defers again waits for the next event-loop turn, so a bottom half that keeps
 * re-scheduling itself cannot starve I/O. Timers share one Node timer armed for the earliest
 * event: `setTimeout` when it is at least 1 ms away, otherwise `setImmediate` turns that re-check
 * the clock (nothing ever blocks), so events fire late by at most a loop turn, never early.
 * Exceptions go to `onError` (default: rethrown on the next tick) and the other events still run.
 *
 * @example
 * const sched = new Scheduler(clock);
 * onDoorbell() { this.ready |= written; this.stopBh = sched.defer(() => this.processRequests()); }
 * const stopVblank = sched.every(16_666_667n, () => this.vblank());
 */
import { RealClock, toNs, VirtualClock, type Clock, type Ns } from './clock.js';
import { EventQueue, type QueuedEvent } from './event-queue.js';

export type Cancel = () => void;

export interface SchedulerOptions {
  /** Real mode only: receives exceptions thrown by events. */
  readonly onError?: (err: unknown) => void;
  /** Real mode only: pending timers do not keep the process alive. */
  readonly unref?: boolean;
}

/** The host side of `Scheduler.preemptionPoint`: answers the register accesses waiting now. */
export type AccessService = () => void;

interface Backend {
  schedule(t: bigint, fn: () => void): QueuedEvent;
  defer(fn: () => void): QueuedEvent;
  cancel(e: QueuedEvent): void;
  /** Runs deferred work and due events now; true if anything ran. */
  runDue(): boolean;
}

export class Scheduler {
  private readonly backend: Backend;
  /** Events this scheduler queued that have not run or been cancelled (for cancelAll). */
  private readonly owned = new Set<QueuedEvent>();
  private accessService: AccessService | undefined;
  private inService = false;

  constructor(readonly clock: Clock = new RealClock(), options: SchedulerOptions = {}) {
    this.backend = clock instanceof VirtualClock ? virtualBackend(clock) : new RealBackend(clock, options);
  }

  now(): bigint {
    return this.clock.now();
  }

  /** Events scheduled by this scheduler and still pending. */
  get pending(): number {
    return this.owned.size;
  }

  /** Runs `fn` after the current access returns (a bottom half). */
  defer(fn: () => void): Cancel {
    return this.track((run) => this.backend.defer(run), fn);
  }

  /** Runs `fn` at absolute time `t` (ns on this clock); a past time means as soon as possible. */
  at(t: Ns, fn: () => void): Cancel {
    const due = toNs(t);
    return this.track((run) => this.backend.schedule(due, run), fn);
  }

  /** Runs `fn` `ns` from now. */
  after(ns: Ns, fn: () => void): Cancel {
    return this.at(this.now() + toNs(ns), fn);
  }

  /**
   * Runs `fn` every `period` ns, first at now + period. Ticks stay on the period grid (no
   * drift); in real mode, periods missed while the loop was busy are skipped, not replayed.
   */
  every(period: Ns, fn: () => void): Cancel {
    const p = toNs(period);
    if (p <= 0n) throw new RangeError('every: the period must be positive');
    let next = this.now() + p;
    let current: QueuedEvent;
    const tick = (): void => {
      this.owned.delete(current);
      next += p;
      const now = this.now();
      if (next <= now) next += ((now - next) / p + 1n) * p;
      current = this.backend.schedule(next, tick);
      this.owned.add(current);
      fn();
    };
    current = this.backend.schedule(next, tick);
    this.owned.add(current);
    return () => {
      if (this.owned.delete(current)) this.backend.cancel(current);
    };
  }

  /** Cancels everything this scheduler has pending (a model's unrealize). */
  cancelAll(): void {
    for (const e of this.owned) this.backend.cancel(e);
    this.owned.clear();
  }

  /**
   * Runs bottom halves and due timers now, for a thread that busy-polls instead of returning
   * to its event loop (the machine's poll loop): without it a device's deferred work would wait
   * until polling stops. Real time only; true if anything ran.
   */
  runDue(): boolean {
    return this.backend.runDue();
  }

  /**
   * The host that runs this scheduler's models installs how to answer register accesses that
   * arrive while a bottom half runs (the machine thread: drain its MMIO ports). Without one,
   * `preemptionPoint` does nothing.
   */
  setAccessService(service: AccessService | undefined): void {
    this.accessService = service;
  }

  /**
   * Called by a model between the units of a long bottom half (one completed request of a
   * batch): the host may answer register accesses that arrived meanwhile, as silicon's register
   * file answers a read while its DMA engine moves data. The accesses' handlers run inside this
   * call, so the caller must tolerate what they change (a doorbell, a slot cleared, a reset) and
   * re-check its state after it; handlers only record and schedule, so no other bottom half
   * runs here. Not re-entrant: a call from within the service is a no-op.
   */
  preemptionPoint(): void {
    const service = this.accessService;
    if (service === undefined || this.inService) return;
    this.inService = true;
    try {
      service();
    } finally {
      this.inService = false;
    }
  }

  private track(queue: (run: () => void) => QueuedEvent, fn: () => void): Cancel {
    const e: QueuedEvent = queue(() => {
      this.owned.delete(e);
      fn();
    });
    this.owned.add(e);
    return () => {
      if (this.owned.delete(e)) this.backend.cancel(e);
    };
  }
}

function virtualBackend(clock: VirtualClock): Backend {
  return {
    schedule: (t, fn) => clock.schedule(t, fn),
    defer: (fn) => clock.schedule(clock.now(), fn),
    cancel: (e) => clock.cancel(e),
    runDue: () => false, // virtual time advances only when the test says so
  };
}

/** Real time: one armed Node timer for the earliest event, plus a microtask queue for defer. */
class RealBackend implements Backend {
  private readonly queue = new EventQueue();
  private deferred: QueuedEvent[] = [];
  private drainQueued = false;
  private timeout: ReturnType<typeof setTimeout> | undefined;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private armedFor: bigint | undefined;
  private firing = false;
  private readonly onError: (err: unknown) => void;

  constructor(private readonly clock: Clock, private readonly options: SchedulerOptions) {
    this.onError = options.onError ?? ((err) => process.nextTick(() => { throw err; }));
  }

  schedule(t: bigint, fn: () => void): QueuedEvent {
    const e = this.queue.push(t, fn);
    if (!this.firing && (this.armedFor === undefined || t < this.armedFor)) this.arm();
    return e;
  }

  defer(fn: () => void): QueuedEvent {
    // Deferred work is not in the timer queue; seq -1 marks it for cancel().
    const e: QueuedEvent = { t: this.clock.now(), seq: -1, fn, live: true };
    this.deferred.push(e);
    if (!this.drainQueued) {
      this.drainQueued = true;
      queueMicrotask(this.drain);
    }
    return e;
  }

  cancel(e: QueuedEvent): void {
    // A cancelled head leaves the timer armed; it fires, finds nothing due, and re-arms.
    if (e.seq < 0) e.live = false;
    else this.queue.cancel(e);
  }

  runDue(): boolean {
    let ran = false;
    if (this.deferred.length > 0) { this.drain(); ran = true; }
    const head = this.queue.peek();
    if (!this.firing && head !== undefined && head.t <= this.clock.now()) { this.fire(); ran = true; }
    return ran;
  }

  private readonly drain = (): void => {
    const batch = this.deferred;
    this.deferred = [];
    for (const e of batch) {
      if (!e.live) continue;
      e.live = false;
      this.run(e.fn);
    }
    if (this.deferred.length > 0) setImmediate(this.drain);
    else this.drainQueued = false;
  };

  private readonly fire = (): void => {
    this.timeout = this.immediate = this.armedFor = undefined;
    const now = this.clock.now();
    this.firing = true;
    try {
      for (let e = this.queue.peek(); e !== undefined && e.t <= now; e = this.queue.peek()) {
        this.queue.pop();
        this.run(e.fn);
      }
    } finally {
      this.firing = false;
    }
    this.arm();
  };

  private arm(): void {
    if (this.timeout !== undefined) clearTimeout(this.timeout);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timeout = this.immediate = undefined;
    const head = this.queue.peek();
    this.armedFor = head?.t;
    if (head === undefined) return;
    const delay = head.t - this.clock.now();
    if (delay >= 1_000_000n) this.timeout = setTimeout(this.fire, Number(delay / 1_000_000n));
    else this.immediate = setImmediate(this.fire);
    if (this.options.unref) (this.timeout ?? this.immediate)?.unref();
  }

  private run(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.onError(err);
    }
  }
}
