/**
 * @module linux/workqueue.h + linux/interrupt.h (tasklets) + linux/kthread.h
 * Deferred work. Work items (`INIT_WORK`, `schedule_work`, `queue_work`, `flush_work`,
 * `cancel_work_sync`) run in process context and may sleep (an async work function is
 * awaited); workqueues (`alloc_workqueue`, `alloc_ordered_workqueue`,
 * `create_singlethread_workqueue`, `flush_workqueue`, `destroy_workqueue`, `system_wq`...);
 * delayed work (`INIT_DELAYED_WORK`, `schedule_delayed_work`, `queue_delayed_work`,
 * `mod_delayed_work`, `cancel_delayed_work[_sync]`, `flush_delayed_work`); tasklets
 * (`tasklet_setup`, `tasklet_schedule`, `tasklet_kill`...), which run in softirq context; and
 * kernel threads (`kthread_run`, `kthread_should_stop`, `kthread_stop`).
 *
 * ```ts
 * INIT_WORK(priv.reset_work, async () => { await mutex_lock(priv.lock); await reset_hw(priv); mutex_unlock(priv.lock); });
 * // in the IRQ handler:
 * if (status & FATAL) schedule_work(priv.reset_work);
 * // remove:
 * await cancel_work_sync(priv.reset_work);
 * ```
 *
 * Semantics kept from Linux: a work item is queued at most once while pending (`queue_work`
 * returns false), it is no longer pending when its function starts (so it may requeue itself),
 * one work item never runs twice at the same time, a workqueue runs at most `max_active` items
 * at once and an ordered one (`alloc_ordered_workqueue`, `create_singlethread_workqueue`)
 * exactly one, in queueing order; `flush_work` waits for the last queueing to finish;
 * `destroy_workqueue` drains first, after which queueing on it is refused (reported).
 *
 * Differs from Linux, and why:
 * - **There are no worker threads**: a work item "runs in a kworker" as its own event-loop task
 *   (`setImmediate`), so it starts after the code that queued it has returned, as on Linux. A
 *   work function may be async: the item is running until its promise settles (that is what
 *   `flush_work`, `cancel_work_sync`, `max_active` and ordering wait for). `max_active` counts
 *   async items in flight, not CPUs; 0 means the default of 256.
 * - `flush_*`, `cancel_*_sync`, `destroy_workqueue`, `drain_workqueue`, `tasklet_kill` and
 *   `kthread_stop` are async (they wait); they report sleeping in atomic context like the other
 *   sleeping functions. Flushing or cancelling-and-syncing a work item from its own function
 *   waits forever, as it deadlocks on Linux.
 * - `alloc_workqueue(name, flags, max_active)` takes a plain name (no printf format) and
 *   returns the workqueue (never NULL). `WQ_*` flags other than the ordering are accepted and
 *   ignored: there are no CPUs, priorities or memory-reclaim guarantees to honour. The system
 *   workqueues (`system_wq`, `system_highpri_wq`, `system_long_wq`, `system_unbound_wq`...) are
 *   per thread: in IC0 all drivers share them (flushing one waits for others' work, as on Linux).
 * - A work item, tasklet or kthread runs in the driver env that was current when it was
 *   initialised (`INIT_WORK`, `tasklet_setup`, `kthread_run`), as the kapi re-enters a driver's
 *   env at every entry.
 * - Work and thread functions receive their object (`fn(work)`, `fn(data, task)`); there is no
 *   `container_of`, so close over the driver's state (or keep a map). `to_delayed_work(work)`
 *   works. A kthread function gets its task as a second argument because there is no
 *   `current`: `kthread_should_stop(task)`.
 * - **Tasklets** run in softirq context (`in_softirq()`; sleeping there is reported) in a
 *   microtask after the code that scheduled them (typically right after the IRQ handler);
 *   tasklets scheduled while tasklets run wait for the next event-loop turn, as ksoftirqd
 *   defers a softirq storm. `tasklet_kill` waits for a scheduled tasklet to run.
 * - **kthreads** are async functions started in their own event-loop task. `kthread_stop(task)`
 *   sets should-stop and waits for the function to return, resolving its result (or `-EINTR` if
 *   it never started). It cannot interrupt a sleep: a thread must sleep with a timeout or on a
 *   wait queue / completion that the stopper signals, then check `kthread_should_stop(task)`.
 * - A work, tasklet or kthread function that throws is a fault (kapiDebug.onFault).
 * - `pendingWork()` lists queued and running items per env, for the debug mode's unbind check.
 */
