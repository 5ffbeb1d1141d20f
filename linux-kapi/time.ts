/**
 * @module linux/jiffies.h + linux/delay.h + linux/ktime.h + linux/timer.h + linux/hrtimer.h
 * Time for drivers: `HZ`, `jiffies()`, conversions and `time_after`; `ktime_get()` and the
 * ktime helpers; sleeps (`msleep`, `usleep_range`, `schedule_timeout`) and busy-waits
 * (`udelay`, `ndelay`, `mdelay`); `timer_list` (`timer_setup`, `mod_timer`, `del_timer_sync`...)
 * and `hrtimer` (`hrtimer_init`, `hrtimer_start`, `hrtimer_forward_now`...).
 *
 * ```ts
 * timer_setup(priv.watchdog, () => { if (stuck(priv)) schedule_work(priv.reset); mod_timer(priv.watchdog, jiffies() + HZ); }, 0);
 * mod_timer(priv.watchdog, jiffies() + msecs_to_jiffies(1000));
 * ...
 * await timer_shutdown_sync(priv.watchdog);             // remove
 * ```
 *
 * Differs from Linux, and why:
 * - **`HZ` is 1000, so a jiffy is a millisecond**: Node's timers have millisecond granularity,
 *   and the kapi's existing millisecond timeouts (`wait_event_interruptible_timeout`) are then
 *   also jiffies. `jiffies()` is a function (there is no variable the timer interrupt bumps);
 *   it counts from `INITIAL_JIFFIES` (2^32 - 300 s, as Linux, so the low 32 bits wrap five
 *   minutes after the container starts), never wraps as a number, and is per thread: in IC0
 *   all drivers share the kernel isolate's count. `get_jiffies_64()` is the same as a bigint.
 * - **`ktime_t` is a `bigint` of nanoseconds** on the monotonic clock, counted from the
 *   container's start (Linux: from boot), as the machine's clocks count (devices/core/clock).
 *   `ktime_to_us`, `ktime_to_ms`, `ktime_us_delta`, `ktime_ms_delta` return numbers; functions
 *   taking nanosecond counts accept a number or a bigint.
 * - **Sleeping is awaiting**: `msleep`, `usleep_range`, `schedule_timeout*` are async and sleep
 *   at least the time asked (`usleep_range` sleeps `min`; sub-millisecond sleeps poll the event
 *   loop until due: exact, at the cost of event-loop turns). They report "BUG: sleeping function
 *   called from invalid context" in atomic context. `*_interruptible` variants resolve 0: there
 *   are no signals.
 * - **Busy-waits block the whole container** (the thread is the container's only CPU): `udelay`
 *   and `ndelay` spin on the clock and may be used in atomic context; a `udelay` above 20 ms
 *   (Linux rejects these at build time) is reported and capped at 20 ms, an `mdelay` is capped
 *   at 1 s. Over a virtual clock they return at once: virtual time does not pass during CPU work.
 * - **Timer callbacks run in softirq context** (`in_softirq()`, `in_atomic()`), hrtimer
 *   callbacks in hardirq context unless started with an `HRTIMER_MODE_*_SOFT` mode, and
 *   `TIMER_IRQSAFE` timers with IRQs disabled; sleeping in them is reported. An async callback is
 *   reported ("timer callbacks must not sleep"), and `del_timer_sync` waits for it to settle.
 *   A callback runs in the driver env that was current at `timer_setup`/`hrtimer_init`.
 * - `del_timer_sync`/`timer_delete_sync`/`timer_shutdown_sync` are async: they deactivate the
 *   timer at once (whether or not the caller awaits), then wait for a running async callback;
 *   called from the timer's own callback they report the deadlock Linux would hit and return.
 *   `hrtimer_cancel` is synchronous (an hrtimer callback cannot be running elsewhere).
 * - **Keeping the container alive**: sleeps (`msleep`...) keep the event loop alive, as any
 *   awaited timeout does. Armed `timer_list`s, hrtimers and delayed work do **not** (their Node
 *   timer is `unref()`ed; `setKapiClock(clock, { unrefTimers: false })` changes that): a
 *   container lives as long as its host keeps its channel open, and a timer a driver forgot to
 *   cancel must not keep an IC0 kernel or a test process alive. Such timers are listed by
 *   `pendingTimers()` (for the debug mode's unbind check) and `cancelPendingTimers()` stops them.
 *   Each kapi timer has its own Node timer, cleared on cancel, so a completed
 *   `wait_for_completion_timeout(c, 5000)` does not hold the event loop for 5 s.
 * - The clock is injectable: `setKapiClock(new VirtualClock())` (devices/core) makes jiffies,
 *   ktime, sleeps and timers follow a virtual clock that tests advance. Call it before arming
 *   anything: timers armed on the previous clock stay there.
 * - Timer slack, deferrable timers (`TIMER_DEFERRABLE`) and pinning are accepted and ignored;
 *   every clock id (`CLOCK_MONOTONIC`, `CLOCK_BOOTTIME`...) is the monotonic clock except
 *   `CLOCK_REALTIME`/`CLOCK_TAI`, whose absolute expiry times are converted at start.
 *   `ktime_get_real()` is the kapi clock plus the wall-clock offset taken when the clock was set
 *   (wall-clock steps are not followed; over a virtual clock it is virtual too).
 */
