/**
 * @module linux/pm_runtime.h (+ the runtime half of linux/pm.h's dev_pm_ops)
 * Runtime power management: a per-device usage count and a state (active / suspended); the
 * driver's `runtime_suspend` / `runtime_resume` / `runtime_idle` callbacks (the platform
 * driver's `driver.pm`, Linux's `.driver.pm`) run on the transitions; autosuspend suspends a
 * device `autosuspend_delay` ms after its last `pm_runtime_mark_last_busy`.
 *
 * ```ts
 * // probe
 * pm_runtime_set_autosuspend_delay(dev, 50);
 * pm_runtime_use_autosuspend(dev);
 * pm_runtime_set_active(dev);                   // the hardware is on after probe
 * devm_pm_runtime_enable(dev);
 * // an I/O path
 * const ret = await pm_runtime_resume_and_get(dev);
 * if (ret < 0) return ret;
 * ...
 * pm_runtime_mark_last_busy(dev);
 * pm_runtime_put_autosuspend(dev);
 * // the driver: { name, pm: { ...RUNTIME_PM_OPS(my_suspend, my_resume, null) } }
 * ```
 *
 * Differs from Linux, and why:
 * - **Calls that may run a callback are async** (`pm_runtime_get_sync`, `pm_runtime_resume_and_get`,
 *   `pm_runtime_put_sync*`, `pm_runtime_suspend`/`resume`/`idle`, `pm_runtime_disable`): a
 *   callback may sleep, and sleeping is awaiting. The async requests (`pm_runtime_get`,
 *   `pm_runtime_put`, `pm_runtime_put_autosuspend`) return at once and run the transition from a
 *   work item on the `pm` workqueue, as Linux's pm_wq does; the autosuspend timer is that work's
 *   delayed_work timer (kapi time: virtual in tests that set a VirtualClock).
 * - **Only runtime PM**: there is no system suspend (the `suspend`/`resume`/... members of
 *   `dev_pm_ops` are accepted and never called), no PM domains, no device links, no
 *   parent/child propagation (a platform device here has no power parent), no `power/` sysfs
 *   files (`pm_runtime_forbid`/`allow`), and `pm_runtime_irq_safe` is accepted and ignored.
 * - A failing callback leaves the device in its previous state and returns the error; Linux
 *   also latches `runtime_error` (later calls fail with -EINVAL until `pm_runtime_set_*`),
 *   which is not modelled. A callback that throws leaves the previous state and the throw goes
 *   on (to the caller, or the work item's fault path).
 * - A negative autosuspend delay blocks autosuspend as on Linux (it takes a usage count).
 * - Reports (once per call site): "Runtime PM usage count underflow!" (the count stays 0),
 *   "Unbalanced pm_runtime_enable!". With the debug mode on, runtime PM still enabled at unbind
 *   (`pm_runtime_enable` without `pm_runtime_disable`; use `devm_pm_runtime_enable`) is reported
 *   by the unbind check. At unbind the callbacks are detached (Linux: `dev->driver` is NULL)
 *   and a pending request cancelled, so nothing calls into an unbound driver.
 */
import type { Device } from './device.js';
import { devm_add_action } from './device.js';
import { EACCES, EAGAIN, EINVAL, EIO } from './errno.js';
import { kapi_fault, kapi_report } from './bug.js';
import { debug_site } from './debug.js';
import { setDriverEnv } from './kernel.js';
import { ktime_get, msecs_to_jiffies } from './time.js';
import { track_resource, untrack_resource, type TrackedResource } from './unbind-check.js';
import { alloc_workqueue, cancel_delayed_work, DelayedWork, INIT_DELAYED_WORK, mod_delayed_work, WQ_FREEZABLE } from './workqueue.js';

type PmCallback = (dev: Device) => number | void | Promise<number | void>;

