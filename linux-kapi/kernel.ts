/**
 * @module kapi/kernel
 * The container's link to the kernel (set by module_init), and printk.
 *
 * Differs from Linux: there is no global kernel; a driver's kapi calls go to the `DriverEnv`
 * of the container it runs in. In IC0 several drivers share this module, so the kapi re-enters
 * the right driver's env at every entry into driver code (module_init, probe, remove, file
 * operations, IRQ handlers), and objects that need the env (devices, misc devices, files,
 * wait queues used for poll) capture it when created. Only code running after an `await`
 * that uses an env-less call (printk, module_param) may see another IC0 driver's env.
 */
import type { DriverEnv, LogLevel } from '../framework/driver-port.js';

let currentEnv: DriverEnv | null = null;
const paramsOf = new WeakMap<DriverEnv, Readonly<Record<string, unknown>>>();

export function setDriverEnv(env: DriverEnv): void { currentEnv = env; }

/** The env of the driver code now running, if any (no throw, unlike driverEnv()). */
export function currentDriverEnv(): DriverEnv | null { return currentEnv; }

/** Records a driver's module parameters (module_init) for module_param. */
export function setModuleParams(env: DriverEnv, params: Readonly<Record<string, unknown>>): void { paramsOf.set(env, params); }
export function moduleParams(): Readonly<Record<string, unknown>> { return currentEnv ? (paramsOf.get(currentEnv) ?? {}) : {}; }

export function driverEnv(): DriverEnv {
  if (!currentEnv) throw new Error('linux-kapi used outside a driver container (no module_init yet)');
  return currentEnv;
}

export const KERN_EMERG = 0, KERN_ALERT = 1, KERN_CRIT = 2, KERN_ERR = 3, KERN_WARNING = 4,
  KERN_NOTICE = 5, KERN_INFO = 6, KERN_DEBUG = 7;

/** printk(level, fmt-less message). Formatting is the caller's template string. */
export function printk(level: LogLevel, msg: string): void {
  driverEnv().log(level, msg);
}
export const pr_err = (m: string): void => printk(3, m);
export const pr_warn = (m: string): void => printk(4, m);
export const pr_notice = (m: string): void => printk(5, m);
export const pr_info = (m: string): void => printk(6, m);
export const pr_debug = (m: string): void => printk(7, m);
export const pr_emerg = (m: string): void => printk(0, m);
export const pr_alert = (m: string): void => printk(1, m);
export const pr_crit = (m: string): void => printk(2, m);
export const pr_warning = pr_warn;
/** pr_cont: continuation lines are separate log records here (no partial-line buffer). */
export const pr_cont = (m: string): void => printk(6, m);
export const pr_devel = pr_debug;

/** Messages printed by the *_once variants (per env: each driver container has its own). */
const onceSeen = new WeakMap<DriverEnv, Set<string>>();
/** Ratelimit state per (env, message key): Linux's DEFAULT_RATELIMIT_INTERVAL 5 s, BURST 10. */
const rlState = new WeakMap<DriverEnv, Map<string, { start: number; printed: number; missed: number }>>();
export const DEFAULT_RATELIMIT_INTERVAL_MS = 5000, DEFAULT_RATELIMIT_BURST = 10;

/**
 * @internal True if a message keyed `key` may be printed now through `env` (at most BURST per
 * interval); a summary of the suppressed count is logged when a new interval starts.
 */
export function __ratelimit(env: DriverEnv, key: string, binding?: number): boolean {
  let m = rlState.get(env);
  if (!m) { m = new Map(); rlState.set(env, m); }
  const now = performance.now();
  let s = m.get(key);
  if (!s || now - s.start >= DEFAULT_RATELIMIT_INTERVAL_MS) {
    if (s && s.missed > 0) env.log(4, `${s.missed} callbacks suppressed`, binding);
    s = { start: now, printed: 0, missed: 0 };
    if (m.size > 1000) m.clear();
    m.set(key, s);
  }
  if (s.printed < DEFAULT_RATELIMIT_BURST) { s.printed++; return true; }
  s.missed++;
  return false;
}

/** @internal True the first time `key` is seen for `env`. */
export function __once(env: DriverEnv, key: string): boolean {
  let seen = onceSeen.get(env);
  if (!seen) { seen = new Set(); onceSeen.set(env, seen); }
  if (seen.has(key)) return false;
  seen.add(key);
  return true;
}

/** printk_once(level, msg): printed once per message text (Linux: once per call site). */
export function printk_once(level: LogLevel, msg: string): void {
  const env = driverEnv();
  if (__once(env, `${level}\0${msg}`)) env.log(level, msg);
}
/** printk_ratelimited(level, msg): at most 10 messages per 5 s per level and first 40 characters. */
export function printk_ratelimited(level: LogLevel, msg: string): void {
  const env = driverEnv();
  if (__ratelimit(env, `${level}\0${msg.slice(0, 40)}`)) env.log(level, msg);
}
export const pr_err_once = (m: string): void => printk_once(3, m);
export const pr_warn_once = (m: string): void => printk_once(4, m);
export const pr_info_once = (m: string): void => printk_once(6, m);
export const pr_err_ratelimited = (m: string): void => printk_ratelimited(3, m);
export const pr_warn_ratelimited = (m: string): void => printk_ratelimited(4, m);
export const pr_info_ratelimited = (m: string): void => printk_ratelimited(6, m);
export const pr_debug_ratelimited = (m: string): void => printk_ratelimited(7, m);