import type { DriverEnv } from '../framework/driver-port.js';
import { RealClock, type Clock } from '../devices/core/clock.js';
import { Scheduler, type Cancel } from '../devices/core/scheduler.js';
import { currentEnvOrNull, kapi_fault, kapi_report, kapiDebug, callerSite } from './bug.js';
import { setDriverEnv } from './kernel.js';
import {
  enter_irq, enter_softirq, exit_irq, exit_softirq, local_irq_restore, local_irq_save, might_sleep,
} from './preempt.js';

// ---- the clock -----------------------------------------------------------------------------------

let clock: Clock = new RealClock();
let unrefTimers = true;
/** Over a VirtualClock, every timer goes into the clock's queue (deterministic order). */
let virtualSched: Scheduler | null = null;
/** CLOCK_REALTIME - kapi clock, fixed when the clock is set (wall-clock steps are not followed). */
let realOffset = wallNs() - clock.now();

function wallNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}

/** Replaces the kapi's clock (a devices/core Clock: RealClock or VirtualClock). */
export function setKapiClock(c: Clock, opts: { unrefTimers?: boolean } = {}): void {
  clock = c;
  unrefTimers = opts.unrefTimers ?? true;
  virtualSched = c.kind === 'virtual' ? new Scheduler(c) : null;
  realOffset = wallNs() - c.now();
}

export const kapiClock = (): Clock => clock;

/** @internal ns on the kapi clock. */
export const kapi_now_ns = (): bigint => clock.now();

/** setTimeout's longest wait (2^31-1 ms); longer waits re-arm. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Real time: one Node timer per kapi timer, cleared on cancel (so a cancelled timeout never
 * holds the event loop). setTimeout for the whole milliseconds, then event-loop turns
 * (setImmediate) until due, so a timer fires late by at most a turn, never early, and
 * sub-millisecond sleeps are exact. Never fires synchronously inside the arming call.
 */
function realAt(due: bigint, fn: () => void, unref: boolean): Cancel {
  let live = true;
  let timeout: ReturnType<typeof setTimeout> | undefined;
  let immediate: ReturnType<typeof setImmediate> | undefined;
  const step = (): void => {
    timeout = immediate = undefined;
    if (!live) return;
    const left = due - clock.now();
    if (left <= 0n) { live = false; fn(); return; }
    if (left >= 1_000_000n) timeout = setTimeout(step, Math.min(Number(left / 1_000_000n), MAX_TIMEOUT_MS));
    else immediate = setImmediate(step);
    if (unref) (timeout ?? immediate)!.unref();
  };
  immediate = setImmediate(step);
  if (unref) immediate.unref();
  return () => {
    live = false;
    if (timeout) clearTimeout(timeout);
    if (immediate) clearImmediate(immediate);
  };
}

/** Runs `fn` at `t` (ns on the kapi clock). `keepAlive`: the pending timer holds the event loop. */
function armAt(t: bigint, fn: () => void, keepAlive: boolean): Cancel {
  if (virtualSched) return virtualSched.at(t, fn);
  return realAt(t, fn, !keepAlive);
}

/** @internal Runs `fn` after `ns` (a sleep or timeout someone awaits: keeps the loop alive). */
export function kapi_after(ns: bigint, fn: () => void): Cancel {
  return armAt(clock.now() + (ns < 0n ? 0n : ns), fn, true);
}

/** A driver timer (timer_list, hrtimer, delayed work): unref'd unless setKapiClock said otherwise. */
const armTimer = (t: bigint, fn: () => void): Cancel => armAt(t, fn, !unrefTimers);