/** struct dev_pm_ops: the runtime callbacks are used; the system-sleep ones are accepted only. */
export interface DevPmOps {
  runtime_suspend?: PmCallback | null;
  runtime_resume?: PmCallback | null;
  runtime_idle?: PmCallback | null;
  suspend?: PmCallback | null;
  resume?: PmCallback | null;
  freeze?: PmCallback | null;
  thaw?: PmCallback | null;
  poweroff?: PmCallback | null;
  restore?: PmCallback | null;
  suspend_late?: PmCallback | null;
  resume_early?: PmCallback | null;
  suspend_noirq?: PmCallback | null;
  resume_noirq?: PmCallback | null;
}
export type dev_pm_ops = DevPmOps;

/** RUNTIME_PM_OPS(suspend, resume, idle) / SET_RUNTIME_PM_OPS: spread into a DevPmOps. */
export const RUNTIME_PM_OPS = (suspend: PmCallback | null, resume: PmCallback | null, idle: PmCallback | null = null): DevPmOps =>
  ({ runtime_suspend: suspend, runtime_resume: resume, runtime_idle: idle });
export const SET_RUNTIME_PM_OPS = RUNTIME_PM_OPS;
/** SYSTEM_SLEEP_PM_OPS(suspend, resume) / SET_SYSTEM_SLEEP_PM_OPS: accepted, never called here. */
export const SYSTEM_SLEEP_PM_OPS = (suspend: PmCallback | null, resume: PmCallback | null): DevPmOps =>
  ({ suspend, resume, freeze: suspend, thaw: resume, poweroff: suspend, restore: resume });
export const SET_SYSTEM_SLEEP_PM_OPS = SYSTEM_SLEEP_PM_OPS;
/** DEFINE_RUNTIME_DEV_PM_OPS(suspend, resume, idle): the runtime ops, with system sleep forcing them. */
export const DEFINE_RUNTIME_DEV_PM_OPS = (suspend: PmCallback | null, resume: PmCallback | null, idle: PmCallback | null = null): DevPmOps =>
  ({ ...SYSTEM_SLEEP_PM_OPS(suspend, resume), ...RUNTIME_PM_OPS(suspend, resume, idle) });
/** pm_ptr(ops), pm_sleep_ptr(ops): the ops (CONFIG_PM is always on). */
export const pm_ptr = <T>(ops: T): T => ops;
export const pm_sleep_ptr = pm_ptr;

type Status = 'active' | 'resuming' | 'suspended' | 'suspending';
type Request = 'none' | 'idle' | 'suspend' | 'autosuspend' | 'resume';

/** The pm_wq of Linux: async requests and autosuspend run here. */
const pm_wq = alloc_workqueue('pm', WQ_FREEZABLE, 0);

/** dev->power. */
class DevPmInfo {
  status: Status = 'suspended';
  disable_depth = 1;
  usage_count = 0;
  use_autosuspend = false;
  autosuspend_delay = 0;
  /** ns on the kapi clock. */
  last_busy = 0n;
  no_callbacks = false;
  /** The transition in flight (its callback's result). */
  busy: Promise<number> | null = null;
  request: Request = 'none';
  readonly work = new DelayedWork();
  /** The unbind check's record while enabled by pm_runtime_enable (not devm). */
  tracked: TrackedResource | undefined = undefined;
  /** Callbacks run so far, by name (for tests and `pm_runtime_debug_state`). */
  readonly calls = { runtime_suspend: 0, runtime_resume: 0, runtime_idle: 0 };
  constructor(readonly dev: Device) {
    // The work runs in the env current at INIT (the device's driver).
    setDriverEnv(dev.env);
    const pm_runtime_work = (): Promise<void> => rpm_work(this);
    INIT_DELAYED_WORK(this.work, pm_runtime_work);
  }
}

const infos = new WeakMap<Device, DevPmInfo>();
/** dev->driver->pm: set by module_platform_driver while the device is bound. */
const opsOf = new WeakMap<Device, DevPmOps | null>();

function pm(dev: Device): DevPmInfo {
  let p = infos.get(dev);
  if (!p) { p = new DevPmInfo(dev); infos.set(dev, p); }
  return p;
}

