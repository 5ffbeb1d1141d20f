/**
 * @module kapi/kernel
 * The container's link to the kernel (set by module_init), and printk.
 *
 * Differs from Linux: there is no global kernel; a driver's kapi calls go to the `DriverEnv`
 * of the container it runs in. In IC0 several drivers share this module, so objects that
 * need the env (devices, misc devices, wait queues used for poll) capture it when created.
 */
import type { DriverEnv, LogLevel } from '../framework/driver-port.js';

let currentEnv: DriverEnv | null = null;

export function setDriverEnv(env: DriverEnv): void { currentEnv = env; }

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