const toBig = (v: number | bigint): bigint => (typeof v === 'bigint' ? v : BigInt(Math.round(v)));

// ---- jiffies -------------------------------------------------------------------------------------

/** Ticks per second; a jiffy is 1 ms. */
export const HZ = 1000;
/** jiffies at container start: 2^32 - 300 s, so 32-bit truncations wrap after five minutes. */
export const INITIAL_JIFFIES = 2 ** 32 - 300 * HZ;
export const MAX_JIFFY_OFFSET = 2 ** 52;
/** schedule_timeout(MAX_SCHEDULE_TIMEOUT) and friends wait without a timeout. */
export const MAX_SCHEDULE_TIMEOUT = Number.MAX_SAFE_INTEGER;

const NS_PER_JIFFY = 1_000_000n;

/** The jiffies counter now. */
export const jiffies = (): number => INITIAL_JIFFIES + Number(clock.now() / NS_PER_JIFFY);
export const get_jiffies_64 = (): bigint => BigInt(INITIAL_JIFFIES) + clock.now() / NS_PER_JIFFY;
/** @internal ns on the kapi clock when `jiffies()` reaches `j`. */
const jiffiesToClockNs = (j: number): bigint => BigInt(Math.ceil(j - INITIAL_JIFFIES)) * NS_PER_JIFFY;

export const msecs_to_jiffies = (m: number): number => (m < 0 ? MAX_JIFFY_OFFSET : Math.ceil(m * HZ / 1000));
export const usecs_to_jiffies = (u: number): number => (u < 0 ? MAX_JIFFY_OFFSET : Math.ceil(u * HZ / 1_000_000));
export const nsecs_to_jiffies = (n: number | bigint): number => Math.ceil(Number(n) * HZ / 1e9);
export const jiffies_to_msecs = (j: number): number => j * 1000 / HZ;
export const jiffies_to_usecs = (j: number): number => j * 1_000_000 / HZ;
export const jiffies_to_nsecs = (j: number): bigint => BigInt(j) * NS_PER_JIFFY;

/** time_after(a, b): a is later than b (wrap-safe arithmetic as in Linux; numbers do not wrap here). */
export const time_after = (a: number, b: number): boolean => b - a < 0;
export const time_before = (a: number, b: number): boolean => time_after(b, a);
export const time_after_eq = (a: number, b: number): boolean => a - b >= 0;
export const time_before_eq = (a: number, b: number): boolean => time_after_eq(b, a);
/** a in [b, c]. */
export const time_in_range = (a: number, b: number, c: number): boolean => time_after_eq(a, b) && time_before_eq(a, c);
export const time_is_after_jiffies = (a: number): boolean => time_before(jiffies(), a);
export const time_is_before_jiffies = (a: number): boolean => time_after(jiffies(), a);
export const time_is_after_eq_jiffies = (a: number): boolean => time_before_eq(jiffies(), a);
export const time_is_before_eq_jiffies = (a: number): boolean => time_after_eq(jiffies(), a);
/** round_jiffies(j): j rounded to a whole second (to batch wakeups). */
export const round_jiffies = (j: number): number => Math.round(j / HZ) * HZ;
export const round_jiffies_relative = (j: number): number => round_jiffies(j + jiffies()) - jiffies();

// ---- ktime ---------------------------------------------------------------------------------------

/** ktime_t: nanoseconds, bigint. */
export type ktime_t = bigint;

export const NSEC_PER_USEC = 1000, NSEC_PER_MSEC = 1_000_000, NSEC_PER_SEC = 1_000_000_000, USEC_PER_SEC = 1_000_000,
  MSEC_PER_SEC = 1000;
export const KTIME_MAX = (1n << 63n) - 1n;

export const ktime_get = (): ktime_t => clock.now();
export const ktime_get_ns = ktime_get;
export const ktime_get_raw = ktime_get;
export const ktime_get_raw_ns = ktime_get;
export const ktime_get_boottime = ktime_get;
export const ktime_get_boottime_ns = ktime_get;
export const ktime_get_mono_fast_ns = ktime_get;
/** Wall-clock time (CLOCK_REALTIME) in ns since the epoch: the kapi clock plus the offset at its start. */
export const ktime_get_real = (): ktime_t => clock.now() + realOffset;
export const ktime_get_real_ns = ktime_get_real;
export const ktime_get_real_seconds = (): number => Number(ktime_get_real() / 1_000_000_000n);
export const ktime_get_seconds = (): number => Number(clock.now() / 1_000_000_000n);