import type { DriverEnv } from '../framework/driver-port.js';
import { currentEnvOrNull, kapi_fault, kapi_report } from './bug.js';
import { EINTR } from './errno.js';
import { setDriverEnv } from './kernel.js';
import { enter_softirq, exit_softirq, might_sleep } from './preempt.js';
import { lockdep_task } from './lockdep.js';
import { __timer_kind, del_timer, mod_timer, jiffies, timer_pending, timer_setup, TimerList } from './time.js';

// ---- completion tickets (flush) ----------------------------------------------------------------

/**
 * Every queueing gets a ticket; a ticket is in flight until its execution finishes (or it is
 * cancelled). flush_work/flush_workqueue wait for the tickets in flight when they were called.
 */
let nextTicket = 1;
const inflight = new Set<number>();
const flushWaiters = new Set<{ tickets: number[]; resolve: () => void }>();

function retire(ticket: number): void {
  inflight.delete(ticket);
  for (const w of [...flushWaiters]) {
    if (w.tickets.every((t) => !inflight.has(t))) { flushWaiters.delete(w); w.resolve(); }
  }
}

function waitTickets(tickets: number[]): Promise<void> {
  const live = tickets.filter((t) => inflight.has(t));
  if (live.length === 0) return Promise.resolve();
  return new Promise((resolve) => flushWaiters.add({ tickets: live, resolve }));
}

// ---- work_struct ---------------------------------------------------------------------------------

export type WorkFn = (work: WorkStruct) => void | Promise<void>;

export class WorkStruct {
  func: WorkFn | null = null;
  /** @internal Ticket of the queued (pending, not started) instance, 0 if none. */ _pending = 0;
  /** @internal Ticket of the running instance, 0 if none. */ _running = 0;
  /** @internal Queue it is pending on. */ _wq: Workqueue | null = null;
  /** @internal cancel_work_sync in progress: queueing is refused. */ _canceling = 0;
  /** @internal */ _env: DriverEnv | null = null;
  /** @internal Set for the work inside a DelayedWork. */ _dwork: DelayedWork | null = null;
}
export type work_struct = WorkStruct;

/** INIT_WORK(work, fn). */
export function INIT_WORK(work: WorkStruct, fn: WorkFn): void {
  work.func = fn;
  work._env = currentEnvOrNull();
}

/** DECLARE_WORK(fn): a new work item. */
export function DECLARE_WORK(fn: WorkFn): WorkStruct {
  const w = new WorkStruct();
  INIT_WORK(w, fn);
  return w;
}

/** work_pending(work): queued (or, for delayed work, its timer armed) and not yet started. */
export const work_pending = (work: WorkStruct): boolean =>
  work._pending !== 0 || (work._dwork !== null && timer_pending(work._dwork.timer));
/** work_busy-like: pending or running. */
export const work_busy = (work: WorkStruct): boolean => work_pending(work) || work._running !== 0;

// ---- workqueue_struct ----------------------------------------------------------------------------

export const WQ_UNBOUND = 1 << 1, WQ_FREEZABLE = 1 << 2, WQ_MEM_RECLAIM = 1 << 3, WQ_HIGHPRI = 1 << 4,
  WQ_CPU_INTENSIVE = 1 << 5, WQ_SYSFS = 1 << 6, WQ_POWER_EFFICIENT = 1 << 7, WQ_BH = 1 << 0, __WQ_ORDERED = 1 << 17;
