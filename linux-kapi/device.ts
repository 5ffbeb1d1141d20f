/**
 * @module linux/device.h + linux/platform_device.h
 * struct device / platform_device, drvdata, dev_* logging, devres (devm_*), and properties
 * from the platform file (of_property_read_*, and Linux's fwnode-agnostic device_property_*
 * names for them), of_device_is_compatible / of_match_device against the device's compatible
 * list. devm_kmalloc & co. are garbage-collected like kmalloc (mm.ts): nothing to free at unbind.
 */
import type { DeviceHandle, DriverEnv, LogLevel } from '../framework/driver-port.js';
import { EINVAL, ENXIO } from './errno.js';
import { __once, __ratelimit } from './kernel.js';
import { GFP_KERNEL, kcalloc, kmalloc, kmemdup, kzalloc, kstrdup } from './mm.js';

type Action = () => void | Promise<void>;

export class Device {
  /** devres: undo actions, run in reverse order on unbind or failed probe. */
  readonly devres: Action[] = [];
  driver_data: unknown = undefined;
  /** dev->driver->of_match_table: set by module_platform_driver before probe (of_device_get_match_data). */
  driver_match_table: readonly OfMatchEntry[] | undefined = undefined;
  constructor(readonly env: DriverEnv, readonly handle: DeviceHandle, readonly init_name: string) {}
  get binding(): number { return this.handle.binding; }
}

/** The shape of an of_device_id entry (module.ts's OfDeviceId). */
export interface OfMatchEntry { compatible: string; data?: unknown }

export interface Resource { start: number; end: number; name?: string; flags: number }
export const IORESOURCE_MEM = 0x200, IORESOURCE_IRQ = 0x400;

export class PlatformDevice {
  readonly dev: Device;
  readonly name: string;
  constructor(env: DriverEnv, handle: DeviceHandle) {
    this.name = handle.spec.name;
    this.dev = new Device(env, handle, handle.spec.name);
  }
}

/** Devices bound now, per driver env (module.ts keeps it): request_irq finds its device here. */
const boundDevices = new WeakMap<DriverEnv, Set<Device>>();

/** @internal module.ts: `dev` is bound (from before probe) or no longer (after remove). */
export function __device_bound(dev: Device, bound: boolean): void {
  let set = boundDevices.get(dev.env);
  if (!set) { set = new Set(); boundDevices.set(dev.env, set); }
  if (bound) set.add(dev); else set.delete(dev);
}

/** @internal The bound devices of `env`. */
export function __bound_devices(env: DriverEnv): Device[] {
  return [...(boundDevices.get(env) ?? [])];
}

export const dev_name = (dev: Device): string => dev.init_name;
export const dev_get_drvdata = <T>(dev: Device): T => dev.driver_data as T;
export const dev_set_drvdata = (dev: Device, data: unknown): void => { dev.driver_data = data; };
export const platform_get_drvdata = <T>(pdev: PlatformDevice): T => pdev.dev.driver_data as T;
export const platform_set_drvdata = (pdev: PlatformDevice, data: unknown): void => { pdev.dev.driver_data = data; };

function devLog(level: LogLevel, dev: Device, msg: string): void {
  dev.env.log(level, msg, dev.binding);
}
export const dev_err = (dev: Device, m: string): void => devLog(3, dev, m);
export const dev_warn = (dev: Device, m: string): void => devLog(4, dev, m);
export const dev_notice = (dev: Device, m: string): void => devLog(5, dev, m);
export const dev_info = (dev: Device, m: string): void => devLog(6, dev, m);
export const dev_dbg = (dev: Device, m: string): void => devLog(7, dev, m);
export const dev_emerg = (dev: Device, m: string): void => devLog(0, dev, m);
export const dev_alert = (dev: Device, m: string): void => devLog(1, dev, m);
export const dev_crit = (dev: Device, m: string): void => devLog(2, dev, m);
/** dev_printk(level, dev, msg). */
export const dev_printk = (level: LogLevel, dev: Device, m: string): void => devLog(level, dev, m);

function devOnce(level: LogLevel, dev: Device, m: string): void {
  if (__once(dev.env, `${dev.binding}\0${level}\0${m}`)) devLog(level, dev, m);
}
function devRatelimited(level: LogLevel, dev: Device, m: string): void {
  if (__ratelimit(dev.env, `${dev.binding}\0${level}\0${m.slice(0, 40)}`, dev.binding)) devLog(level, dev, m);
}
/** dev_*_once: once per device and message text. */
export const dev_err_once = (dev: Device, m: string): void => devOnce(3, dev, m);
export const dev_warn_once = (dev: Device, m: string): void => devOnce(4, dev, m);
export const dev_info_once = (dev: Device, m: string): void => devOnce(6, dev, m);
/** dev_*_ratelimited: at most 10 per 5 s per device, level and message start (first 40 characters). */
export const dev_err_ratelimited = (dev: Device, m: string): void => devRatelimited(3, dev, m);
export const dev_warn_ratelimited = (dev: Device, m: string): void => devRatelimited(4, dev, m);
export const dev_info_ratelimited = (dev: Device, m: string): void => devRatelimited(6, dev, m);
export const dev_dbg_ratelimited = (dev: Device, m: string): void => devRatelimited(7, dev, m);