/** @internal module.ts: the bound driver's `driver.pm` (null at unbind, as dev->driver = NULL). */
export function __set_dev_pm_ops(dev: Device, ops: DevPmOps | null | undefined): void {
  opsOf.set(dev, ops ?? null);
}

/** @internal module.ts, after remove and devres: detach the callbacks, cancel a pending request. */
export function __pm_runtime_unbind(dev: Device): void {
  opsOf.set(dev, null);
  const p = infos.get(dev);
  if (p) cancelRequest(p);
}

/** The runtime PM state of `dev` (hmdrv addition, for tests and debugging; Linux: dev->power). */
export function pm_runtime_debug_state(dev: Device): {
  status: Status; usage_count: number; disable_depth: number; use_autosuspend: boolean; autosuspend_delay: number;
  request: Request; calls: { runtime_suspend: number; runtime_resume: number; runtime_idle: number };
} {
  const p = pm(dev);
  return {
    status: p.status, usage_count: p.usage_count, disable_depth: p.disable_depth, use_autosuspend: p.use_autosuspend,
    autosuspend_delay: p.autosuspend_delay, request: p.request, calls: { ...p.calls },
  };
}

// ---- the state machine (drivers/base/power/runtime.c, simplified) -----------------------------------

function cancelRequest(p: DevPmInfo): void {
  p.request = 'none';
  cancel_delayed_work(p.work);
}

function queueRequest(p: DevPmInfo, req: Request, delay_ms = 0): void {
  p.request = req;
  mod_delayed_work(pm_wq, p.work, delay_ms > 0 ? msecs_to_jiffies(delay_ms) : 0);
}

async function rpm_work(p: DevPmInfo): Promise<void> {
  const req = p.request;
  p.request = 'none';
  if (req === 'idle') await rpm_idle(p);
  else if (req === 'suspend') await rpm_suspend(p, false);
  else if (req === 'autosuspend') await rpm_suspend(p, true);
  else if (req === 'resume') await rpm_resume(p);
}

/**
 * Runs one callback as the transition `via`, landing in `ok` (it returned 0) or `fail` (it
 * returned an error or threw; a throw goes on to the caller). `busy` settles either way.
 */
async function transition(p: DevPmInfo, via: 'suspending' | 'resuming', cb: 'runtime_suspend' | 'runtime_resume',
  ok: Status, fail: Status): Promise<number> {
  p.status = via;
  let settle: (r: number) => void = () => undefined;
  p.busy = new Promise<number>((resolve) => { settle = resolve; });
  let ret = -EIO;
  let returned = false;
  try {
    const fn = p.no_callbacks ? null : opsOf.get(p.dev)?.[cb];
    if (fn) {
      p.calls[cb]++;
      setDriverEnv(p.dev.env);
      ret = (await fn(p.dev)) ?? 0;
    } else {
      ret = 0;
    }
    returned = true;
  } finally {
    p.status = returned && ret === 0 ? ok : fail;
    p.busy = null;
    settle(returned ? ret : -EIO);
  }
  return ret;
}

async function rpm_resume(p: DevPmInfo): Promise<number> {
  for (;;) {
    if (p.disable_depth > 0) return p.status === 'active' ? 1 : -EACCES;
    if (p.request !== 'resume') cancelRequest(p);
    if (p.status === 'active') return 1;
    if (p.busy) { await p.busy; continue; }
    return transition(p, 'resuming', 'runtime_resume', 'active', 'suspended');
  }
}

async function rpm_suspend(p: DevPmInfo, auto: boolean): Promise<number> {
  for (;;) {
    if (p.disable_depth > 0) return -EACCES;
    if (p.usage_count > 0) return -EAGAIN;
    if (p.status === 'suspended') return 1;
    if (p.status === 'resuming') return -EAGAIN;
    if (p.busy) { await p.busy; continue; }
    if (auto && p.use_autosuspend) {
      const due = p.last_busy + BigInt(p.autosuspend_delay) * 1_000_000n;
      const left = due - ktime_get();
      if (left > 0n) {
        queueRequest(p, 'autosuspend', Math.ceil(Number(left) / 1e6));
        return 0;
      }
    }
    cancelRequest(p);
    return transition(p, 'suspending', 'runtime_suspend', 'suspended', 'active');
  }
}

