/**
 * @module linux/fb.h (fbdev: fbmem.c, fb_chrdev.c, fb_io_fops.c)
 * Framebuffer devices. A driver fills a `struct fb_info` (var, fix, fbops, screen_base, par)
 * and calls register_framebuffer: the core creates /dev/fbN (major 29, minor N, class
 * "graphics": /sys/class/graphics/fbN with fbsysfs's attributes) and serves it:
 *
 * - read/write/lseek of the framebuffer memory (fb_io_read/fb_io_write: EOF at the end on read;
 *   -EFBIG past the end, a short write with -ENOSPC for the rest, on write);
 * - mmap of smem_start/smem_len (then mmio_start/mmio_len, as fb_io_mmap does): the caller's
 *   mapping is the framebuffer memory itself (memremap + vm_iomap_memory), so what a process
 *   writes through it is what the display scans out; a mapping past the end is -EINVAL;
 * - ioctls, with Linux's exact struct layouts (fb-uapi.ts): FBIOGET_VSCREENINFO,
 *   FBIOPUT_VSCREENINFO (fb_check_var then fb_set_par; a refused mode leaves everything as it
 *   was), FBIOGET_FSCREENINFO, FBIOPAN_DISPLAY, FBIOBLANK, FBIO_CURSOR (-EINVAL), and whatever
 *   the driver's fb_ioctl serves (FBIO_WAITFORVSYNC, FBIOGET_VBLANK). A user buffer too small for
 *   the struct (or an integer where a pointer belongs) is -EFAULT, as a bad pointer is on Linux.
 *
 * ```ts
 * const info = framebuffer_alloc(0, dev);
 * info.fbops = { fb_check_var, fb_set_par, fb_pan_display, fb_blank, fb_ioctl };
 * info.screen_base = vram;  info.fix.smem_start = res.start;  info.fix.smem_len = size;
 * err = await devm_register_framebuffer(dev, info);     // /dev/fb0
 * ```
 *
 * Differs from Linux, and why:
 * - Minors are unique machine-wide: drivers in different containers each have their own kapi,
 *   so register_framebuffer takes the lowest N whose /dev/fbN the kernel does not have yet.
 * - FBIOGETCMAP/FBIOPUTCMAP answer -ENOTTY: struct fb_cmap holds pointers to four more user
 *   arrays, and an ioctl here carries exactly one user buffer. Drivers still get fb_setcolreg
 *   calls through fb_set_cmap. FBIOGET_CON2FBMAP/FBIOPUT_CON2FBMAP go to the driver (no fbcon).
 * - `llseek` is default_llseek over an inode of size 0, as on Linux: SEEK_END is relative to 0.
 * - A fb_info needs its parent `device` (the binding its node and attributes belong to).
 */
import type { DriverEnv } from '../framework/driver-port.js';
import { Errno } from '../framework/errors/errno.js';
import { type Device, dev_err } from './device.js';
import { EFAULT, EINVAL, ENODEV, ENOSPC, ENOTTY, EPERM, ENXIO } from './errno.js';
import { adaptFileOperations, default_llseek, type File, type FileOperations, type Loff, type VmAreaStruct } from './fs.js';
import { copy_from_user, copy_to_user, type UserPtr } from './uaccess.js';
import { vm_iomap_memory } from './memremap.js';
import { mutex_lock, mutex_unlock } from './mutex.js';
import { MKDEV } from './cdev.js';
import {
  FB_BLANK_POWERDOWN, FB_MAX, FB_VAR_SCREENINFO_SIZE, FBIO_CURSOR, FBIOBLANK,
  FBIOGET_FSCREENINFO, FBIOGET_VSCREENINFO, FBIOGETCMAP, FBIOPAN_DISPLAY, FBIOPUT_VSCREENINFO, FBIOPUTCMAP,
  fb_fix_to_bytes, fb_var_from_bytes, fb_var_to_bytes,
} from './fb-uapi.js';
import { FbVideomode, fb_add_videomode, fb_match_mode, fb_var_to_videomode } from './fb-modedb.js';
import { FBINFO_STATE_RUNNING, fb_blank, fb_pan_display, fb_set_var, type FbInfo } from './fb-info.js';
import { fb_add_sysfs } from './fb-sysfs.js';

export * from './fb-uapi.js';
export * from './fb-modedb.js';
export * from './fb-info.js';

/** The framebuffer character major. */
export const FB_MAJOR = 29;
const EFBIG = Errno.EFBIG;
const EEXIST = Errno.EEXIST;
const PAGE_SIZE = 4096;

/** registered_fb[]: this container's framebuffers by minor. */
export const registered_fb: (FbInfo | null)[] = new Array<FbInfo | null>(FB_MAX).fill(null);
export const num_registered_fb = (): number => registered_fb.filter((x) => x !== null).length;

