/**
 * @module linux/cdev.h + linux/kdev_t.h + chrdev regions (linux/fs.h) + class/device_create (linux/device.h)
 * Character devices the classic way: `alloc_chrdev_region`, `register_chrdev_region`,
 * `unregister_chrdev_region`, `register_chrdev`/`unregister_chrdev`, `cdev_init`, `cdev_alloc`,
 * `cdev_add`, `cdev_del`, `class_create`/`class_destroy`, `device_create`/`device_destroy`,
 * `MKDEV`, `MAJOR`, `MINOR`, `iminor`, `imajor`.
 *
 * ```ts
 * const [err, devt] = alloc_chrdev_region(0, 2, 'hmfoo');
 * if (err) return err;
 * cdev_init(priv.cdev, hmfoo_fops);
 * if ((r = cdev_add(priv.cdev, devt, 2))) return r;
 * priv.cls ??= class_create('hmfoo');
 * const d = await device_create(priv.cls, pdev.dev, MKDEV(MAJOR(devt), 0), priv, 'hmfoo0');   // /dev/hmfoo0
 * if (IS_ERR(d)) return d;
 * // open(): const priv = container_of... -> inode.i_cdev is the Cdev: keep a Map<Cdev, Priv>, or use iminor(inode)
 * ```
 *
 * Differs from Linux, and why:
 * - **The node appears with `device_create`** (which is async: registering the node is an
 *   upcall), in `/dev/<name>` with `/sys/class/<class>/<name>`, as udev would make it. There is
 *   no `mknod` for callers, so a region and a cdev alone make no node. `device_destroy` (async)
 *   removes it; the kernel also removes it at unbind (the debug mode reports the missing
 *   `device_destroy`).
 * - **Opening finds the cdev then**, as Linux's `chrdev_open` does: a node whose number no
 *   added cdev covers (never added, or `cdev_del`'d) fails to open with `-ENXIO`; files already
 *   open keep their cdev's operations. `inode.i_cdev` is the `Cdev` and `inode.i_rdev` the
 *   `dev_t` (`MKDEV`, 20 minor bits as in the kernel), so `iminor(inode)` works.
 * - **Major numbers are the driver container's own**: `alloc_chrdev_region` takes a free major
 *   from Linux's extended dynamic range (511 down to 384) in this container, so that it never
 *   meets the kernel's own dynamic majors (254 down to 234). Two containers may pick the same
 *   major; nodes are found by path, so only `stat` shows it.
 * - `device_create` returns the `ChrDevice` (a `Device`, so `dev_get_drvdata`, `dev_err` work
 *   on it) or a negative errno; the node's mode is `0600` unless the class's `devnode(dev)`
 *   returns another one. `class_create(name)` takes no owner (Linux 6.4+).
 */
import type { DeviceHandle } from '../framework/driver-port.js';
import { Device } from './device.js';
import { EBUSY, EINVAL, ENXIO, ENOTTY, ENODEV, ESPIPE } from './errno.js';
import { adaptFileOperations, type File, type FileOperations, type Inode } from './fs.js';
import { driverEnv } from './kernel.js';
import { debug_site } from './debug.js';
import { track_resource, untrack_resource, type TrackedResource } from './unbind-check.js';
import { might_sleep } from './preempt.js';

export const MINORBITS = 20;
const MINOR_SPAN = 2 ** MINORBITS;
export const MINORMASK = MINOR_SPAN - 1;
/** dev_t from (major, minor), the kernel's encoding (12-bit major, 20-bit minor). */
export const MKDEV = (ma: number, mi: number): number => ma * MINOR_SPAN + (mi & MINORMASK);
export const MAJOR = (dev: number): number => Math.floor(dev / MINOR_SPAN);
export const MINOR = (dev: number): number => dev % MINOR_SPAN;
export const iminor = (inode: Inode): number => MINOR(inode.i_rdev);
export const imajor = (inode: Inode): number => MAJOR(inode.i_rdev);

export const CHRDEV_MAJOR_MAX = 512;
const DYN_TOP = 511, DYN_BOTTOM = 384;

// ---- regions -------------------------------------------------------------------------------------

interface Region { major: number; baseminor: number; count: number; name: string }
const regions: Region[] = [];

const overlaps = (major: number, base: number, count: number): boolean =>
  regions.some((r) => r.major === major && base < r.baseminor + r.count && r.baseminor < base + count);