async function rpm_idle(p: DevPmInfo): Promise<number> {
  if (p.disable_depth > 0) return -EACCES;
  if (p.usage_count > 0) return -EAGAIN;
  if (p.status !== 'active') return -EAGAIN;
  const fn = p.no_callbacks ? null : opsOf.get(p.dev)?.runtime_idle;
  if (fn) {
    p.calls.runtime_idle++;
    setDriverEnv(p.dev.env);
    const r = (await fn(p.dev)) ?? 0;
    if (r !== 0) return r;
  }
  return rpm_suspend(p, true);
}

/** Drops a usage count: the new count, or -EINVAL (reported) when it was already 0. */
function dropUsage(p: DevPmInfo): number {
  if (p.usage_count <= 0) {
    kapi_report('rpm-underflow', 4, `WARNING: ${p.dev.init_name}: Runtime PM usage count underflow!`,
      { env: p.dev.env, binding: p.dev.binding, key: p.dev.init_name });
    return -EINVAL;
  }
  return --p.usage_count;
}

/** A transition started by a call that does not wait for it: a throwing callback is a fault. */
function background(p: DevPmInfo, run: Promise<number>): void {
  run.catch((e: unknown) => kapi_fault(e, `runtime PM callback of ${p.dev.init_name}`, p.dev.env));
}

/** Linux's update_autosuspend: a negative delay with autosuspend in use holds a usage count. */
async function updateAutosuspend(p: DevPmInfo, oldDelay: number, oldUse: boolean): Promise<number> {
  if (p.use_autosuspend && p.autosuspend_delay < 0) {
    if (!oldUse || oldDelay >= 0) { p.usage_count++; return rpm_resume(p); }
    return 0;
  }
  if (oldUse && oldDelay < 0) p.usage_count--;
  return rpm_idle(p);
}

// ---- the API -----------------------------------------------------------------------------------------

/** pm_runtime_enable(dev): allows runtime PM ("Unbalanced pm_runtime_enable!" if already on). */
export function pm_runtime_enable(dev: Device): void {
  enable(pm(dev), true);
}

function enable(p: DevPmInfo, track: boolean): void {
  if (p.disable_depth === 0) {
    kapi_report('rpm-unbalanced', 4, `WARNING: ${p.dev.init_name}: Unbalanced pm_runtime_enable!`,
      { env: p.dev.env, binding: p.dev.binding, key: p.dev.init_name });
    return;
  }
  if (--p.disable_depth > 0 || !track) return;
  p.tracked = track_resource(p.dev, {
    kind: 'runtime PM', name: 'enable', site: debug_site(p.dev.env),
    hint: 'pm_runtime_enable without pm_runtime_disable in remove; or use devm_pm_runtime_enable',
  });
}

/**
 * pm_runtime_disable(dev): forbids runtime PM (nested) and cancels a pending request at once;
 * resolves when a transition in flight has finished.
 */
export async function pm_runtime_disable(dev: Device): Promise<void> {
  const p = pm(dev);
  p.disable_depth++;
  cancelRequest(p);
  untrack_resource(dev, p.tracked);
  p.tracked = undefined;
  while (p.busy) await p.busy;
}

/** devm_pm_runtime_enable(dev): pm_runtime_enable, undone at unbind (dont_use_autosuspend + disable). */
export function devm_pm_runtime_enable(dev: Device): number {
  const p = pm(dev);
  enable(p, false);
  devm_add_action(dev, async () => {
    await pm_runtime_dont_use_autosuspend_sync(dev);
    await pm_runtime_disable(dev);
  });
  return 0;
}

/** pm_runtime_set_active(dev): declares the device active; only while disabled (-EAGAIN if not). */
export function pm_runtime_set_active(dev: Device): number {
  const p = pm(dev);
  if (p.disable_depth === 0) return -EAGAIN;
  p.status = 'active';
  return 0;
}