const lock = async <T>(info: FbInfo, fn: () => Promise<T> | T): Promise<T> => {
  await mutex_lock(info.lock);
  try { return await fn(); } finally { mutex_unlock(info.lock); }
};

const fbOf = (filp: File): FbInfo => filp.private_data as FbInfo;
const totalSize = (info: FbInfo): number => info.screen_size || info.fix.smem_len;

/** fb_io_read: copies framebuffer memory to the user; 0 at and past the end. */
export function fb_io_read(info: FbInfo, buf: UserPtr, count: number, ppos: Loff): number {
  const p = ppos.value;
  if (!info.screen_base) return -ENODEV;
  const total = Math.min(totalSize(info), info.screen_base.length);
  if (p >= total) return 0;
  if (count >= total) count = total;
  if (count + p > total) count = total - p;
  const left = copy_to_user(buf, info.screen_base.subarray(p, p + count), count);
  const done = count - left;
  ppos.value += done;
  return done ? done : left ? -EFAULT : 0;
}

/** fb_io_write: copies user data into framebuffer memory; -EFBIG past the end, -ENOSPC when cut short. */
export function fb_io_write(info: FbInfo, buf: UserPtr, count: number, ppos: Loff): number {
  const p = ppos.value;
  if (!info.screen_base) return -ENODEV;
  const total = Math.min(totalSize(info), info.screen_base.length);
  let err = 0;
  if (p > total) return -EFBIG;
  if (count > total) { err = -EFBIG; count = total; }
  if (count + p > total) { if (!err) err = -ENOSPC; count = total - p; }
  const tmp = new Uint8Array(count);
  const left = copy_from_user(tmp, buf, count);
  const done = count - left;
  info.screen_base.set(tmp.subarray(0, done), p);
  if (left && !err) err = -EFAULT;
  ppos.value += done;
  return done ? done : err;
}

/** fb_io_mmap: the framebuffer memory, then (past it, page-aligned) the MMIO window. */
export function fb_io_mmap(info: FbInfo, vma: VmAreaStruct): number {
  let start = info.fix.smem_start;
  let len = info.fix.smem_len;
  const mmioPgoff = Math.ceil(((start % PAGE_SIZE) + len) / PAGE_SIZE);
  if (vma.vm_pgoff >= mmioPgoff) {
    if (info.var.accel_flags) return -EINVAL;
    vma = Object.assign(vma, { vm_pgoff: vma.vm_pgoff - mmioPgoff });
    start = info.fix.mmio_start;
    len = info.fix.mmio_len;
  }
  return vm_iomap_memory(vma, start, len);
}

/** do_fb_ioctl: the core's ioctls; the rest go to fb_ops.fb_ioctl under the fb lock. */
async function do_fb_ioctl(info: FbInfo, cmd: number, arg: UserPtr | number): Promise<number> {
  const user = typeof arg === 'number' ? null : arg;
  switch (cmd) {
    case FBIOGET_VSCREENINFO: {
      const b = await lock(info, () => fb_var_to_bytes(info.var));
      return user && !copy_to_user(user, b) ? 0 : -EFAULT;
    }
    case FBIOPUT_VSCREENINFO: {
      const b = new Uint8Array(FB_VAR_SCREENINFO_SIZE);
      if (!user || copy_from_user(b, user)) return -EFAULT;
      const v = fb_var_from_bytes(b);
      const ret = await lock(info, () => fb_set_var(info, v));
      if (!ret && copy_to_user(user, fb_var_to_bytes(v))) return -EFAULT;
      return ret;
    }
    case FBIOGET_FSCREENINFO: {
      const b = await lock(info, () => fb_fix_to_bytes(info.fix));
      return user && !copy_to_user(user, b) ? 0 : -EFAULT;
    }
    case FBIOGETCMAP:
    case FBIOPUTCMAP:
      return -ENOTTY; // struct fb_cmap points at four more user arrays: see the module header
    case FBIOPAN_DISPLAY: {
      const b = new Uint8Array(FB_VAR_SCREENINFO_SIZE);
      if (!user || copy_from_user(b, user)) return -EFAULT;
      const v = fb_var_from_bytes(b);
      const ret = await lock(info, () => fb_pan_display(info, v));
      if (!ret && copy_to_user(user, fb_var_to_bytes(v))) return -EFAULT;
      return ret;
    }
    case FBIO_CURSOR:
      return -EINVAL;
    case FBIOBLANK:
      // arg is an integer; a pointer would be a huge one: -EINVAL either way, as on Linux.
      if (typeof arg !== 'number' || arg < 0 || arg > FB_BLANK_POWERDOWN) return -EINVAL;
      return lock(info, () => fb_blank(info, arg));
    default:
      return lock(info, () => (info.fbops.fb_ioctl ? info.fbops.fb_ioctl(info, cmd, arg) : -ENOTTY));
  }
}