export const WQ_MAX_ACTIVE = 512, WQ_DFL_ACTIVE = WQ_MAX_ACTIVE / 2;

/** Items a workqueue starts in one event-loop turn before yielding to I/O. */
const BATCH = 64;

const workqueues = new Set<Workqueue>();

export class Workqueue {
  /** @internal Pending items, in queueing order. */ readonly _queue: WorkStruct[] = [];
  /** @internal Tickets queued on or running in this workqueue. */ readonly _tickets = new Set<number>();
  /** @internal */ _active = 0;
  /** @internal */ _pumpQueued = false;
  /** @internal Items whose function is running. */ readonly _runningItems = new Set<WorkStruct>();
  /** @internal */ _destroyed = false;
  readonly max_active: number;
  constructor(readonly name: string, readonly flags: number, maxActive: number) {
    this.max_active = flags & __WQ_ORDERED ? 1 : Math.min(maxActive > 0 ? maxActive : WQ_DFL_ACTIVE, WQ_MAX_ACTIVE);
  }
  get ordered(): boolean { return (this.flags & __WQ_ORDERED) !== 0; }
}
export type workqueue_struct = Workqueue;

export function alloc_workqueue(name: string, flags: number, max_active: number): Workqueue {
  const wq = new Workqueue(name, flags, max_active);
  workqueues.add(wq);
  return wq;
}
export const alloc_ordered_workqueue = (name: string, flags: number): Workqueue =>
  alloc_workqueue(name, flags | WQ_UNBOUND | __WQ_ORDERED, 1);
export const create_workqueue = (name: string): Workqueue => alloc_workqueue(name, WQ_MEM_RECLAIM, 1);
export const create_freezable_workqueue = (name: string): Workqueue =>
  alloc_workqueue(name, WQ_FREEZABLE | WQ_UNBOUND | WQ_MEM_RECLAIM, 1);
export const create_singlethread_workqueue = (name: string): Workqueue => alloc_ordered_workqueue(name, WQ_MEM_RECLAIM);

export const system_wq = alloc_workqueue('events', 0, 0);
export const system_highpri_wq = alloc_workqueue('events_highpri', WQ_HIGHPRI, 0);
export const system_long_wq = alloc_workqueue('events_long', 0, 0);
export const system_unbound_wq = alloc_workqueue('events_unbound', WQ_UNBOUND, WQ_MAX_ACTIVE);
export const system_freezable_wq = alloc_workqueue('events_freezable', WQ_FREEZABLE, 0);
export const system_power_efficient_wq = alloc_workqueue('events_power_efficient', WQ_POWER_EFFICIENT, 0);

function schedulePump(wq: Workqueue): void {
  if (wq._pumpQueued) return;
  wq._pumpQueued = true;
  setImmediate(() => { wq._pumpQueued = false; pump(wq); });
}

/** Starts runnable items: FIFO, at most max_active, never an item that is still running. */
function pump(wq: Workqueue): void {
  let started = 0;
  for (let i = 0; i < wq._queue.length && wq._active < wq.max_active;) {
    const w = wq._queue[i]!;
    if (w._running !== 0) {
      if (wq.ordered) return;
      i++;
      continue;
    }
    if (started++ >= BATCH) { schedulePump(wq); return; }
    wq._queue.splice(i, 1);
    runWork(wq, w);
  }
}

function runWork(wq: Workqueue, w: WorkStruct): void {
  const ticket = w._pending;
  w._pending = 0;
  w._wq = null;
  w._running = ticket;
  wq._active++;
  wq._runningItems.add(w);
  const done = (): void => {
    w._running = 0;
    wq._active--;
    wq._runningItems.delete(w);
    wq._tickets.delete(ticket);
    retire(ticket);
    if (wq._queue.length > 0) schedulePump(wq);
    if (w._wq && w._wq !== wq) schedulePump(w._wq); // it waited on another queue for this run to end
  };
  if (w._env) setDriverEnv(w._env);
  let r: void | Promise<void>;
  try {
    r = lockdep_task(w._env, `kworker ${wq.name}:${w.func?.name || 'anonymous'}`, () => w.func!(w));
  } catch (e) {
    kapi_fault(e, `work function ${w.func?.name || 'anonymous'}`, w._env);
    done();
    return;
  }
  if (r instanceof Promise) r.then(done, (e: unknown) => { kapi_fault(e, `work function ${w.func?.name || 'anonymous'}`, w._env); done(); });
  else done();
}