/** pm_runtime_set_suspended(dev): declares the device suspended; only while disabled. */
export function pm_runtime_set_suspended(dev: Device): number {
  const p = pm(dev);
  if (p.disable_depth === 0) return -EAGAIN;
  p.status = 'suspended';
  return 0;
}

/** pm_runtime_get_sync(dev): takes a usage count and resumes; 1 if it was active, 0, or -errno (count kept). */
export async function pm_runtime_get_sync(dev: Device): Promise<number> {
  const p = pm(dev);
  p.usage_count++;
  return rpm_resume(p);
}

/** pm_runtime_resume_and_get(dev): as get_sync, but 0 on success and the count dropped on failure. */
export async function pm_runtime_resume_and_get(dev: Device): Promise<number> {
  const p = pm(dev);
  p.usage_count++;
  const r = await rpm_resume(p);
  if (r < 0) { dropUsage(p); return r; }
  return 0;
}

/** pm_runtime_get(dev): takes a usage count and requests an asynchronous resume; 1 if active, else 0. */
export function pm_runtime_get(dev: Device): number {
  const p = pm(dev);
  p.usage_count++;
  if (p.status === 'active' && !p.busy) { if (p.request !== 'none') cancelRequest(p); return 1; }
  if (p.disable_depth > 0) return -EACCES;
  queueRequest(p, 'resume');
  return 0;
}

/** pm_runtime_get_noresume(dev): takes a usage count only. */
export function pm_runtime_get_noresume(dev: Device): void {
  pm(dev).usage_count++;
}

/** pm_runtime_get_if_active(dev): a usage count if active (1), else 0; -EINVAL while disabled. */
export function pm_runtime_get_if_active(dev: Device): number {
  const p = pm(dev);
  if (p.disable_depth > 0) return -EINVAL;
  if (p.status !== 'active') return 0;
  p.usage_count++;
  return 1;
}

/** pm_runtime_get_if_in_use(dev): as get_if_active, only if the count is already above 0. */
export function pm_runtime_get_if_in_use(dev: Device): number {
  const p = pm(dev);
  if (p.disable_depth > 0) return -EINVAL;
  if (p.status !== 'active' || p.usage_count === 0) return 0;
  p.usage_count++;
  return 1;
}

/** pm_runtime_put_noidle(dev): drops a usage count only. */
export function pm_runtime_put_noidle(dev: Device): void {
  dropUsage(pm(dev));
}

/** pm_runtime_put(dev): drops a usage count; at 0 an idle request is queued (autosuspend applies). */
export function pm_runtime_put(dev: Device): number {
  const p = pm(dev);
  const n = dropUsage(p);
  if (n !== 0) return n < 0 ? n : 0;
  if (p.disable_depth === 0 && p.status === 'active') queueRequest(p, 'idle');
  return 0;
}

/** pm_runtime_put_autosuspend(dev): drops a usage count; at 0 the autosuspend timer (re)starts. */
export function pm_runtime_put_autosuspend(dev: Device): number {
  const p = pm(dev);
  const n = dropUsage(p);
  if (n !== 0) return n < 0 ? n : 0;
  if (p.disable_depth === 0 && p.status === 'active') queueRequest(p, 'autosuspend');
  return 0;
}

/** pm_runtime_put_sync(dev): drops a usage count; at 0 idles (and suspends) before resolving. */
export async function pm_runtime_put_sync(dev: Device): Promise<number> {
  const p = pm(dev);
  const n = dropUsage(p);
  if (n !== 0) return n < 0 ? n : 0;
  return rpm_idle(p);
}

/** pm_runtime_put_sync_suspend(dev): drops a usage count; at 0 suspends before resolving. */
export async function pm_runtime_put_sync_suspend(dev: Device): Promise<number> {
  const p = pm(dev);
  const n = dropUsage(p);
  if (n !== 0) return n < 0 ? n : 0;
  return rpm_suspend(p, false);
}

