/**
 * @module linux/spinlock.h + linux/rwlock.h
 * `spinlock_t` (`spin_lock_init`, `DEFINE_SPINLOCK`, `spin_lock`/`spin_unlock`,
 * `spin_lock_irqsave`/`spin_unlock_irqrestore`, `_irq`, `_bh`, `spin_trylock`), `rwlock_t`
 * (`read_lock`/`write_lock`... with the same variants), `raw_spin_*` aliases, and
 * `assert_spin_locked`/`lockdep_assert_held`.
 *
 * ```ts
 * const flags = spin_lock_irqsave(priv.lock);
 * priv.ring[priv.head++] = req;          // synchronous only: no await while the lock is held
 * spin_unlock_irqrestore(priv.lock, flags);
 * ```
 *
 * Differs from Linux, and why:
 * - **A spinlock never spins.** A container is one thread, so no other CPU can hold the lock;
 *   taking it records the holder and enters atomic context (`in_atomic()` is true until the
 *   unlock), which is what lets the kapi report sleeping with a spinlock held. The `_irqsave`,
 *   `_irq` variants also disable IRQs (`irqs_disabled()`, the IRQ gate defers delivery), `_bh`
 *   disables bottom halves. Those are bookkeeping too: no callback can interrupt synchronous
 *   code here anyway.
 * - **Bugs are reported and execution continues** (Linux would hang or oops): taking a lock that
 *   is already held is "BUG: spinlock recursion" (on one thread that is a self-deadlock) and
 *   counts as a nested hold; unlocking a lock that is not held is "BUG: bad unlock" and is
 *   ignored. With `kapiDebug.lockSites` the report also names where the lock was taken.
 * - Awaiting with a spinlock held is "BUG: scheduling while atomic" (see preempt.h).
 * - `spin_lock_init(name?)` and `DEFINE_SPINLOCK(name?)` return a new lock (as
 *   `init_waitqueue_head()` does); `name` is used in reports (Linux takes it from the variable).
 *   A lock captures the driver env it was created in, so its reports reach that driver's log.
 * - `spin_lock_irqsave` returns `flags` instead of assigning a macro argument;
 *   `spin_trylock_irqsave` returns `[locked, flags]`.
 * - rwlock readers may nest (as on Linux); a writer while held, or a reader while
 *   write-held, is reported as "BUG: rwlock recursion".
 */
import type { DriverEnv } from '../framework/driver-port.js';
import { callerSite, currentEnvOrNull, kapiDebug, kapi_report } from './bug.js';
import { lockdep_acquire, lockdep_class, type LockClass } from './lockdep.js';
import {
  lock_acquired, lock_released, local_bh_disable, local_bh_enable, local_irq_disable, local_irq_enable,
  local_irq_restore, local_irq_save, type HeldLock,
} from './preempt.js';

export {
  in_atomic, in_interrupt, in_irq, in_hardirq, in_softirq, in_task, irqs_disabled, local_irq_save, local_irq_restore,
  local_irq_disable, local_irq_enable, enter_irq, exit_irq, kapiIrqGate,
} from './preempt.js';

let nextId = 1;

export class SpinLock implements HeldLock {
  /** Holds: 0 = free; more than 1 only after a recursion bug. */
  holds = 0;
  heldSite = '';
  detached = 0;
  readonly env: DriverEnv | null = currentEnvOrNull();
  /** The lockdep class (the init site in the debug mode). */
  readonly dep_map: LockClass;
  constructor(readonly name: string = `spinlock#${nextId++}`) { this.dep_map = lockdep_class(name); }
}
export type spinlock_t = SpinLock;
export type raw_spinlock_t = SpinLock;

export const spin_lock_init = (name?: string): SpinLock => new SpinLock(name);
export const DEFINE_SPINLOCK = spin_lock_init;
export const raw_spin_lock_init = spin_lock_init;
export const DEFINE_RAW_SPINLOCK = spin_lock_init;

function take(l: SpinLock, trylock = false, subclass = 0): void {
  const site = kapiDebug.lockSites ? callerSite() : '';
  lockdep_acquire(l, { trylock, subclass, site, irqCheck: true });
  if (l.holds > 0) {
    kapi_report('spinlock-recursion', 3, `BUG: spinlock recursion: ${l.name} is already held`
      + `${l.heldSite ? ` (taken at ${l.heldSite})` : ''}; on one thread this deadlocks`, { env: l.env });
  } else if (site) {
    l.heldSite = site;
  }
  l.holds++;
  lock_acquired(l);
}