function enqueue(wq: Workqueue, w: WorkStruct): void {
  const ticket = nextTicket++;
  w._pending = ticket;
  w._wq = wq;
  inflight.add(ticket);
  wq._tickets.add(ticket);
  wq._queue.push(w);
  schedulePump(wq);
}

function refuse(wq: Workqueue, w: WorkStruct): boolean {
  if (!w.func) {
    kapi_report('work-no-function', 3, 'BUG: queueing a work item without a function (INIT_WORK missing)');
    return true;
  }
  if (wq._destroyed) {
    kapi_report('wq-destroyed', 3, `BUG: queue_work on destroyed workqueue ${wq.name}`, { env: w._env });
    return true;
  }
  return false;
}

/** queue_work(wq, work): true if queued, false if it was already pending (or being cancelled). */
export function queue_work(wq: Workqueue, work: WorkStruct): boolean {
  if (work_pending(work) || work._canceling > 0 || refuse(wq, work)) return false;
  enqueue(wq, work);
  return true;
}
/** queue_work_on(cpu, wq, work): there is one CPU. */
export const queue_work_on = (_cpu: number, wq: Workqueue, work: WorkStruct): boolean => queue_work(wq, work);
export const schedule_work = (work: WorkStruct): boolean => queue_work(system_wq, work);

/** Removes a pending (queued, not started) instance; true if there was one. */
function unqueue(w: WorkStruct): boolean {
  if (w._pending === 0) return false;
  const wq = w._wq!;
  const i = wq._queue.indexOf(w);
  if (i >= 0) wq._queue.splice(i, 1);
  const t = w._pending;
  w._pending = 0;
  w._wq = null;
  wq._tickets.delete(t);
  retire(t);
  return true;
}

/** flush_work(work): waits until its last queueing has finished; true if it had to wait. */
export async function flush_work(work: WorkStruct): Promise<boolean> {
  might_sleep('flush_work()');
  if (work._dwork && timer_pending(work._dwork.timer)) {
    del_timer(work._dwork.timer);
    enqueue(work._dwork.wq ?? system_wq, work);
  }
  const tickets = [work._pending, work._running].filter((t) => t !== 0);
  if (tickets.length === 0) return false;
  await waitTickets(tickets);
  return true;
}

/** cancel_work(work): removes it if pending; true if it was. Does not wait for a running instance. */
export function cancel_work(work: WorkStruct): boolean {
  return unqueue(work);
}

/** cancel_work_sync(work): cancels and waits for a running instance; true if it was pending. */
export async function cancel_work_sync(work: WorkStruct): Promise<boolean> {
  might_sleep('cancel_work_sync()');
  work._canceling++;
  try {
    const was = unqueue(work) || (work._dwork !== null && del_timer(work._dwork.timer) === 1);
    if (work._running) await waitTickets([work._running]);
    return was;
  } finally {
    work._canceling--;
  }
}

/** flush_workqueue(wq): waits for everything queued on `wq` before the call. */
export async function flush_workqueue(wq: Workqueue): Promise<void> {
  might_sleep('flush_workqueue()');
  await waitTickets([...wq._tickets]);
}

/** drain_workqueue(wq): flushes until empty, including work its items queue on it meanwhile. */
export async function drain_workqueue(wq: Workqueue): Promise<void> {
  might_sleep('drain_workqueue()');
  for (let round = 1; wq._tickets.size > 0; round++) {
    if (round % 100 === 0) kapi_report('wq-drain', 4, `WARNING: workqueue ${wq.name}: still busy after ${round} drain rounds`, { site: '', key: wq.name });
    await waitTickets([...wq._tickets]);
  }
}