/** pm_runtime_put_sync_autosuspend(dev): drops a usage count; at 0 suspends now or arms the timer. */
export async function pm_runtime_put_sync_autosuspend(dev: Device): Promise<number> {
  const p = pm(dev);
  const n = dropUsage(p);
  if (n !== 0) return n < 0 ? n : 0;
  return rpm_suspend(p, true);
}

/** pm_runtime_resume(dev): resumes without a usage count. */
export const pm_runtime_resume = (dev: Device): Promise<number> => rpm_resume(pm(dev));
/** pm_runtime_suspend(dev): suspends now if the count is 0. */
export const pm_runtime_suspend = (dev: Device): Promise<number> => rpm_suspend(pm(dev), false);
/** pm_runtime_autosuspend(dev): suspends, or arms the timer if the device was busy recently. */
export const pm_runtime_autosuspend = (dev: Device): Promise<number> => rpm_suspend(pm(dev), true);
/** pm_runtime_idle(dev): runtime_idle, then suspend (autosuspend applies). */
export const pm_runtime_idle = (dev: Device): Promise<number> => rpm_idle(pm(dev));
/** pm_request_idle / pm_request_autosuspend: the asynchronous forms. */
export function pm_request_idle(dev: Device): number { queueRequest(pm(dev), 'idle'); return 0; }
export function pm_request_autosuspend(dev: Device): number { queueRequest(pm(dev), 'autosuspend'); return 0; }

/** pm_runtime_mark_last_busy(dev): the autosuspend delay counts from now. */
export function pm_runtime_mark_last_busy(dev: Device): void {
  pm(dev).last_busy = ktime_get();
}

/** pm_runtime_set_autosuspend_delay(dev, ms): negative blocks autosuspend (takes a usage count). */
export function pm_runtime_set_autosuspend_delay(dev: Device, ms: number): void {
  const p = pm(dev);
  const old = p.autosuspend_delay;
  p.autosuspend_delay = Number.isFinite(ms) ? Math.trunc(ms) : -1;
  background(p, updateAutosuspend(p, old, p.use_autosuspend));
}

/** pm_runtime_use_autosuspend(dev). */
export function pm_runtime_use_autosuspend(dev: Device): void {
  const p = pm(dev);
  const old = p.use_autosuspend;
  p.use_autosuspend = true;
  background(p, updateAutosuspend(p, p.autosuspend_delay, old));
}

/** pm_runtime_dont_use_autosuspend(dev). */
export function pm_runtime_dont_use_autosuspend(dev: Device): void {
  background(pm(dev), pm_runtime_dont_use_autosuspend_sync(dev));
}

function pm_runtime_dont_use_autosuspend_sync(dev: Device): Promise<number> {
  const p = pm(dev);
  const old = p.use_autosuspend;
  p.use_autosuspend = false;
  return updateAutosuspend(p, p.autosuspend_delay, old);
}

/** pm_runtime_no_callbacks(dev): transitions run without calling the driver. */
export function pm_runtime_no_callbacks(dev: Device): void { pm(dev).no_callbacks = true; }
/** pm_runtime_irq_safe(dev): accepted and ignored (callbacks may sleep here either way). */
export function pm_runtime_irq_safe(_dev: Device): void { /* nothing to do */ }

/** pm_runtime_suspended(dev): suspended and enabled. */
export const pm_runtime_suspended = (dev: Device): boolean => { const p = pm(dev); return p.status === 'suspended' && p.disable_depth === 0; };
/** pm_runtime_status_suspended(dev): suspended, enabled or not. */
export const pm_runtime_status_suspended = (dev: Device): boolean => pm(dev).status === 'suspended';
/** pm_runtime_active(dev): active, or runtime PM disabled. */
export const pm_runtime_active = (dev: Device): boolean => { const p = pm(dev); return p.status === 'active' || p.disable_depth > 0; };
/** pm_runtime_enabled(dev). */
export const pm_runtime_enabled = (dev: Device): boolean => pm(dev).disable_depth === 0;