export const ktime_set = (secs: number, nsecs: number): ktime_t => BigInt(secs) * 1_000_000_000n + toBig(nsecs);
export const ns_to_ktime = (ns: number | bigint): ktime_t => toBig(ns);
export const us_to_ktime = (us: number | bigint): ktime_t => toBig(us) * 1000n;
export const ms_to_ktime = (ms: number | bigint): ktime_t => toBig(ms) * 1_000_000n;
export const ktime_to_ns = (kt: ktime_t): bigint => kt;
export const ktime_to_us = (kt: ktime_t): number => Number(kt / 1000n);
export const ktime_to_ms = (kt: ktime_t): number => Number(kt / 1_000_000n);
export const ktime_add = (a: ktime_t, b: ktime_t): ktime_t => a + b;
export const ktime_sub = (a: ktime_t, b: ktime_t): ktime_t => a - b;
export const ktime_add_ns = (kt: ktime_t, ns: number | bigint): ktime_t => kt + toBig(ns);
export const ktime_sub_ns = (kt: ktime_t, ns: number | bigint): ktime_t => kt - toBig(ns);
export const ktime_add_us = (kt: ktime_t, us: number | bigint): ktime_t => kt + toBig(us) * 1000n;
export const ktime_add_ms = (kt: ktime_t, ms: number | bigint): ktime_t => kt + toBig(ms) * 1_000_000n;
export const ktime_sub_us = (kt: ktime_t, us: number | bigint): ktime_t => kt - toBig(us) * 1000n;
/** Microseconds from `earlier` to `later` (a number). */
export const ktime_us_delta = (later: ktime_t, earlier: ktime_t): number => Number((later - earlier) / 1000n);
export const ktime_ms_delta = (later: ktime_t, earlier: ktime_t): number => Number((later - earlier) / 1_000_000n);
export const ktime_compare = (a: ktime_t, b: ktime_t): number => (a < b ? -1 : a > b ? 1 : 0);
export const ktime_after = (a: ktime_t, b: ktime_t): boolean => a > b;
export const ktime_before = (a: ktime_t, b: ktime_t): boolean => a < b;

// ---- sleeping ------------------------------------------------------------------------------------

/** Resolves after `ns` (at least) on the kapi clock. Never resolves for MAX_SCHEDULE_TIMEOUT. */
function sleepNs(ns: bigint): Promise<void> {
  return new Promise((resolve) => { kapi_after(ns, resolve); });
}

/** msleep(ms): sleeps at least `ms` milliseconds. */
export async function msleep(ms: number): Promise<void> {
  might_sleep('msleep()');
  await sleepNs(toBig(Math.max(0, ms) * 1e6));
}

/** msleep_interruptible(ms): as msleep; resolves the ms left, always 0 (no signals). */
export async function msleep_interruptible(ms: number): Promise<number> {
  might_sleep('msleep_interruptible()');
  await sleepNs(toBig(Math.max(0, ms) * 1e6));
  return 0;
}

export async function ssleep(s: number): Promise<void> {
  might_sleep('ssleep()');
  await sleepNs(toBig(Math.max(0, s) * 1e9));
}

/** usleep_range(min, max): sleeps `min` microseconds (the range is slack Linux may use). */
export async function usleep_range(min: number, _max: number = min): Promise<void> {
  might_sleep('usleep_range()');
  await sleepNs(toBig(Math.max(0, min) * 1000));
}

/** fsleep(us): the right delay for the duration (busy-waits up to 10 µs, sleeps beyond). */
export async function fsleep(us: number): Promise<void> {
  if (us <= 10) { udelay(us); return; }
  might_sleep('fsleep()');
  await sleepNs(toBig(us * 1000));
}

async function scheduleTimeout(what: string, timeout: number): Promise<number> {
  might_sleep(what);
  if (timeout >= MAX_SCHEDULE_TIMEOUT) return new Promise<number>(() => {});
  await sleepNs(BigInt(Math.max(0, Math.ceil(timeout))) * NS_PER_JIFFY);
  return 0;
}

/** schedule_timeout(jiffies): sleeps; resolves the jiffies left (0: nothing wakes a task early here). */
export const schedule_timeout = (t: number): Promise<number> => scheduleTimeout('schedule_timeout()', t);
export const schedule_timeout_interruptible = (t: number): Promise<number> => scheduleTimeout('schedule_timeout_interruptible()', t);
export const schedule_timeout_uninterruptible = (t: number): Promise<number> => scheduleTimeout('schedule_timeout_uninterruptible()', t);
export const schedule_timeout_killable = (t: number): Promise<number> => scheduleTimeout('schedule_timeout_killable()', t);

