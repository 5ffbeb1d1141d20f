/**
 * @module linux/device.h (device attributes) + linux/sysfs.h (attribute groups)
 * `/sys/devices/platform/<dev>/<name>` files: `DEVICE_ATTR`, `DEVICE_ATTR_RW`, `DEVICE_ATTR_RO`,
 * `DEVICE_ATTR_WO`, `DEVICE_ATTR_ADMIN_RO`/`_RW`, `device_create_file`, `device_remove_file`,
 * `AttributeGroup`, `sysfs_create_group`/`sysfs_remove_group`, `device_add_groups`,
 * `devm_device_add_group(s)`, `sysfs_emit`.
 *
 * ```ts
 * const dev_attr_rate = DEVICE_ATTR_RW('rate',
 *   (dev) => sysfs_emit(`${dev_get_drvdata<Priv>(dev).rate}\n`),
 *   (dev, _attr, buf, count) => { const v = Number(buf.trim()); if (!Number.isInteger(v)) return -EINVAL; dev_get_drvdata<Priv>(dev).rate = v; return count; });
 * const r = await devm_device_add_group(dev, { attrs: [dev_attr_rate] });
 * ```
 *
 * Differs from Linux, and why:
 * - Linux's macros name the variable and derive `<name>_show`/`<name>_store` from it; here the
 *   functions are passed and the attribute is a value (`DEVICE_ATTR_RW(name, show, store)`).
 * - **`show` returns the text** (a string, possibly a promise) instead of filling a PAGE_SIZE
 *   buffer and returning its length; `sysfs_emit(s)` is there for ported code and returns `s`.
 *   A negative number returned from `show` is an error on Linux; the kernel's attribute
 *   interface has no error path for show, so the file then reads as empty (and it is logged
 *   with dev_dbg). `store(dev, attr, buf, count)` gets the text written and returns the count
 *   consumed or a negative errno, as on Linux.
 * - Creating is an upcall, so `device_create_file`, the group functions and their devm
 *   variants are async. A group's `name` is its subdirectory when the kernel supports
 *   attribute directories (`AttributeSpec.dir`); `is_visible(dev, attr, i)` returning 0 hides
 *   an attribute, another value replaces its mode.
 * - Attributes are removed with the binding whatever the driver does; the debug mode reports
 *   non-devm ones the driver did not remove.
 */
import type { AttributeSpec } from '../framework/driver-port.js';
import { Device, dev_dbg } from './device.js';
import { EEXIST, EINVAL } from './errno.js';
import { debug_site } from './debug.js';
import { track_resource, untrack_resource, type TrackedResource } from './unbind-check.js';
import { might_sleep } from './preempt.js';

export interface DeviceAttribute {
  readonly attr: { readonly name: string; readonly mode: number };
  show?(dev: Device, attr: DeviceAttribute): string | number | Promise<string | number>;
  store?(dev: Device, attr: DeviceAttribute, buf: string, count: number): number | Promise<number>;
}
export type device_attribute = DeviceAttribute;

export interface AttributeGroup {
  /** Subdirectory name (optional). */
  readonly name?: string;
  readonly attrs: readonly DeviceAttribute[];
  /** 0 hides the attribute; another value is its mode. */
  is_visible?(dev: Device, attr: DeviceAttribute, i: number): number;
}
export type attribute_group = AttributeGroup;

type Show = DeviceAttribute['show'];
type Store = DeviceAttribute['store'];

export function DEVICE_ATTR(name: string, mode: number, show?: Show, store?: Store): DeviceAttribute {
  return { attr: { name, mode }, ...(show ? { show } : {}), ...(store ? { store } : {}) };
}
export const DEVICE_ATTR_RW = (name: string, show: Show, store: Store): DeviceAttribute => DEVICE_ATTR(name, 0o644, show, store);
export const DEVICE_ATTR_RO = (name: string, show: Show): DeviceAttribute => DEVICE_ATTR(name, 0o444, show);
export const DEVICE_ATTR_WO = (name: string, store: Store): DeviceAttribute => DEVICE_ATTR(name, 0o200, undefined, store);
export const DEVICE_ATTR_ADMIN_RO = (name: string, show: Show): DeviceAttribute => DEVICE_ATTR(name, 0o400, show);
export const DEVICE_ATTR_ADMIN_RW = (name: string, show: Show, store: Store): DeviceAttribute => DEVICE_ATTR(name, 0o600, show, store);

/** sysfs_emit(text): the text a show returns (Linux: formats into the page and returns its length). */
export const sysfs_emit = (text: string): string => text;

interface Added { id: number; tracked?: TrackedResource }
/** Attribute ids per device and (attribute, directory). */
const addedOf = new WeakMap<Device, Map<string, Added>>();
const keyOf = (a: DeviceAttribute, dir?: string): string => `${dir ?? ''}/${a.attr.name}`;