/** Logs (except for -EPROBE_DEFER) and returns `err`, for `return dev_err_probe(...)`. */
export function dev_err_probe(dev: Device, err: number, msg: string): number {
  if (err !== -517) dev_err(dev, `error ${err}: ${msg}`);
  else dev_dbg(dev, `deferred: ${msg}`);
  return err;
}

/** devm_add_action: `action` runs when the device is unbound (or its probe fails). */
export function devm_add_action(dev: Device, action: Action): number {
  dev.devres.push(action);
  return 0;
}

/** devm_add_action_or_reset: like devm_add_action, running `action` at once on failure. */
export function devm_add_action_or_reset(dev: Device, action: Action): number {
  return devm_add_action(dev, action);
}

/** devm_kzalloc: zeroed memory owned by the device (garbage-collected; tracked for symmetry). */
export function devm_kzalloc(_dev: Device, size: number, flags = GFP_KERNEL): Uint8Array {
  return kzalloc(size, flags);
}
/** devm_kmalloc, devm_kcalloc, devm_kmalloc_array, devm_kmemdup, devm_kstrdup: as the k* forms (GC-managed). */
export const devm_kmalloc = (_dev: Device, size: number, flags = GFP_KERNEL): Uint8Array => kmalloc(size, flags);
export const devm_kcalloc = (_dev: Device, n: number, size: number, flags = GFP_KERNEL): Uint8Array => kcalloc(n, size, flags);
export const devm_kmalloc_array = devm_kcalloc;
export const devm_kmemdup = (_dev: Device, src: Uint8Array, len = src.length, flags = GFP_KERNEL): Uint8Array => kmemdup(src, len, flags);
export const devm_kstrdup = (_dev: Device, s: string | null, flags = GFP_KERNEL): string | null => kstrdup(s, flags);
/** devm_kfree: nothing to do (the memory is garbage-collected). */
export const devm_kfree = (_dev: Device, _p: unknown): void => undefined;

/** Releases a device's devres in reverse order (probe failure and unbind share this path). */
export async function devres_release_all(dev: Device): Promise<void> {
  while (dev.devres.length) {
    const a = dev.devres.pop()!;
    try { await a(); } catch (e) { dev_err(dev, `devres action failed: ${e instanceof Error ? e.message : String(e)}`); }
  }
}

export function platform_get_resource(pdev: PlatformDevice, type: number, num: number): Resource | null {
  const spec = pdev.dev.handle.spec;
  if (type === IORESOURCE_MEM) {
    const r = spec.reg[num];
    return r ? { start: r.base, end: r.base + r.size - 1, name: r.name, flags: IORESOURCE_MEM } : null;
  }
  if (type === IORESOURCE_IRQ) {
    const n = spec.interrupts[num];
    return n === undefined ? null : { start: n, end: n, flags: IORESOURCE_IRQ };
  }
  return null;
}

export function platform_get_irq(pdev: PlatformDevice, num: number): number {
  const n = pdev.dev.handle.spec.interrupts[num];
  return n === undefined ? -ENXIO : n;
}

/** of_property_read_u32: [0, value], or [-EINVAL] when absent or not a number. */
export function of_property_read_u32(dev: Device, name: string): [number, number] {
  const v = dev.handle.spec.properties[name];
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff ? [0, n] : [-EINVAL, 0];
}

export function of_property_read_string(dev: Device, name: string): [number, string] {
  const v = dev.handle.spec.properties[name];
  return typeof v === 'string' ? [0, v] : [-EINVAL, ''];
}

export function of_property_read_bool(dev: Device, name: string): boolean {
  return name in dev.handle.spec.properties && dev.handle.spec.properties[name] !== false;
}

/** of_property_present(dev, name): the property exists (and is not `false`). */
export const of_property_present = of_property_read_bool;

/** device_property_*: Linux's firmware-agnostic names for the of_property_* readers. */
export const device_property_read_u32 = of_property_read_u32;
export const device_property_read_string = of_property_read_string;
export const device_property_read_bool = of_property_read_bool;
export const device_property_present = of_property_read_bool;

/** of_device_is_compatible(dev, compat): `compat` is in the device's compatible list. */
export function of_device_is_compatible(dev: Device, compat: string): boolean {
  return dev.handle.spec.compatible.includes(compat);
}

/**
 * of_match_device(matches, dev): the entry of an of_device_id table that matches the device, or
 * null. The device's first compatible string that any entry names wins, as Linux's best match.
 */
export function of_match_device<T extends OfMatchEntry>(matches: readonly T[] | null | undefined, dev: Device): T | null {
  if (!matches) return null;
  for (const c of dev.handle.spec.compatible) {
    const m = matches.find((e) => e.compatible === c);
    if (m) return m;
  }
  return null;
}