// ---- busy-waiting --------------------------------------------------------------------------------

export const MAX_UDELAY_US = 20_000;
export const MAX_MDELAY_MS = 1_000;

function spinNs(ns: number): void {
  if (clock.kind === 'virtual' || ns <= 0) return;
  const end = clock.now() + BigInt(Math.ceil(ns));
  while (clock.now() < end) { /* busy-wait: the container does nothing else meanwhile */ }
}

/** udelay(us): busy-waits; safe in atomic context. Capped at 20 ms (reported). */
export function udelay(us: number): void {
  if (us > MAX_UDELAY_US) {
    kapi_report('long-delay', 4, `WARNING: udelay(${us}) busy-waits too long (capped at ${MAX_UDELAY_US} us); use usleep_range() or msleep()`);
    us = MAX_UDELAY_US;
  }
  spinNs(us * 1000);
}

export function ndelay(ns: number): void { udelay(ns / 1000); }

/** mdelay(ms): busy-waits (blocking the whole container); capped at 1 s (reported). */
export function mdelay(ms: number): void {
  if (ms > MAX_MDELAY_MS) {
    kapi_report('long-delay', 4, `WARNING: mdelay(${ms}) busy-waits too long (capped at ${MAX_MDELAY_MS} ms); use msleep()`);
    ms = MAX_MDELAY_MS;
  }
  spinNs(ms * 1e6);
}

// ---- the pending-timer registry ------------------------------------------------------------------

export interface PendingTimer {
  readonly kind: 'timer_list' | 'hrtimer' | 'delayed_work';
  /** The callback's name (or the work function's), for reports. */
  readonly name: string;
  /** Expiry, ns on the kapi clock (see ktime_get). */
  readonly expires_ns: bigint;
  /** The driver env it belongs to (captured at setup), if any. */
  readonly env: DriverEnv | null;
  /** Where it was armed (only with kapiDebug.lockSites). */
  readonly site: string;
}

interface Registered extends PendingTimer { readonly stop: () => void }

const registry = new Map<object, Registered>();

/** Timers armed now (optionally only `env`'s): the debug mode's "timer pending at unbind" check. */
export function pendingTimers(env?: DriverEnv): PendingTimer[] {
  return [...registry.values()].filter((r) => env === undefined || r.env === env)
    .map(({ kind, name, expires_ns, env: e, site }) => ({ kind, name, expires_ns, env: e, site }));
}

/** Cancels the timers `pendingTimers(env)` lists; returns them. */
export function cancelPendingTimers(env?: DriverEnv): PendingTimer[] {
  const out: PendingTimer[] = [];
  for (const r of [...registry.values()]) {
    if (env !== undefined && r.env !== env) continue;
    r.stop();
    out.push(r);
  }
  return out;
}

// ---- timer_list ----------------------------------------------------------------------------------

export const TIMER_DEFERRABLE = 0x00080000, TIMER_PINNED = 0x00100000, TIMER_IRQSAFE = 0x00200000;

export type TimerFn = (timer: TimerList) => void;

export class TimerList {
  /** Expiry in jiffies (set by mod_timer, or by the driver before add_timer). */
  expires = 0;
  function: TimerFn | null = null;
  flags = 0;
  /** @internal */ _cancel: Cancel | null = null;
  /** @internal */ _inCallback = false;
  /** @internal An async callback still running. */ _running: Promise<void> | null = null;
  /** @internal */ _shutdown = false;
  /** @internal */ _env: DriverEnv | null = null;
  /** @internal What the registry calls it. */ _kind: 'timer_list' | 'delayed_work' = 'timer_list';
  /** @internal */ _label = '';
}
export type timer_list = TimerList;

/** timer_setup(timer, fn, flags): `fn(timer)` runs in softirq context when the timer expires. */
export function timer_setup(timer: TimerList, fn: TimerFn, flags: number): void {
  timer.function = fn;
  timer.flags = flags;
  timer._shutdown = false;
  timer._env = currentEnvOrNull();
}

/** DEFINE_TIMER(fn): a new timer set up with `fn`. */
export function DEFINE_TIMER(fn: TimerFn, flags = 0): TimerList {
  const t = new TimerList();
  timer_setup(t, fn, flags);
  return t;
}

const labelOf = (t: TimerList): string => t._label || t.function?.name || 'anonymous';

