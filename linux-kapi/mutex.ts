/**
 * @module linux/mutex.h + linux/semaphore.h + linux/rwsem.h
 * Sleeping locks: `struct mutex` (`mutex_init`, `DEFINE_MUTEX`, `await mutex_lock`,
 * `mutex_lock_interruptible`, `mutex_trylock`, `mutex_unlock`, `mutex_is_locked`), counting
 * semaphores (`sema_init`, `down`, `down_interruptible`, `down_trylock`, `down_timeout`, `up`)
 * and reader/writer semaphores (`init_rwsem`, `down_read`, `up_read`, `down_write`,
 * `up_write`, `downgrade_write`...).
 *
 * ```ts
 * await mutex_lock(priv.lock);
 * try { await reconfigure(priv); } finally { mutex_unlock(priv.lock); }
 * ```
 *
 * Differs from Linux, and why:
 * - **Acquiring is awaited** (`await mutex_lock(m)`): a container is one thread, so a task that
 *   must wait for a lock is a pending promise, and the container keeps serving others. That is
 *   exactly what these locks are for here: keeping *async* sections (which may await device
 *   I/O) from interleaving, e.g. two ioctls that both reconfigure the device.
 * - Waiters are served strictly in FIFO order and the lock is handed over on unlock (no
 *   barging, no optimistic spinning): a `mutex_trylock` between the unlock and the waiter's
 *   resumption fails, as the lock already belongs to the waiter.
 * - **There are no threads, so a mutex's owner is a kapi "task"** (a driver entry: a file
 *   operation, probe, a work item, a threaded IRQ). It records that it is held (and with
 *   `kapiDebug.lockSites`, where it was taken). Unlocking a mutex that is not locked is reported
 *   ("BUG: bad unlock balance"). Without the debug mode, locking a mutex twice from the same
 *   async chain looks like ordinary contention: the second lock waits forever, as it would
 *   deadlock on Linux. With the debug mode, lockdep tracks the owning task and reports
 *   "possible recursive locking" before the second lock waits.
 * - Sleeping locks in atomic context (spinlock held, IRQ handler, timer callback, IRQs
 *   disabled) report "BUG: sleeping function called from invalid context" with the driver's
 *   call site, then proceed; `mutex_trylock`/`mutex_unlock` in interrupt context are reported
 *   too. `down_trylock` and `up` are fine anywhere, as on Linux.
 * - There are no signals: `*_interruptible` and `*_killable` variants always acquire and
 *   resolve 0. `down_timeout(sem, jiffies)` resolves 0 or `-ETIME`.
 * - `mutex_init(name?)`, `sema_init(count, name?)`, `init_rwsem(name?)` return new objects
 *   (`DEFINE_MUTEX`, `DEFINE_SEMAPHORE` too); `name` is used in reports.
 * - rwsem: a waiting writer blocks new readers (no writer starvation); an unlock wakes the next
 *   writer, or every reader queued before the next writer.
 */
import type { DriverEnv } from '../framework/driver-port.js';
import { callerSite, currentEnvOrNull, kapiDebug, kapi_report } from './bug.js';
import { Errno } from '../framework/errors/errno.js';
import { in_interrupt, might_sleep } from './preempt.js';
import { kapi_after, MAX_SCHEDULE_TIMEOUT } from './time.js';
import {
  heldSleeping, lockdep_acquire, lockdep_class, lockdep_held, lockdep_release, lockdep_set_owner, lockdep_task_now,
  type LockClass,
} from './lockdep.js';

/** Linux's ETIME (62): errno.ts does not export it yet. */
const ETIME = Errno.ETIME;

let nextId = 1;

// ---- struct mutex --------------------------------------------------------------------------------

export class Mutex {
  locked = false;
  heldSite = '';
  /** @internal FIFO of waiters; each is resumed owning the lock. */
  readonly _waiters: (() => void)[] = [];
  readonly env: DriverEnv | null = currentEnvOrNull();
  /** The lockdep class (the init site in the debug mode). */
  readonly dep_map: LockClass;
  constructor(readonly name: string = `mutex#${nextId++}`) { this.dep_map = lockdep_class(name); }
  get holds(): number { return this.locked ? 1 : 0; }
}
export type mutex = Mutex;

export const mutex_init = (name?: string): Mutex => new Mutex(name);
export const DEFINE_MUTEX = mutex_init;

type Task = ReturnType<typeof lockdep_task_now>;

/** `m` now belongs to the caller that asked for it at `site` (lockdep: to `task`). */
function owned(m: Mutex | RwSemaphore, site: string, task: Task, subclass = 0): void {
  if (m instanceof Mutex) m.locked = true;
  m.heldSite = site;
  if (task) {
    lockdep_held(m, task, site, subclass);
    lockdep_set_owner(m, task);
    heldSleeping.add(m);
  }
}

function released(m: Mutex | RwSemaphore): void {
  if (!heldSleeping.has(m)) return;
  lockdep_release(m);
  heldSleeping.delete(m);
}

