/**
 * @module linux/preempt.h + linux/hardirq.h + linux/irqflags.h + linux/bottom_half.h (+ might_sleep)
 * The execution context of the code running now: process (task) context, softirq (timer
 * callbacks, tasklets), hardirq (IRQ handlers), with spinlocks held, preemption or bottom
 * halves disabled, IRQs disabled. `in_atomic()`, `in_interrupt()`, `irqs_disabled()`,
 * `might_sleep()`, `local_irq_save/restore`, `local_bh_disable/enable`, `preempt_disable/enable`,
 * and the IRQ gate (`kapiIrqGate`) through which IRQ delivery must go.
 *
 * Differs from Linux, and why:
 * - A container is one JavaScript thread with no preemption, so nothing here protects anything:
 *   the counters only say which context the synchronous code running now is in, so that
 *   sleeping where Linux may not sleep is reported ("BUG: sleeping function called from
 *   invalid context"), with the driver's call site. Drivers sleep by awaiting.
 * - **Atomic context must not outlive the synchronous section.** A driver that awaits while
 *   holding a spinlock, with preemption, bottom halves or IRQs disabled, would leave every
 *   other piece of code that runs meanwhile "atomic". The first time the event loop gets
 *   control with such state set (a microtask queued when the state was entered checks it), the
 *   kapi reports "BUG: scheduling while atomic" naming the held locks, and resets the context
 *   so other code is not blamed; the locks stay locked (taking one again is reported as
 *   recursion) and their later unlock is accepted.
 * - `local_irq_save()` returns Linux x86's flag word (0x200, X86_EFLAGS_IF, when IRQs were on).
 *   While IRQs are disabled, or a hardirq handler runs, `kapiIrqGate.isBlocked()` is true and
 *   IRQ delivery must be deferred with `kapiIrqGate.defer(fn, line)` (one pending delivery per
 *   line, like an interrupt controller's pending bit); deferred deliveries run, in
 *   order, in a microtask once IRQs are enabled again (Linux delivers at the enabling
 *   instruction; here right after the enabling code's synchronous section). In correct drivers
 *   IRQs are never off when the event loop delivers an IRQ, so this only matters for IRQs
 *   raised synchronously from inside such a section.
 * - `in_irq()` is true between `enter_irq()` and `exit_irq()`, which the IRQ delivery path
 *   (interrupt.ts) calls around a top-half handler; softirq is entered by the kapi around timer
 *   callbacks and tasklets. In IC0, drivers share these counters (they share the thread, as
 *   CPUs' drivers share a CPU's preempt_count).
 */
import { kapi_fault, kapi_report, callerSite } from './bug.js';

/** Something that can be held (spinlock, rwlock, mutex, semaphore), for reports. */
export interface HeldLock {
  readonly name: string;
  /** Where it was taken (only with kapiDebug.lockSites). */
  heldSite: string;
  /** Current holds (nested holds only through bugs, or readers of an rwlock). */
  readonly holds: number;
  /** Holds of this lock that no longer count in the context (reset after "scheduling while atomic"). */
  detached: number;
}

const ctx = {
  /** Spinlock/rwlock holds. */
  locks: 0,
  /** preempt_disable() depth. */
  preempt: 0,
  /** local_bh_disable() depth (spin_lock_bh...). */
  bh: 0,
  /** Serving softirq (timer callback, tasklet). */
  softirq: 0,
  /** Serving hardirq (between enter_irq and exit_irq). */
  hardirq: 0,
  irqsOff: false,
};
/** Counts forgiven by a reset, so the driver's later enable is not called unbalanced. */
const debt = { preempt: 0, bh: 0 };
const heldLocks = new Set<HeldLock>();
let checkQueued = false;

// ---- queries ---------------------------------------------------------------------------------

/** preempt_count(): non-zero in atomic context. */
export const preempt_count = (): number => ctx.locks + ctx.preempt + ctx.bh + ctx.softirq + ctx.hardirq;
/** True with a spinlock held, preemption or BHs disabled, or in softirq/hardirq. */
export const in_atomic = (): boolean => preempt_count() > 0;
export const irqs_disabled = (): boolean => ctx.irqsOff;
export const in_hardirq = (): boolean => ctx.hardirq > 0;
export const in_irq = in_hardirq;
/** Serving a softirq or with bottom halves disabled (Linux's in_softirq). */
export const in_softirq = (): boolean => ctx.softirq > 0 || ctx.bh > 0;
export const in_serving_softirq = (): boolean => ctx.softirq > 0;
export const in_interrupt = (): boolean => ctx.hardirq > 0 || ctx.softirq > 0 || ctx.bh > 0;
export const in_task = (): boolean => ctx.hardirq === 0 && ctx.softirq === 0;
export const preemptible = (): boolean => preempt_count() === 0 && !ctx.irqsOff;