/** alloc_chrdev_region(baseminor, count, name): [0, first dev_t] or [-EBUSY / -EINVAL, 0]. */
export function alloc_chrdev_region(baseminor: number, count: number, name: string): [number, number] {
  if (!Number.isInteger(count) || count <= 0 || baseminor < 0 || baseminor + count > MINOR_SPAN) return [-EINVAL, 0];
  for (let major = DYN_TOP; major >= DYN_BOTTOM; major--) {
    if (regions.some((r) => r.major === major)) continue;
    regions.push({ major, baseminor, count, name });
    return [0, MKDEV(major, baseminor)];
  }
  return [-EBUSY, 0];
}

/** register_chrdev_region(first, count, name): 0, or -EBUSY if part of it is taken. */
export function register_chrdev_region(first: number, count: number, name: string): number {
  const major = MAJOR(first);
  if (!Number.isInteger(count) || count <= 0 || major <= 0 || major >= CHRDEV_MAJOR_MAX || MINOR(first) + count > MINOR_SPAN) return -EINVAL;
  if (overlaps(major, MINOR(first), count)) return -EBUSY;
  regions.push({ major, baseminor: MINOR(first), count, name });
  return 0;
}

export function unregister_chrdev_region(first: number, count: number): void {
  const i = regions.findIndex((r) => r.major === MAJOR(first) && r.baseminor === MINOR(first) && r.count === count);
  if (i >= 0) regions.splice(i, 1);
}

// ---- struct cdev ---------------------------------------------------------------------------------

export class Cdev {
  ops: FileOperations | null = null;
  owner: unknown = null;
  dev = 0;
  count = 0;
  /** @internal */ _added = false;
}
export type cdev = Cdev;

const added: Cdev[] = [];

export function cdev_init(c: Cdev, fops: FileOperations): void {
  c.ops = fops;
  c._added = false;
}

export const cdev_alloc = (): Cdev => new Cdev();

/** cdev_add(cdev, first, count): the cdev serves [first, first + count); -EBUSY if another covers part of it. */
export function cdev_add(c: Cdev, dev: number, count: number): number {
  if (!c.ops || !Number.isInteger(count) || count <= 0) return -EINVAL;
  if (c._added) return -EBUSY;
  if (added.some((o) => MAJOR(o.dev) === MAJOR(dev) && MINOR(dev) < MINOR(o.dev) + o.count && MINOR(o.dev) < MINOR(dev) + count)) return -EBUSY;
  c.dev = dev;
  c.count = count;
  c._added = true;
  added.push(c);
  return 0;
}

/** cdev_del(cdev): new opens of its numbers fail with -ENXIO; open files keep working. */
export function cdev_del(c: Cdev): void {
  const i = added.indexOf(c);
  if (i >= 0) added.splice(i, 1);
  c._added = false;
}

function cdevOf(devt: number): Cdev | null {
  return added.find((c) => MAJOR(c.dev) === MAJOR(devt) && MINOR(devt) >= MINOR(c.dev) && MINOR(devt) < MINOR(c.dev) + c.count) ?? null;
}

// ---- register_chrdev (the old one-call API: 256 minors) --------------------------------------------

const oldStyle = new Map<number, Cdev>();

/** register_chrdev(major, name, fops): the major (dynamic when 0) or -errno; minors 0..255. */
export function register_chrdev(major: number, name: string, fops: FileOperations): number {
  let first: number;
  if (major === 0) {
    const [err, devt] = alloc_chrdev_region(0, 256, name);
    if (err) return err;
    first = devt;
  } else {
    first = MKDEV(major, 0);
    const r = register_chrdev_region(first, 256, name);
    if (r) return r;
  }
  const c = new Cdev();
  cdev_init(c, fops);
  const r = cdev_add(c, first, 256);
  if (r) { unregister_chrdev_region(first, 256); return r; }
  oldStyle.set(MAJOR(first), c);
  return MAJOR(first);
}

export function unregister_chrdev(major: number, _name: string): void {
  const c = oldStyle.get(major);
  if (!c) return;
  cdev_del(c);
  oldStyle.delete(major);
  unregister_chrdev_region(MKDEV(major, 0), 256);
}

// ---- class / device_create -------------------------------------------------------------------------