/** Returns false (after reporting) when the lock was not held. */
function release(l: SpinLock, fn: string): boolean {
  if (l.holds === 0) {
    kapi_report('bad-unlock', 3, `BUG: bad unlock: ${fn}(${l.name}) of a lock that is not held`, { env: l.env });
    return false;
  }
  l.holds--;
  lock_released(l, l.holds === 0);
  if (l.holds === 0) l.heldSite = '';
  return true;
}

export function spin_lock(l: SpinLock): void { take(l); }
/** spin_lock_nested(l, subclass): a deliberate nesting of two locks of one class (lockdep annotation). */
export function spin_lock_nested(l: SpinLock, subclass: number): void { take(l, false, subclass); }
export function spin_unlock(l: SpinLock): void { release(l, 'spin_unlock'); }

/** Disables IRQs, takes the lock; returns the flags for spin_unlock_irqrestore. */
export function spin_lock_irqsave(l: SpinLock): number {
  const flags = local_irq_save();
  take(l);
  return flags;
}

export function spin_unlock_irqrestore(l: SpinLock, flags: number): void {
  release(l, 'spin_unlock_irqrestore');
  local_irq_restore(flags);
}

export function spin_lock_irq(l: SpinLock): void { local_irq_disable(); take(l); }
export function spin_unlock_irq(l: SpinLock): void { release(l, 'spin_unlock_irq'); local_irq_enable(); }
export function spin_lock_bh(l: SpinLock): void { local_bh_disable(); take(l); }
export function spin_unlock_bh(l: SpinLock): void { if (release(l, 'spin_unlock_bh')) local_bh_enable(); }

/** 1 and the lock taken if it was free, else 0 (no report: trylock on a held lock is legal). */
export function spin_trylock(l: SpinLock): number {
  if (l.holds > 0) return 0;
  take(l, true);
  return 1;
}

/** [1, flags] with IRQs disabled and the lock taken, or [0, flags] with nothing changed. */
export function spin_trylock_irqsave(l: SpinLock): [number, number] {
  const flags = local_irq_save();
  if (spin_trylock(l)) return [1, flags];
  local_irq_restore(flags);
  return [0, flags];
}

export function spin_trylock_bh(l: SpinLock): number {
  local_bh_disable();
  if (spin_trylock(l)) return 1;
  local_bh_enable();
  return 0;
}

export const spin_is_locked = (l: SpinLock): boolean => l.holds > 0;

export const raw_spin_lock = spin_lock;
export const raw_spin_unlock = spin_unlock;
export const raw_spin_lock_irqsave = spin_lock_irqsave;
export const raw_spin_unlock_irqrestore = spin_unlock_irqrestore;
export const raw_spin_lock_irq = spin_lock_irq;
export const raw_spin_unlock_irq = spin_unlock_irq;
export const raw_spin_trylock = spin_trylock;

// ---- rwlock_t ------------------------------------------------------------------------------------

export class RwLock implements HeldLock {
  readers = 0;
  writers = 0;
  heldSite = '';
  detached = 0;
  readonly env: DriverEnv | null = currentEnvOrNull();
  readonly dep_map: LockClass;
  constructor(readonly name: string = `rwlock#${nextId++}`) { this.dep_map = lockdep_class(name); }
  get holds(): number { return this.readers + this.writers; }
}
export type rwlock_t = RwLock;

export const rwlock_init = (name?: string): RwLock => new RwLock(name);
export const DEFINE_RWLOCK = rwlock_init;

function rtake(l: RwLock, trylock = false): void {
  const site = kapiDebug.lockSites ? callerSite() : '';
  lockdep_acquire(l, { trylock, site, irqCheck: true, read: true });
  if (l.writers > 0) {
    kapi_report('rwlock-recursion', 3, `BUG: rwlock recursion: read_lock(${l.name}) while it is write-held`
      + `${l.heldSite ? ` (taken at ${l.heldSite})` : ''}; on one thread this deadlocks`, { env: l.env });
  } else if (l.readers === 0 && site) l.heldSite = site;
  l.readers++;
  lock_acquired(l);
}