/** destroy_workqueue(wq): drains, then refuses further queueing. */
export async function destroy_workqueue(wq: Workqueue): Promise<void> {
  await drain_workqueue(wq);
  wq._destroyed = true;
  workqueues.delete(wq);
}

/** flush_scheduled_work(): flushes system_wq (deprecated on Linux; kept for old drivers). */
export const flush_scheduled_work = (): Promise<void> => flush_workqueue(system_wq);

// ---- delayed_work --------------------------------------------------------------------------------

export class DelayedWork {
  readonly work = new WorkStruct();
  readonly timer = new TimerList();
  /** @internal The workqueue the timer will queue on. */ wq: Workqueue | null = null;
  constructor() { this.work._dwork = this; }
}
export type delayed_work = DelayedWork;

/** to_delayed_work(work): the DelayedWork around a work item (in a delayed work function). */
export function to_delayed_work(work: WorkStruct): DelayedWork {
  if (!work._dwork) throw new Error('to_delayed_work: not the work of a delayed_work');
  return work._dwork;
}

/** INIT_DELAYED_WORK(dwork, fn): `fn(dwork.work)` runs (process context) after the delay. */
export function INIT_DELAYED_WORK(dwork: DelayedWork, fn: WorkFn): void {
  INIT_WORK(dwork.work, fn);
  timer_setup(dwork.timer, () => {
    const wq = dwork.wq ?? system_wq;
    if (wq._destroyed) { kapi_report('wq-destroyed', 3, `BUG: delayed work fired on destroyed workqueue ${wq.name}`, { site: '', key: wq.name, env: dwork.work._env }); return; }
    enqueue(wq, dwork.work);
  }, 0);
  __timer_kind(dwork.timer, 'delayed_work', fn.name || 'anonymous');
}
export const INIT_DEFERRABLE_WORK = INIT_DELAYED_WORK;

export function DECLARE_DELAYED_WORK(fn: WorkFn): DelayedWork {
  const d = new DelayedWork();
  INIT_DELAYED_WORK(d, fn);
  return d;
}

function armDelayed(wq: Workqueue, dwork: DelayedWork, delay: number): void {
  dwork.wq = wq;
  if (delay <= 0) enqueue(wq, dwork.work);
  else mod_timer(dwork.timer, jiffies() + delay);
}

/** queue_delayed_work(wq, dwork, delay): queues after `delay` jiffies; false if already pending. */
export function queue_delayed_work(wq: Workqueue, dwork: DelayedWork, delay: number): boolean {
  if (work_pending(dwork.work) || dwork.work._canceling > 0 || refuse(wq, dwork.work)) return false;
  armDelayed(wq, dwork, delay);
  return true;
}
export const schedule_delayed_work = (dwork: DelayedWork, delay: number): boolean => queue_delayed_work(system_wq, dwork, delay);

/** mod_delayed_work(wq, dwork, delay): (re)arms with the new delay; true if it was pending. */
export function mod_delayed_work(wq: Workqueue, dwork: DelayedWork, delay: number): boolean {
  if (dwork.work._canceling > 0 || refuse(wq, dwork.work)) return false;
  const was = del_timer(dwork.timer) === 1 || unqueue(dwork.work);
  armDelayed(wq, dwork, delay);
  return was;
}

/** cancel_delayed_work(dwork): true if it was pending (timer or queue); does not wait. */
export function cancel_delayed_work(dwork: DelayedWork): boolean {
  return del_timer(dwork.timer) === 1 || unqueue(dwork.work);
}

/** cancel_delayed_work_sync(dwork): cancels and waits for a running instance. */
export const cancel_delayed_work_sync = (dwork: DelayedWork): Promise<boolean> => cancel_work_sync(dwork.work);