export class Class {
  /** Optional: the node's mode for a device (Linux's devnode callback sets *mode). */
  devnode: ((dev: ChrDevice) => number | undefined) | null = null;
  constructor(readonly name: string) {}
}
export type class_ = Class;

export const class_create = (name: string): Class => new Class(name);
export function class_destroy(_cls: Class | null): void { /* nodes go with device_destroy or the binding */ }

export class ChrDevice extends Device {
  /** @internal node id */ _node = -1;
  /** @internal */ _tracked: TrackedResource | undefined = undefined;
  constructor(parent: Device | null, readonly devt: number, readonly cls: Class, name: string, readonly parentDev: Device | null) {
    super(parent?.env ?? driverEnv(), parent?.handle ?? ({
      binding: 0, spec: { name, compatible: [], reg: [], interrupts: [], properties: {} }, params: {},
    } as unknown as DeviceHandle), name);
  }
}

const created: ChrDevice[] = [];

const DEFAULT_POLLMASK = 0x1 | 0x4 | 0x40 | 0x100;

/** File operations that resolve the cdev at open (chrdev_open) and use its ops from then on. */
function chrdevOps(devt: number, inode: { i_rdev: number; i_cdev?: unknown }): FileOperations {
  const of = new WeakMap<File, FileOperations>();
  const ops = (f: File): FileOperations => of.get(f) ?? {};
  return {
    open(_inode, filp) {
      const c = cdevOf(devt);
      if (!c?.ops) return -ENXIO;
      of.set(filp, c.ops);
      (inode as { i_cdev?: unknown }).i_cdev = c;
      return c.ops.open ? c.ops.open(inode, filp) : 0;
    },
    release: (_i, f) => ops(f).release?.(inode, f) ?? 0,
    read: (f, buf, count, ppos) => ops(f).read?.(f, buf, count, ppos) ?? -EINVAL,
    write: (f, buf, count, ppos) => ops(f).write?.(f, buf, count, ppos) ?? -EINVAL,
    unlocked_ioctl: (f, cmd, arg) => ops(f).unlocked_ioctl?.(f, cmd, arg) ?? -ENOTTY,
    poll: (f, pt) => ops(f).poll?.(f, pt) ?? DEFAULT_POLLMASK,
    mmap: (f, vma) => ops(f).mmap?.(f, vma) ?? -ENODEV,
    llseek: (f, off, whence, ppos) => ops(f).llseek?.(f, off, whence, ppos) ?? -ESPIPE,
    fsync: (f) => ops(f).fsync?.(f) ?? -EINVAL,
  };
}

/**
 * device_create(cls, parent, devt, drvdata, name): makes /dev/<name> (and /sys/class/<cls>/<name>)
 * for `devt`; resolves the ChrDevice or a negative errno. Pass the platform device as `parent`
 * so the node belongs to its binding.
 */
export async function device_create(cls: Class, parent: Device | null, devt: number, drvdata: unknown, name: string): Promise<ChrDevice | number> {
  might_sleep('device_create()');
  if (!name || !cls) return -EINVAL;
  const d = new ChrDevice(parent, devt, cls, name, parent);
  d.driver_data = drvdata;
  const inode = { i_rdev: devt, i_cdev: undefined as unknown };
  const ops = adaptFileOperations(d.env, () => d._node, chrdevOps(devt, inode), inode);
  try {
    const r = await d.env.registerNode(d.binding, {
      path: `/dev/${name}`, kind: 'chr', mode: cls.devnode?.(d) ?? 0o600, major: MAJOR(devt), minor: MINOR(devt), className: cls.name,
    }, ops);
    d._node = r.node;
  } catch (e) {
    return (e as { errno?: number }).errno ?? -EINVAL;
  }
  created.push(d);
  if (parent) {
    d._tracked = track_resource(parent, { kind: 'device node', name: `/dev/${name}`, site: debug_site(d.env), hint: 'device_destroy missing in remove' });
  }
  return d;
}

/** device_destroy(cls, devt): removes the node device_create made. */
export async function device_destroy(cls: Class, devt: number): Promise<void> {
  const i = created.findIndex((d) => d.cls === cls && d.devt === devt);
  if (i < 0) return;
  const d = created[i]!;
  created.splice(i, 1);
  if (d.parentDev) untrack_resource(d.parentDev, d._tracked);
  await d.env.unregisterNode(d._node).catch(() => undefined);
}