function lockMutex(m: Mutex, what: string, subclass: number): Promise<void> {
  might_sleep(what);
  const site = kapiDebug.lockSites ? callerSite() : '';
  lockdep_acquire(m, { subclass, site });       // before waiting: a would-be deadlock is reported, not hung on silently
  const task = lockdep_task_now(m);
  if (!m.locked) { owned(m, site, task, subclass); return Promise.resolve(); }
  return new Promise((resolve) => m._waiters.push(() => { owned(m, site, task, subclass); resolve(); }));
}

/** mutex_lock(m): resolves once the caller holds `m`. */
export function mutex_lock(m: Mutex): Promise<void> {
  return lockMutex(m, 'mutex_lock()', 0);
}

/** mutex_lock_interruptible(m): mutex_lock; resolves 0 (no signals: never -EINTR). */
export async function mutex_lock_interruptible(m: Mutex): Promise<number> {
  await mutex_lock(m);
  return 0;
}
export const mutex_lock_killable = mutex_lock_interruptible;
export const mutex_lock_io = mutex_lock;
/** mutex_lock_nested(m, subclass): lockdep annotation only. */
export const mutex_lock_nested = (m: Mutex, subclass: number): Promise<void> => lockMutex(m, 'mutex_lock_nested()', subclass);

/** mutex_trylock(m): 1 and the lock held if it was free, else 0. */
export function mutex_trylock(m: Mutex): number {
  if (in_interrupt()) kapi_report('mutex-in-irq', 3, `BUG: mutex_trylock(${m.name}) in interrupt context`, { env: m.env });
  if (m.locked) return 0;
  const site = kapiDebug.lockSites ? callerSite() : '';
  lockdep_acquire(m, { trylock: true, site });
  owned(m, site, lockdep_task_now(m));
  return 1;
}

/** mutex_unlock(m): releases `m`, handing it to the longest waiter. */
export function mutex_unlock(m: Mutex): void {
  if (!m.locked) {
    kapi_report('bad-unlock', 3, `BUG: bad unlock balance: mutex_unlock(${m.name}) of a mutex that is not locked`, { env: m.env });
    return;
  }
  if (in_interrupt()) kapi_report('mutex-in-irq', 3, `BUG: mutex_unlock(${m.name}) in interrupt context`, { env: m.env });
  const next = m._waiters.shift();
  m.heldSite = '';
  released(m);
  if (next) next();
  else m.locked = false;
}

export const mutex_is_locked = (m: Mutex): boolean => m.locked;

/** mutex_destroy(m): reports destroying a held mutex. */
export function mutex_destroy(m: Mutex): void {
  if (m.locked) kapi_report('mutex-destroy', 3, `BUG: mutex_destroy(${m.name}) of a locked mutex`, { env: m.env });
}

// ---- struct semaphore ----------------------------------------------------------------------------

export class Semaphore {
  /** @internal FIFO of waiters; each wake passes one unit of the count. Resolves false on timeout. */
  readonly _waiters: ((got: boolean) => void)[] = [];
  readonly env: DriverEnv | null = currentEnvOrNull();
  constructor(public count: number, readonly name: string = `semaphore#${nextId++}`) {}
  /** For lockdep_assert_held: held when no unit is left. */
  get holds(): number { return this.count === 0 ? 1 : 0; }
}
export type semaphore = Semaphore;

export const sema_init = (val: number, name?: string): Semaphore => new Semaphore(val, name);
/** DEFINE_SEMAPHORE(name?, count = 1). */
export const DEFINE_SEMAPHORE = (name?: string, count = 1): Semaphore => new Semaphore(count, name);

function semWait(s: Semaphore, timeoutJiffies = MAX_SCHEDULE_TIMEOUT): Promise<boolean> {
  if (s.count > 0) { s.count--; return Promise.resolve(true); }
  return new Promise((resolve) => {
    let cancel: (() => void) | null = null;
    const w = (got: boolean): void => { cancel?.(); resolve(got); };
    s._waiters.push(w);
    if (timeoutJiffies < MAX_SCHEDULE_TIMEOUT) {
      cancel = kapi_after(BigInt(Math.max(0, Math.ceil(timeoutJiffies))) * 1_000_000n, () => {
        const i = s._waiters.indexOf(w);
        if (i >= 0) { s._waiters.splice(i, 1); resolve(false); }
      });
    }
  });
}

/** down(sem): takes one unit, waiting for it. */
export async function down(s: Semaphore): Promise<void> {
  might_sleep('down()');
  await semWait(s);
}

/** down_interruptible(sem): down; resolves 0 (no signals). */
export async function down_interruptible(s: Semaphore): Promise<number> {
  might_sleep('down_interruptible()');
  await semWait(s);
  return 0;
}
export const down_killable = down_interruptible;

/** down_trylock(sem): 0 if a unit was taken, 1 if not (Linux's inverted convention). */
export function down_trylock(s: Semaphore): number {
  if (s.count > 0) { s.count--; return 0; }
  return 1;
}