/** flush_delayed_work(dwork): queues it now if its timer is pending, then flush_work. */
export const flush_delayed_work = (dwork: DelayedWork): Promise<boolean> => flush_work(dwork.work);

export const delayed_work_pending = (dwork: DelayedWork): boolean => work_pending(dwork.work);

// ---- pending work registry -------------------------------------------------------------------

export interface PendingWork {
  readonly workqueue: string;
  readonly name: string;
  readonly state: 'pending' | 'running';
  readonly env: DriverEnv | null;
}

/**
 * Work items queued or running (optionally only `env`'s), for the debug mode's unbind check.
 * Delayed work whose timer is still armed is listed by `pendingTimers()` (kind 'delayed_work').
 */
export function pendingWork(env?: DriverEnv): PendingWork[] {
  const out: PendingWork[] = [];
  const add = (wq: Workqueue, w: WorkStruct, state: PendingWork['state']): void => {
    if (env === undefined || w._env === env) out.push({ workqueue: wq.name, name: w.func?.name || 'anonymous', state, env: w._env });
  };
  for (const wq of workqueues) {
    for (const w of wq._runningItems) add(wq, w, 'running');
    for (const w of wq._queue) add(wq, w, 'pending');
  }
  return out;
}

// ---- tasklets --------------------------------------------------------------------------------------

export class Tasklet {
  /** tasklet_setup style: callback(t). */
  callback: ((t: Tasklet) => void) | null = null;
  /** tasklet_init style: func(data). */
  func: ((data: unknown) => void) | null = null;
  data: unknown = undefined;
  /** @internal */ _scheduled = false;
  /** @internal */ _running = false;
  /** @internal */ _disabled = 0;
  /** @internal Resolved when it next runs (tasklet_kill). */ _ran: (() => void)[] = [];
  /** @internal */ _env: DriverEnv | null = null;
}
export type tasklet_struct = Tasklet;

export function tasklet_setup(t: Tasklet, callback: (t: Tasklet) => void): void {
  t.callback = callback;
  t.func = null;
  t._env = currentEnvOrNull();
}

export function tasklet_init(t: Tasklet, func: (data: unknown) => void, data: unknown): void {
  t.func = func;
  t.data = data;
  t.callback = null;
  t._env = currentEnvOrNull();
}

export function DECLARE_TASKLET(callback: (t: Tasklet) => void): Tasklet {
  const t = new Tasklet();
  tasklet_setup(t, callback);
  return t;
}

let softirqList: Tasklet[] = [];
let softirqQueued = false;
let inSoftirqRun = false;

function raiseSoftirq(): void {
  if (softirqQueued) return;
  softirqQueued = true;
  if (inSoftirqRun) setImmediate(runSoftirqs);
  else queueMicrotask(runSoftirqs);
}

function runSoftirqs(): void {
  softirqQueued = false;
  const batch = softirqList;
  softirqList = [];
  inSoftirqRun = true;
  try {
    for (const t of batch) {
      if (t._disabled > 0) continue; // stays scheduled; tasklet_enable raises it again
      t._scheduled = false;
      runTasklet(t);
    }
  } finally {
    inSoftirqRun = false;
  }
}

function runTasklet(t: Tasklet): void {
  if (t._env) setDriverEnv(t._env);
  const name = (t.callback ?? t.func)?.name || 'anonymous';
  t._running = true;
  enter_softirq();
  let r: unknown;
  try {
    r = t.callback ? t.callback(t) : t.func?.(t.data);
  } catch (e) {
    kapi_fault(e, `tasklet ${name}`, t._env);
  } finally {
    exit_softirq();
    t._running = false;
  }
  if (r instanceof Promise) {
    kapi_report('async-tasklet', 3, `BUG: tasklet ${name} is async: tasklets run in softirq context and must not sleep`, { site: '', key: name, env: t._env });
    r.catch((e: unknown) => kapi_fault(e, `tasklet ${name}`, t._env));
  }
  for (const f of t._ran.splice(0)) f();
}