const fb_fops: FileOperations = {
  open: async (_inode, filp) => {
    const info = fbOf(filp);
    if (!info?._reg || info._reg.destroyed) return -ENODEV;
    return lock(info, async () => {
      const r = info.fbops.fb_open ? await info.fbops.fb_open(info, 1) : 0;
      if (!r) info.count++;
      return r;
    });
  },
  release: async (_inode, filp) => {
    const info = fbOf(filp);
    await lock(info, async () => { if (info.fbops.fb_release) await info.fbops.fb_release(info, 1); });
    if (--info.count === 0 && info._reg?.destroyed) info.fbops.fb_destroy?.(info);
    return 0;
  },
  read: (filp, buf, count, ppos) => {
    const info = fbOf(filp);
    if (info.state !== FBINFO_STATE_RUNNING) return -EPERM;
    return info.fbops.fb_read ? info.fbops.fb_read(info, buf, count, ppos) : fb_io_read(info, buf, count, ppos);
  },
  write: (filp, buf, count, ppos) => {
    const info = fbOf(filp);
    if (info.state !== FBINFO_STATE_RUNNING) return -EPERM;
    return info.fbops.fb_write ? info.fbops.fb_write(info, buf, count, ppos) : fb_io_write(info, buf, count, ppos);
  },
  llseek: (filp, offset, whence, ppos) => default_llseek(filp, offset, whence, ppos, 0),
  unlocked_ioctl: (filp, cmd, arg) => do_fb_ioctl(fbOf(filp), cmd, arg),
  mmap: (filp, vma) => {
    const info = fbOf(filp);
    return info.fbops.fb_mmap ? info.fbops.fb_mmap(info, vma) : fb_io_mmap(info, vma);
  },
};

/**
 * register_framebuffer(info): /dev/fbN, /sys/class/graphics/fbN and its attributes. The mode
 * in info.var joins info.modelist. 0, -EINVAL (no parent device), -ENXIO (FB_MAX in use), -errno.
 */
export async function register_framebuffer(info: FbInfo): Promise<number> {
  const dev = info.device;
  if (!dev || info._reg) return -EINVAL;
  const env: DriverEnv = dev.env;
  const mode = new FbVideomode();
  fb_var_to_videomode(mode, info.var);
  fb_add_videomode(mode, info.modelist);
  info.mode ??= fb_match_mode(info.var, info.modelist);
  const inode = { i_rdev: 0 };
  const ops = adaptFileOperations(env, () => info._reg?.node ?? 0, fb_fops, inode, info);
  // The kernel's /dev decides which minors are free (this table may hold a crashed IC0
  // incarnation's entries; a restarted driver gets its old /dev/fbN back from the kernel).
  for (let i = 0; i < FB_MAX; i++) {
    if (registered_fb[i]?._reg && !registered_fb[i]!._reg!.destroyed && registered_fb[i]!.device?.env === env) continue;
    let node: number;
    try {
      node = (await env.registerNode(dev.binding, {
        path: `/dev/fb${i}`, kind: 'chr', mode: 0o660, major: FB_MAJOR, minor: i, className: 'graphics',
      }, ops)).node;
    } catch (e) {
      const err = (e as { errno?: number }).errno ?? -EINVAL;
      if (err === -EEXIST) continue; // another container's fbN
      return err;
    }
    info.node = i;
    inode.i_rdev = MKDEV(FB_MAJOR, i);
    registered_fb[i] = info;
    info._reg = { node, attrs: [], destroyed: false };
    try {
      info._reg.attrs = await fb_add_sysfs(info, env, dev.binding, `graphics/fb${i}`);
    } catch (e) {
      dev_err(dev, `fb${i}: cannot add sysfs attributes: ${e instanceof Error ? e.message : String(e)}`);
    }
    return 0;
  }
  return -ENXIO;
}

/** unregister_framebuffer(info): removes the node (open files see ENODEV) and the attributes. */
export async function unregister_framebuffer(info: FbInfo): Promise<void> {
  const reg = info._reg;
  const dev = info.device;
  if (!reg || reg.destroyed || !dev) return;
  reg.destroyed = true;
  for (const a of reg.attrs) await dev.env.removeAttribute(a).catch(() => undefined);
  await dev.env.unregisterNode(reg.node);
  if (registered_fb[info.node] === info) registered_fb[info.node] = null;
  if (info.count === 0) info.fbops.fb_destroy?.(info);
}

/** devm_register_framebuffer(dev, info): unregistered with the binding. */
export async function devm_register_framebuffer(dev: Device, info: FbInfo): Promise<number> {
  const r = await register_framebuffer(info);
  if (!r) dev.devres.push(() => unregister_framebuffer(info));
  return r;
}

/** fb_get_options-free helper: the fb_info registered at `minor` in this container, or null. */
export const get_fb_info = (minor: number): FbInfo | null => registered_fb[minor] ?? null;