/** A short description of the context, for messages. */
export function context_name(): string {
  if (ctx.hardirq) return 'hardirq';
  if (ctx.softirq) return 'softirq';
  return 'task';
}

/** The locks held now (outermost first). */
export function held_locks(): readonly HeldLock[] {
  return [...heldLocks];
}

// ---- the "atomic across an await" check ------------------------------------------------------

/** Driver-controlled atomic state (the kapi's own softirq/hardirq entries are always balanced). */
const driverAtomic = (): boolean => ctx.locks > 0 || ctx.preempt > 0 || ctx.bh > 0 || ctx.irqsOff;

function armCheck(): void {
  if (checkQueued) return;
  checkQueued = true;
  queueMicrotask(checkAtomicLeak);
}

function checkAtomicLeak(): void {
  checkQueued = false;
  if (!driverAtomic()) return;
  const locks = [...heldLocks].map((l) => (l.heldSite ? `${l.name} (taken at ${l.heldSite})` : l.name));
  const what = [
    locks.length ? `holding ${locks.join(', ')}` : '',
    ctx.preempt ? `preempt_count ${ctx.preempt}` : '',
    ctx.bh ? 'bottom halves disabled' : '',
    ctx.irqsOff ? 'IRQs disabled' : '',
  ].filter(Boolean).join(', ');
  kapi_report('scheduling-while-atomic', 3,
    `BUG: scheduling while atomic: awaited (yielded to the event loop) ${what}; context reset`,
    { site: '', key: what });
  for (const l of heldLocks) l.detached = l.holds;
  heldLocks.clear();
  ctx.locks = 0;
  debt.preempt += ctx.preempt;
  debt.bh += ctx.bh;
  ctx.preempt = ctx.bh = 0;
  if (ctx.irqsOff) { ctx.irqsOff = false; drainSoon(); }
}

// ---- lock bookkeeping (spinlock.ts) ------------------------------------------------------------

/** @internal A spinlock/rwlock was taken: atomic context starts or nests. */
export function lock_acquired(l: HeldLock): void {
  ctx.locks++;
  heldLocks.add(l);
  armCheck();
}

/** @internal A spinlock/rwlock hold ended (`last`: the lock is now free). */
export function lock_released(l: HeldLock, last: boolean): void {
  if (l.detached > 0) { l.detached--; return; }
  if (ctx.locks > 0) ctx.locks--;
  if (last) heldLocks.delete(l);
}

// ---- preemption and bottom halves ----------------------------------------------------------------

export function preempt_disable(): void {
  ctx.preempt++;
  armCheck();
}

export function preempt_enable(): void {
  if (ctx.preempt > 0) ctx.preempt--;
  else if (debt.preempt > 0) debt.preempt--;
  else kapi_report('preempt-imbalance', 3, 'BUG: preempt_enable() without preempt_disable()');
}
export const preempt_enable_no_resched = preempt_enable;

export function local_bh_disable(): void {
  ctx.bh++;
  armCheck();
}

export function local_bh_enable(): void {
  if (ctx.bh > 0) ctx.bh--;
  else if (debt.bh > 0) debt.bh--;
  else kapi_report('bh-imbalance', 3, 'BUG: local_bh_enable() without local_bh_disable()');
}

// ---- IRQ flags -----------------------------------------------------------------------------------

/** X86_EFLAGS_IF: the bit of a saved flag word that says IRQs were enabled. */
export const X86_EFLAGS_IF = 0x200;

export const irqs_disabled_flags = (flags: number): boolean => (flags & X86_EFLAGS_IF) === 0;

/** Disables IRQs, returning the previous state for local_irq_restore. */
export function local_irq_save(): number {
  const flags = ctx.irqsOff ? 0 : X86_EFLAGS_IF;
  if (!ctx.irqsOff) { ctx.irqsOff = true; armCheck(); }
  return flags;
}

export function local_irq_restore(flags: number): void {
  if (irqs_disabled_flags(flags)) { ctx.irqsOff = true; return; }
  ctx.irqsOff = false;
  drainSoon();
}