function toSpec(dev: Device, a: DeviceAttribute, mode: number, dir?: string): AttributeSpec {
  const spec: AttributeSpec & { dir?: string } = { name: a.attr.name, mode };
  if (dir) spec.dir = dir;
  if (a.show) {
    const show = a.show.bind(a);
    spec.show = async () => {
      const r = await show(dev, a);
      if (typeof r === 'number') {
        if (r < 0) dev_dbg(dev, `show of attribute ${a.attr.name} failed: ${r}`);
        return r < 0 ? '' : String(r);
      }
      return r;
    };
  }
  if (a.store) {
    const store = a.store.bind(a);
    spec.store = async (text: string) => {
      const r = await store(dev, a, text, text.length);
      return r < 0 ? r : 0;
    };
  }
  return spec;
}

async function addOne(dev: Device, a: DeviceAttribute, mode: number, dir: string | undefined, managed: boolean): Promise<number> {
  might_sleep('sysfs_create_file()');
  if (!a?.attr?.name) return -EINVAL;
  let m = addedOf.get(dev);
  if (!m) { m = new Map(); addedOf.set(dev, m); }
  const key = keyOf(a, dir);
  if (m.has(key)) return -EEXIST;              // as sysfs_add_file on a duplicate
  let id: number;
  try {
    id = await dev.env.addAttribute(dev.binding, toSpec(dev, a, mode, dir));
  } catch (e) {
    return (e as { errno?: number }).errno ?? -EINVAL;
  }
  const rec: Added = { id };
  if (!managed) rec.tracked = track_resource(dev, { kind: 'attribute', name: key.slice(1), site: debug_site(dev.env), hint: 'device_remove_file / sysfs_remove_group missing in remove' });
  m.set(key, rec);
  return 0;
}

async function removeOne(dev: Device, a: DeviceAttribute, dir?: string): Promise<void> {
  const m = addedOf.get(dev);
  const key = keyOf(a, dir);
  const rec = m?.get(key);
  if (!rec) return;
  m!.delete(key);
  untrack_resource(dev, rec.tracked);
  await dev.env.removeAttribute(rec.id).catch(() => undefined);
}

/** device_create_file(dev, attr): 0 or -errno. */
export function device_create_file(dev: Device, attr: DeviceAttribute): Promise<number> {
  return addOne(dev, attr, attr.attr.mode, undefined, false);
}

export function device_remove_file(dev: Device, attr: DeviceAttribute): Promise<void> {
  return removeOne(dev, attr);
}

async function addGroup(dev: Device, grp: AttributeGroup, managed: boolean): Promise<number> {
  const done: DeviceAttribute[] = [];
  for (let i = 0; i < grp.attrs.length; i++) {
    const a = grp.attrs[i]!;
    const vis = grp.is_visible ? grp.is_visible(dev, a, i) : a.attr.mode;
    if (!vis) continue;
    const r = await addOne(dev, a, vis, grp.name, managed);
    if (r) {
      for (const d of done) await removeOne(dev, d, grp.name);
      return r;
    }
    done.push(a);
  }
  return 0;
}

/** sysfs_create_group(dev, grp): all or nothing. (Linux takes the kobject: here the device.) */
export function sysfs_create_group(dev: Device, grp: AttributeGroup): Promise<number> {
  return addGroup(dev, grp, false);
}

export async function sysfs_remove_group(dev: Device, grp: AttributeGroup): Promise<void> {
  for (const a of grp.attrs) await removeOne(dev, a, grp.name);
}

export async function device_add_groups(dev: Device, groups: readonly AttributeGroup[]): Promise<number> {
  for (let i = 0; i < groups.length; i++) {
    const r = await sysfs_create_group(dev, groups[i]!);
    if (r) {
      for (let j = 0; j < i; j++) await sysfs_remove_group(dev, groups[j]!);
      return r;
    }
  }
  return 0;
}

export async function device_remove_groups(dev: Device, groups: readonly AttributeGroup[]): Promise<void> {
  for (const g of groups) await sysfs_remove_group(dev, g);
}

/** devm_device_add_group(dev, grp): removed at unbind (devres). */
export async function devm_device_add_group(dev: Device, grp: AttributeGroup): Promise<number> {
  const r = await addGroup(dev, grp, true);
  if (r === 0) dev.devres.push(() => sysfs_remove_group(dev, grp));
  return r;
}

export async function devm_device_add_groups(dev: Device, groups: readonly AttributeGroup[]): Promise<number> {
  for (const g of groups) {
    const r = await devm_device_add_group(dev, g);
    if (r) return r;
  }
  return 0;
}