/** tasklet_schedule(t): runs `t` once soon, in softirq context (no-op if already scheduled). */
export function tasklet_schedule(t: Tasklet): void {
  if (t._scheduled) return;
  t._scheduled = true;
  softirqList.push(t);
  raiseSoftirq();
}
export const tasklet_hi_schedule = tasklet_schedule;

/** tasklet_disable(t): a scheduled tasklet waits until tasklet_enable. */
export function tasklet_disable(t: Tasklet): void { t._disabled++; }
export const tasklet_disable_nosync = tasklet_disable;

export function tasklet_enable(t: Tasklet): void {
  if (t._disabled > 0) t._disabled--;
  if (t._disabled === 0 && t._scheduled && !softirqList.includes(t)) {
    softirqList.push(t);
    raiseSoftirq();
  }
}

/** tasklet_kill(t): waits for a scheduled run to happen; afterwards `t` is idle. */
export async function tasklet_kill(t: Tasklet): Promise<void> {
  might_sleep('tasklet_kill()');
  if (!t._scheduled) return;
  if (t._disabled > 0) {
    kapi_report('tasklet-kill-disabled', 4, 'WARNING: tasklet_kill() of a disabled, scheduled tasklet: dropping the scheduled run');
    t._scheduled = false;
    softirqList = softirqList.filter((x) => x !== t);
    return;
  }
  await new Promise<void>((resolve) => t._ran.push(resolve));
}

// ---- kthreads ------------------------------------------------------------------------------------

export type KthreadFn<D> = (data: D, task: TaskStruct) => number | void | Promise<number | void>;

export class TaskStruct {
  /** @internal */ _shouldStop = false;
  /** @internal */ _started = false;
  /** @internal */ _exited = false;
  /** @internal */ _result = 0;
  /** @internal */ _done: Promise<number> | null = null;
  /** @internal */ _start: (() => void) | null = null;
  constructor(readonly comm: string) {}
}
export type task_struct = TaskStruct;

/** kthread_create(fn, data, name): a thread that starts on wake_up_process(task). */
export function kthread_create<D>(fn: KthreadFn<D>, data: D, name: string): TaskStruct {
  const task = new TaskStruct(name);
  const env = currentEnvOrNull();
  task._start = () => {
    task._start = null;
    task._started = true;
    task._done = new Promise<number>((resolve) => {
      setImmediate(() => {
        if (env) setDriverEnv(env);
        const finish = (r: number | void): void => { task._exited = true; task._result = typeof r === 'number' ? r : 0; resolve(task._result); };
        const fail = (e: unknown): void => { kapi_fault(e, `kthread ${name}`, env); finish(-EINTR); };
        try {
          const r = lockdep_task(env, `kthread ${name}`, () => fn(data, task));
          if (r instanceof Promise) r.then(finish, fail);
          else finish(r);
        } catch (e) { fail(e); }
      });
    });
  };
  return task;
}

/** wake_up_process(task): starts a kthread_create'd thread; 1 if it was not running yet. */
export function wake_up_process(task: TaskStruct): number {
  if (!task._start || task._shouldStop) return 0;
  task._start();
  return 1;
}

/** kthread_run(fn, data, name): creates and starts a kernel thread: `fn(data, task)`. */
export function kthread_run<D>(fn: KthreadFn<D>, data: D, name: string): TaskStruct {
  const task = kthread_create(fn, data, name);
  wake_up_process(task);
  return task;
}

/** kthread_should_stop(task): true once kthread_stop(task) was called. */
export const kthread_should_stop = (task: TaskStruct): boolean => task._shouldStop;

/** kthread_stop(task): asks the thread to stop, waits for it to return; resolves its result. */
export async function kthread_stop(task: TaskStruct): Promise<number> {
  might_sleep('kthread_stop()');
  task._shouldStop = true;
  if (!task._started) { task._start = null; task._exited = true; return -EINTR; }
  return task._done!;
}