function disarm(t: TimerList): boolean {
  if (!t._cancel) return false;
  t._cancel();
  t._cancel = null;
  registry.delete(t);
  return true;
}

function arm(t: TimerList): void {
  const due = jiffiesToClockNs(t.expires);
  t._cancel = armTimer(due, () => fireTimer(t));
  registry.set(t, {
    kind: t._kind, name: labelOf(t), expires_ns: due, env: t._env, site: kapiDebug.lockSites ? callerSite() : '',
    stop: () => { disarm(t); },
  });
}

function fireTimer(t: TimerList): void {
  t._cancel = null;
  registry.delete(t);
  if (t._env) setDriverEnv(t._env);
  const irqsafe = (t.flags & TIMER_IRQSAFE) !== 0;
  enter_softirq();
  const flags = irqsafe ? local_irq_save() : 0;
  t._inCallback = true;
  let r: unknown;
  try {
    r = t.function?.(t);
  } catch (e) {
    kapi_fault(e, `timer callback ${labelOf(t)}`, t._env);
  } finally {
    t._inCallback = false;
    if (irqsafe) local_irq_restore(flags);
    exit_softirq();
  }
  if (r instanceof Promise) {
    kapi_report('async-timer', 3, `BUG: timer callback ${labelOf(t)} is async: timer callbacks run in softirq context and must not sleep`,
      { site: '', key: labelOf(t), env: t._env });
    const p: Promise<void> = r.then(() => {}, (e: unknown) => kapi_fault(e, `timer callback ${labelOf(t)}`, t._env))
      .finally(() => { if (t._running === p) t._running = null; });
    t._running = p;
  }
}

/**
 * mod_timer(timer, expires): (re)arms the timer to fire when jiffies() reaches `expires` (at
 * once if that is past). Returns 1 if it was pending, 0 if not. A shut-down timer stays off.
 */
export function mod_timer(timer: TimerList, expires: number): number {
  if (timer._shutdown) return 0;
  if (!timer.function) {
    kapi_report('timer-no-function', 3, 'BUG: mod_timer() on a timer without a function (timer_setup missing)');
    return 0;
  }
  const was = disarm(timer);
  timer.expires = expires;
  arm(timer);
  return was ? 1 : 0;
}

/** add_timer(timer): arms at `timer.expires`. Adding a pending timer is a bug (reported; re-armed). */
export function add_timer(timer: TimerList): void {
  if (timer._cancel) kapi_report('add-pending-timer', 3, 'BUG: add_timer() on a pending timer (use mod_timer)');
  mod_timer(timer, timer.expires);
}

/** timer_reduce(timer, expires): like mod_timer, but only ever moves the expiry earlier. */
export function timer_reduce(timer: TimerList, expires: number): number {
  if (timer._cancel && !time_before(expires, timer.expires)) return 1;
  return mod_timer(timer, expires);
}

export const timer_pending = (timer: TimerList): boolean => timer._cancel !== null;

/** del_timer(timer): deactivates; 1 if it was pending, 0 if not. */
export function del_timer(timer: TimerList): number {
  return disarm(timer) ? 1 : 0;
}
export const timer_delete = del_timer;

/**
 * del_timer_sync(timer): deactivates (at once) and waits until the callback is not running.
 * Resolves 1 if the timer was pending, 0 if not.
 */
export async function del_timer_sync(timer: TimerList): Promise<number> {
  const r = del_timer(timer);
  if (timer._inCallback) {
    kapi_report('del-timer-sync-self', 3, 'BUG: del_timer_sync() called from the timer\'s own callback (deadlocks on Linux)', { env: timer._env });
    return r;
  }
  while (timer._running) await timer._running;
  return r;
}
export const timer_delete_sync = del_timer_sync;

/** timer_shutdown(timer): deactivates for good: later mod_timer/add_timer calls are ignored. */
export function timer_shutdown(timer: TimerList): number {
  timer._shutdown = true;
  return del_timer(timer);
}

/** timer_shutdown_sync(timer): timer_shutdown, then waits for a running callback (teardown). */
export function timer_shutdown_sync(timer: TimerList): Promise<number> {
  timer._shutdown = true;
  return del_timer_sync(timer);
}

/** @internal workqueue.ts: a timer that the registry lists as delayed work named `label`. */
export function __timer_kind(timer: TimerList, kind: 'timer_list' | 'delayed_work', label: string): void {
  timer._kind = kind;
  timer._label = label;
}

// ---- hrtimer -------------------------------------------------------------------------------------