/** down_timeout(sem, jiffies): 0 once taken, -ETIME if none came in time. */
export async function down_timeout(s: Semaphore, timeout: number): Promise<number> {
  might_sleep('down_timeout()');
  return (await semWait(s, timeout)) ? 0 : -ETIME;
}

/** up(sem): releases one unit (to the longest waiter). Fine in any context. */
export function up(s: Semaphore): void {
  const w = s._waiters.shift();
  if (w) w(true);
  else s.count++;
}

// ---- struct rw_semaphore -------------------------------------------------------------------------

interface RwWaiter { write: boolean; wake: () => void }

export class RwSemaphore {
  readers = 0;
  writer = false;
  heldSite = '';
  /** @internal */ readonly _waiters: RwWaiter[] = [];
  readonly env: DriverEnv | null = currentEnvOrNull();
  readonly dep_map: LockClass;
  constructor(readonly name: string = `rwsem#${nextId++}`) { this.dep_map = lockdep_class(name); }
  get holds(): number { return this.readers + (this.writer ? 1 : 0); }
}
export type rw_semaphore = RwSemaphore;

export const init_rwsem = (name?: string): RwSemaphore => new RwSemaphore(name);
export const DECLARE_RWSEM = init_rwsem;

const canRead = (s: RwSemaphore): boolean => !s.writer && s._waiters.length === 0;
const canWrite = (s: RwSemaphore): boolean => !s.writer && s.readers === 0;

function rwWake(s: RwSemaphore): void {
  if (s.writer) return;
  while (s._waiters.length > 0) {
    const w = s._waiters[0]!;
    if (w.write) {
      if (s.readers > 0) return;
      s._waiters.shift();
      s.writer = true;
      w.wake();
      return;
    }
    s._waiters.shift();
    s.readers++;
    w.wake();
  }
}

/** down_read(sem): shared hold; waits while a writer holds it or waits for it. */
export function down_read(s: RwSemaphore): Promise<void> {
  might_sleep('down_read()');
  const site = kapiDebug.lockSites ? callerSite() : '';
  lockdep_acquire(s, { site, read: true });
  const task = lockdep_task_now(s);
  if (canRead(s)) { s.readers++; owned(s, site, task); return Promise.resolve(); }
  return new Promise((resolve) => s._waiters.push({ write: false, wake: () => { owned(s, site, task); resolve(); } }));
}

export async function down_read_interruptible(s: RwSemaphore): Promise<number> { await down_read(s); return 0; }
export const down_read_killable = down_read_interruptible;

/** down_read_trylock(sem): 1 if taken, 0 if not (note: not down_trylock's convention). */
export function down_read_trylock(s: RwSemaphore): number {
  if (!canRead(s)) return 0;
  s.readers++;
  return 1;
}

export function up_read(s: RwSemaphore): void {
  if (s.readers === 0) {
    kapi_report('bad-unlock', 3, `BUG: bad unlock balance: up_read(${s.name}) of an rwsem that is not read-held`, { env: s.env });
    return;
  }
  s.readers--;
  released(s);
  rwWake(s);
}

/** down_write(sem): exclusive hold. */
export function down_write(s: RwSemaphore): Promise<void> {
  might_sleep('down_write()');
  const site = kapiDebug.lockSites ? callerSite() : '';
  lockdep_acquire(s, { site });
  const task = lockdep_task_now(s);
  if (canWrite(s) && s._waiters.length === 0) {
    s.writer = true;
    owned(s, site, task);
    return Promise.resolve();
  }
  return new Promise((resolve) => s._waiters.push({ write: true, wake: () => { owned(s, site, task); resolve(); } }));
}

export async function down_write_killable(s: RwSemaphore): Promise<number> { await down_write(s); return 0; }

/** down_write_trylock(sem): 1 if taken, 0 if not. */
export function down_write_trylock(s: RwSemaphore): number {
  if (!canWrite(s)) return 0;
  s.writer = true;
  return 1;
}

export function up_write(s: RwSemaphore): void {
  if (!s.writer) {
    kapi_report('bad-unlock', 3, `BUG: bad unlock balance: up_write(${s.name}) of an rwsem that is not write-held`, { env: s.env });
    return;
  }
  s.writer = false;
  s.heldSite = '';
  released(s);
  rwWake(s);
}

/** downgrade_write(sem): the writer becomes a reader; queued readers join it. */
export function downgrade_write(s: RwSemaphore): void {
  if (!s.writer) {
    kapi_report('bad-unlock', 3, `BUG: downgrade_write(${s.name}) of an rwsem that is not write-held`, { env: s.env });
    return;
  }
  s.writer = false;
  s.readers++;
  while (s._waiters.length > 0 && !s._waiters[0]!.write) {
    s._waiters.shift()!.wake();
    s.readers++;
  }
}

export const rwsem_is_locked = (s: RwSemaphore): boolean => s.writer || s.readers > 0;
export const rwsem_is_contended = (s: RwSemaphore): boolean => s._waiters.length > 0;
