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