export const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_BOOTTIME = 7, CLOCK_TAI = 11;
export const HRTIMER_MODE_ABS = 0x00, HRTIMER_MODE_REL = 0x01, HRTIMER_MODE_PINNED = 0x02, HRTIMER_MODE_SOFT = 0x04,
  HRTIMER_MODE_HARD = 0x08;
export const HRTIMER_MODE_ABS_PINNED = HRTIMER_MODE_ABS | HRTIMER_MODE_PINNED;
export const HRTIMER_MODE_REL_PINNED = HRTIMER_MODE_REL | HRTIMER_MODE_PINNED;
export const HRTIMER_MODE_ABS_SOFT = HRTIMER_MODE_ABS | HRTIMER_MODE_SOFT;
export const HRTIMER_MODE_REL_SOFT = HRTIMER_MODE_REL | HRTIMER_MODE_SOFT;
export const HRTIMER_MODE_ABS_HARD = HRTIMER_MODE_ABS | HRTIMER_MODE_HARD;
export const HRTIMER_MODE_REL_HARD = HRTIMER_MODE_REL | HRTIMER_MODE_HARD;
export const HRTIMER_NORESTART = 0, HRTIMER_RESTART = 1;

export type HrTimerFn = (timer: HrTimer) => number;

export class HrTimer {
  function: HrTimerFn | null = null;
  /** @internal Expiry, ns on the kapi clock. */ _expires = 0n;
  /** @internal */ _clockid = CLOCK_MONOTONIC;
  /** @internal */ _mode = HRTIMER_MODE_REL;
  /** @internal */ _cancel: Cancel | null = null;
  /** @internal */ _inCallback = false;
  /** @internal */ _env: DriverEnv | null = null;
}
export type hrtimer = HrTimer;

/** hrtimer_init(timer, clock_id, mode): then set `timer.function`. */
export function hrtimer_init(timer: HrTimer, clockid: number, mode: number): void {
  if (timer._cancel) hrtimer_cancel(timer);
  timer._clockid = clockid;
  timer._mode = mode;
  timer._env = currentEnvOrNull();
}

/** hrtimer_setup(timer, fn, clock_id, mode) (Linux 6.13+): hrtimer_init with the function. */
export function hrtimer_setup(timer: HrTimer, fn: HrTimerFn, clockid: number, mode: number): void {
  hrtimer_init(timer, clockid, mode);
  timer.function = fn;
}

const isRealtime = (t: HrTimer): boolean => t._clockid === CLOCK_REALTIME || t._clockid === CLOCK_TAI;

function hrDisarm(t: HrTimer): boolean {
  if (!t._cancel) return false;
  t._cancel();
  t._cancel = null;
  registry.delete(t);
  return true;
}

function hrArm(t: HrTimer): void {
  const due = t._expires;
  t._cancel = armTimer(due, () => fireHrtimer(t));
  registry.set(t, {
    kind: 'hrtimer', name: t.function?.name || 'anonymous', expires_ns: due, env: t._env,
    site: kapiDebug.lockSites ? callerSite() : '', stop: () => { hrDisarm(t); },
  });
}

function fireHrtimer(t: HrTimer): void {
  t._cancel = null;
  registry.delete(t);
  if (t._env) setDriverEnv(t._env);
  const soft = (t._mode & HRTIMER_MODE_SOFT) !== 0;
  const firedAt = t._expires;
  if (soft) enter_softirq(); else enter_irq();
  t._inCallback = true;
  let r: unknown = HRTIMER_NORESTART;
  try {
    r = t.function?.(t);
  } catch (e) {
    kapi_fault(e, `hrtimer callback ${t.function?.name || 'anonymous'}`, t._env);
    r = HRTIMER_NORESTART;
  } finally {
    t._inCallback = false;
    if (soft) exit_softirq(); else exit_irq();
  }
  if (r instanceof Promise) {
    kapi_report('async-timer', 3, `BUG: hrtimer callback ${t.function?.name || 'anonymous'} is async: it runs in interrupt context and must not sleep`,
      { site: '', key: t.function?.name, env: t._env });
    r.catch((e: unknown) => kapi_fault(e, 'hrtimer callback', t._env));
    return;
  }
  if (r !== HRTIMER_RESTART || t._cancel) return;
  if (t._expires === firedAt) {
    kapi_report('hrtimer-restart', 3, `BUG: hrtimer callback ${t.function?.name || 'anonymous'} returned HRTIMER_RESTART without moving the expiry `
      + '(hrtimer_forward_now); not restarted', { site: '', key: t.function?.name, env: t._env });
    return;
  }
  hrArm(t);
}