function wtake(l: RwLock, trylock = false): void {
  const site = kapiDebug.lockSites ? callerSite() : '';
  lockdep_acquire(l, { trylock, site, irqCheck: true });
  if (l.holds > 0) {
    kapi_report('rwlock-recursion', 3, `BUG: rwlock recursion: write_lock(${l.name}) while it is `
      + `${l.writers ? 'write' : 'read'}-held${l.heldSite ? ` (taken at ${l.heldSite})` : ''}; on one thread this deadlocks`,
    { env: l.env });
  } else if (site) l.heldSite = site;
  l.writers++;
  lock_acquired(l);
}

function rrelease(l: RwLock, fn: string): boolean {
  if (l.readers === 0) {
    kapi_report('bad-unlock', 3, `BUG: bad unlock: ${fn}(${l.name}) of a lock that is not read-held`, { env: l.env });
    return false;
  }
  l.readers--;
  lock_released(l, l.holds === 0);
  if (l.holds === 0) l.heldSite = '';
  return true;
}

function wrelease(l: RwLock, fn: string): boolean {
  if (l.writers === 0) {
    kapi_report('bad-unlock', 3, `BUG: bad unlock: ${fn}(${l.name}) of a lock that is not write-held`, { env: l.env });
    return false;
  }
  l.writers--;
  lock_released(l, l.holds === 0);
  if (l.holds === 0) l.heldSite = '';
  return true;
}

export function read_lock(l: RwLock): void { rtake(l); }
export function read_unlock(l: RwLock): void { rrelease(l, 'read_unlock'); }
export function write_lock(l: RwLock): void { wtake(l); }
export function write_unlock(l: RwLock): void { wrelease(l, 'write_unlock'); }

export function read_lock_irqsave(l: RwLock): number { const f = local_irq_save(); rtake(l); return f; }
export function read_unlock_irqrestore(l: RwLock, flags: number): void { rrelease(l, 'read_unlock_irqrestore'); local_irq_restore(flags); }
export function write_lock_irqsave(l: RwLock): number { const f = local_irq_save(); wtake(l); return f; }
export function write_unlock_irqrestore(l: RwLock, flags: number): void { wrelease(l, 'write_unlock_irqrestore'); local_irq_restore(flags); }
export function read_lock_irq(l: RwLock): void { local_irq_disable(); rtake(l); }
export function read_unlock_irq(l: RwLock): void { rrelease(l, 'read_unlock_irq'); local_irq_enable(); }
export function write_lock_irq(l: RwLock): void { local_irq_disable(); wtake(l); }
export function write_unlock_irq(l: RwLock): void { wrelease(l, 'write_unlock_irq'); local_irq_enable(); }
export function read_lock_bh(l: RwLock): void { local_bh_disable(); rtake(l); }
export function read_unlock_bh(l: RwLock): void { if (rrelease(l, 'read_unlock_bh')) local_bh_enable(); }
export function write_lock_bh(l: RwLock): void { local_bh_disable(); wtake(l); }
export function write_unlock_bh(l: RwLock): void { if (wrelease(l, 'write_unlock_bh')) local_bh_enable(); }

/** 1 (taken) unless write-held. */
export function read_trylock(l: RwLock): number {
  if (l.writers > 0) return 0;
  rtake(l, true);
  return 1;
}

/** 1 (taken) if nobody holds it. */
export function write_trylock(l: RwLock): number {
  if (l.holds > 0) return 0;
  wtake(l, true);
  return 1;
}

// ---- assertions ----------------------------------------------------------------------------------

/** assert_spin_locked(lock): reports when the lock is not held. */
export function assert_spin_locked(l: SpinLock | RwLock): void {
  if (l.holds === 0) kapi_report('assert-held', 3, `BUG: assert_spin_locked(${l.name}) failed: not held`, { env: l.env });
}

/** Anything lockdep_assert_held accepts: spinlocks, rwlocks, mutexes, semaphores. */
export interface Assertable { readonly name: string; readonly holds: number; readonly env?: DriverEnv | null }

/** lockdep_assert_held(lock): reports when the lock is not held (by anyone: there are no tasks). */
export function lockdep_assert_held(l: Assertable): void {
  if (l.holds === 0) kapi_report('assert-held', 4, `WARNING: lockdep_assert_held(${l.name}) failed: not held`, { env: l.env ?? null });
}