export function local_irq_disable(): void {
  if (!ctx.irqsOff) { ctx.irqsOff = true; armCheck(); }
}

export function local_irq_enable(): void {
  ctx.irqsOff = false;
  drainSoon();
}

// ---- interrupt entry (interrupt.ts, time.ts, workqueue.ts) ---------------------------------------

/** Enter hardirq context: call before running a top-half handler (irq_enter). */
export function enter_irq(): void { ctx.hardirq++; }

/** Leave hardirq context (irq_exit); IRQs deferred meanwhile are then delivered. */
export function exit_irq(): void {
  if (ctx.hardirq > 0) ctx.hardirq--;
  if (ctx.hardirq === 0) drainSoon();
}

/** Enter softirq context: the kapi calls this around timer callbacks and tasklets. */
export function enter_softirq(): void { ctx.softirq++; }
export function exit_softirq(): void { if (ctx.softirq > 0) ctx.softirq--; }

// ---- the IRQ gate ------------------------------------------------------------------------------

const deferred: (() => void)[] = [];
/** Keys of deferred deliveries (one pending delivery per IRQ line). */
const deferredKeys = new Map<() => void, unknown>();
let drainQueued = false;

function drainSoon(): void {
  if (drainQueued || deferred.length === 0 || kapiIrqGate.isBlocked()) return;
  drainQueued = true;
  queueMicrotask(drain);
}

function drain(): void {
  drainQueued = false;
  while (deferred.length > 0 && !kapiIrqGate.isBlocked()) {
    const fn = deferred.shift()!;
    deferredKeys.delete(fn);
    try { fn(); } catch (e) { kapi_fault(e, 'deferred IRQ delivery'); }
  }
}

/**
 * Where IRQ delivery asks whether it may run a handler now. While IRQs are disabled
 * (local_irq_save, spin_lock_irqsave...) or a hardirq handler runs, `isBlocked()` is true and
 * the delivery must `defer(fn)`; `fn` runs once IRQs are enabled again. `deliver(fn)` does both.
 */
export const kapiIrqGate = {
  isBlocked(): boolean { return ctx.irqsOff || ctx.hardirq > 0; },
  /**
   * Queues a delivery until IRQs are enabled. With a `key` (the IRQ line), a delivery for a key
   * that is already queued is dropped: a level-triggered line re-asserted meanwhile needs one
   * handler run, as a pending bit in an interrupt controller records one pending IRQ.
   */
  defer(fn: () => void, key?: unknown): void {
    if (key !== undefined) {
      for (const k of deferredKeys.values()) if (k === key) return;
      deferredKeys.set(fn, key);
    }
    deferred.push(fn);
    drainSoon();
  },
  /** Runs `fn` now if IRQs are enabled (returns true), else defers it (returns false). */
  deliver(fn: () => void, key?: unknown): boolean {
    if (this.isBlocked()) { this.defer(fn, key); return false; }
    fn();
    return true;
  },
  /** Deliveries waiting for IRQs to be enabled. */
  get pending(): number { return deferred.length; },
};

// ---- might_sleep -------------------------------------------------------------------------------

/**
 * might_sleep(): reports "BUG: sleeping function called from invalid context" when called in
 * atomic context or with IRQs disabled. Every kapi function that may sleep calls it first;
 * `what` names that function.
 */
export function might_sleep(what = 'might_sleep()'): boolean {
  if (preempt_count() === 0 && !ctx.irqsOff) return false;
  const site = callerSite();
  const locks = [...heldLocks].map((l) => l.name).join(', ') || 'none';
  kapi_report('sleep-in-atomic', 3,
    `BUG: sleeping function called from invalid context: ${what} in ${context_name()} context `
    + `(in_atomic(): ${in_atomic() ? 1 : 0}, irqs_disabled(): ${ctx.irqsOff ? 1 : 0}, `
    + `preempt_count: ${preempt_count()}, held spinlocks: ${locks})`, { site });
  return true;
}

export function might_sleep_if(cond: unknown, what?: string): void {
  if (cond) might_sleep(what);
}

/** @internal For tests: back to task context with nothing held. */
export function __reset_context(): void {
  ctx.locks = ctx.preempt = ctx.bh = ctx.softirq = ctx.hardirq = 0;
  ctx.irqsOff = false;
  debt.preempt = debt.bh = 0;
  for (const l of heldLocks) l.detached = l.holds;
  heldLocks.clear();
  deferred.length = 0;
  deferredKeys.clear();
}