/**
 * hrtimer_start(timer, tim, mode): arms the timer `tim` ns from now (HRTIMER_MODE_REL) or at
 * `tim` on its clock (HRTIMER_MODE_ABS). Restarts it if it was active.
 */
export function hrtimer_start(timer: HrTimer, tim: ktime_t, mode: number): void {
  hrDisarm(timer);
  if (!timer.function) {
    kapi_report('timer-no-function', 3, 'BUG: hrtimer_start() on an hrtimer without a function');
    return;
  }
  timer._mode = mode;
  if (mode & HRTIMER_MODE_REL) timer._expires = clock.now() + tim;
  else timer._expires = isRealtime(timer) ? tim - realOffset : tim;
  hrArm(timer);
}

/** hrtimer_start_range_ns: the slack is ignored. */
export function hrtimer_start_range_ns(timer: HrTimer, tim: ktime_t, _delta: number | bigint, mode: number): void {
  hrtimer_start(timer, tim, mode);
}

/** Re-arms at the expiry already set (hrtimer_set_expires / hrtimer_forward). */
export function hrtimer_restart(timer: HrTimer): void {
  hrDisarm(timer);
  hrArm(timer);
}

/** hrtimer_try_to_cancel: 1 if it was queued (now cancelled), 0 if not, -1 if its callback is running. */
export function hrtimer_try_to_cancel(timer: HrTimer): number {
  if (hrDisarm(timer)) return 1;
  return timer._inCallback ? -1 : 0;
}

/** hrtimer_cancel(timer): 1 if it was active, 0 if not. Not from the timer's own callback. */
export function hrtimer_cancel(timer: HrTimer): number {
  if (timer._inCallback) {
    kapi_report('hrtimer-cancel-self', 3, 'BUG: hrtimer_cancel() called from the timer\'s own callback (deadlocks on Linux)', { env: timer._env });
  }
  return hrDisarm(timer) ? 1 : 0;
}

export const hrtimer_active = (t: HrTimer): boolean => t._cancel !== null || t._inCallback;
export const hrtimer_is_queued = (t: HrTimer): boolean => t._cancel !== null;
export const hrtimer_callback_running = (t: HrTimer): boolean => t._inCallback;

/** Expiry on the timer's clock (CLOCK_REALTIME timers: wall-clock ns). */
export const hrtimer_get_expires = (t: HrTimer): ktime_t => (isRealtime(t) ? t._expires + realOffset : t._expires);
export const hrtimer_get_expires_ns = hrtimer_get_expires;
export function hrtimer_set_expires(t: HrTimer, kt: ktime_t): void {
  t._expires = isRealtime(t) ? kt - realOffset : kt;
}
export function hrtimer_add_expires_ns(t: HrTimer, ns: number | bigint): void { t._expires += toBig(ns); }
export function hrtimer_add_expires(t: HrTimer, kt: ktime_t): void { t._expires += kt; }
/** Time left until expiry (negative if past). */
export const hrtimer_get_remaining = (t: HrTimer): ktime_t => t._expires - clock.now();
export const hrtimer_expires_remaining = hrtimer_get_remaining;

/** The timer's clock, now (for hrtimer_forward). */
const hrNow = (t: HrTimer): ktime_t => (isRealtime(t) ? ktime_get_real() : clock.now());

/**
 * hrtimer_forward(timer, now, interval): moves the expiry forward by whole intervals until it
 * is after `now`; returns the number of intervals (overruns), 0 if it was already after `now`.
 */
export function hrtimer_forward(timer: HrTimer, now: ktime_t, interval: ktime_t): number {
  const expires = hrtimer_get_expires(timer);
  const delta = now - expires;
  if (delta < 0n) return 0;
  if (interval < 1n) interval = 1n;
  let orun = 1n;
  let e = expires;
  if (delta >= interval) {
    orun = delta / interval;
    e += interval * orun;
    if (e > now) { hrtimer_set_expires(timer, e); return Number(orun); }
    orun++;
  }
  hrtimer_set_expires(timer, e + interval);
  return Number(orun);
}

/** hrtimer_forward_now(timer, interval): hrtimer_forward from the timer's clock's now. */
export function hrtimer_forward_now(timer: HrTimer, interval: ktime_t): number {
  return hrtimer_forward(timer, hrNow(timer), interval);
}
