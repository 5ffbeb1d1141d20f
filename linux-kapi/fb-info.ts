/**
 * @module linux/fb.h (struct fb_info, struct fb_ops) + fbmem.c (fb_set_var, fb_pan_display, fb_blank)
 * A framebuffer as its driver describes it, and the core's mode, panning and blanking logic
 * that the ioctls and sysfs attributes share. The checks and their order are fbmem.c's.
 *
 * Differs from Linux: `screen_base` is a Uint8Array over the framebuffer memory (memremap it,
 * see memremap.ts), not an `__iomem` pointer; `par` is whatever the driver assigns (framebuffer_alloc's
 * `size` only keeps the signature); fb_ops members may be async; `info.mode` follows the mode
 * set through fb_set_var (Linux leaves it to fbcon and the `mode` attribute); there are no fb
 * notifier clients (fbcon, backlight) to tell about mode changes or blanking.
 */
import type { Device } from './device.js';
import { EINVAL } from './errno.js';
import type { Loff, VmAreaStruct } from './fs.js';
import { mutex_init, type Mutex } from './mutex.js';
import type { UserPtr } from './uaccess.js';
import {
  FB_ACTIVATE_FORCE, FB_ACTIVATE_MASK, FB_ACTIVATE_NOW, FB_BLANK_POWERDOWN, FB_BLANK_UNBLANK, FB_VMODE_YWRAP,
  FbFixScreeninfo, FbVarScreeninfo, fb_var_copy, fb_var_equal,
} from './fb-uapi.js';
import { fb_add_videomode, fb_match_mode, fb_var_to_videomode, FbVideomode } from './fb-modedb.js';

export const FBINFO_STATE_RUNNING = 0, FBINFO_STATE_SUSPENDED = 1;
export const FBINFO_VIRTFB = 0x0004, FBINFO_READS_FAST = 0x0080, FBINFO_HWACCEL_COPYAREA = 0x0100,
  FBINFO_HWACCEL_FILLRECT = 0x0200, FBINFO_HWACCEL_IMAGEBLIT = 0x0400, FBINFO_HWACCEL_XPAN = 0x1000,
  FBINFO_HWACCEL_YPAN = 0x2000, FBINFO_HWACCEL_YWRAP = 0x4000;

/** struct fb_ops: what the driver implements. Absent members take the core's defaults. */
export interface FbOps {
  fb_open?(info: FbInfo, user: number): number | Promise<number>;
  fb_release?(info: FbInfo, user: number): number | Promise<number>;
  /** Default: fb_io_read (copies from screen_base). */
  fb_read?(info: FbInfo, buf: UserPtr, count: number, ppos: Loff): number | Promise<number>;
  /** Default: fb_io_write (copies into screen_base). */
  fb_write?(info: FbInfo, buf: UserPtr, count: number, ppos: Loff): number | Promise<number>;
  /** Checks (and rounds up) `var`; must not touch the hardware. 0 or -EINVAL. */
  fb_check_var?(v: FbVarScreeninfo, info: FbInfo): number | Promise<number>;
  /** Programs the hardware for info.var (already checked) and updates info.fix. */
  fb_set_par?(info: FbInfo): number | Promise<number>;
  /** One palette entry; 16-bit colour components. Non-zero: the entry was refused. */
  fb_setcolreg?(regno: number, red: number, green: number, blue: number, transp: number, info: FbInfo): number;
  /** FB_BLANK_* level (0 unblank … 4 powerdown). */
  fb_blank?(blank: number, info: FbInfo): number | Promise<number>;
  /** Shows var.xoffset/var.yoffset (already range-checked by the core). */
  fb_pan_display?(v: FbVarScreeninfo, info: FbInfo): number | Promise<number>;
  /** Driver ioctls (FBIO_WAITFORVSYNC, ...); -ENOTTY for unknown ones. */
  fb_ioctl?(info: FbInfo, cmd: number, arg: UserPtr | number): number | Promise<number>;
  /** Default: fb_io_mmap (smem_start/smem_len, then mmio_start/mmio_len). */
  fb_mmap?(info: FbInfo, vma: VmAreaStruct): number | Promise<number>;
  /** Called when the last reference goes after unregister_framebuffer. */
  fb_destroy?(info: FbInfo): void;
}

/** struct fb_info. */
export class FbInfo {
  /** Minor number (N of /dev/fbN), set by register_framebuffer. */
  node = -1;
  flags = 0;
  /** lock_fb_info(): serialises the ioctls, sysfs stores and the driver's own mode changes. */
  readonly lock: Mutex = mutex_init('fb_info.lock');
  var = new FbVarScreeninfo();
  fix = new FbFixScreeninfo();
  modelist: FbVideomode[] = [];
  /** The current mode (an entry of modelist), or null. */
  mode: FbVideomode | null = null;
  fbops: FbOps = {};
  /** The parent device (the driver's platform device). */
  device: Device | null;
  /** 16 entries for truecolour consoles (fb_setcolreg fills it). */
  pseudo_palette: Uint32Array | null = null;
  /** The CPU view of the framebuffer memory (`char __iomem *screen_base`). */
  screen_base: Uint8Array | null = null;
  /** Bytes at screen_base that read/write reach; 0 means fix.smem_len. */
  screen_size = 0;
  /** The driver's private data. */
  par: unknown = null;
  state = FBINFO_STATE_RUNNING;
  /** The FB_BLANK_* level last set. */
  blank = FB_BLANK_UNBLANK;
  /** Open files. */
  count = 0;
  /** @internal What register_framebuffer created (node id, attribute ids); null when not registered. */
  _reg: { node: number; attrs: number[]; destroyed: boolean } | null = null;

  constructor(device: Device | null) { this.device = device; }
}
export type fb_info = FbInfo;
export type fb_ops = FbOps;

/** framebuffer_alloc(size, dev): a zeroed fb_info; assign your private struct to `par`. */
export function framebuffer_alloc(_size: number, dev: Device | null): FbInfo {
  return new FbInfo(dev);
}

/** framebuffer_release(info): drops the fb_info (garbage-collected; kept for symmetry). */
export function framebuffer_release(info: FbInfo | null): void {
  if (info) info.par = null;
}

/**
 * fb_set_var(info, var): checks `var` with fb_check_var and, for FB_ACTIVATE_NOW, makes it the
 * mode (fb_set_par, then the panning). On any failure info.var stays as it was. `var` is
 * updated with what the driver rounded it to. Call with info.lock held.
 */
export async function fb_set_var(info: FbInfo, v: FbVarScreeninfo): Promise<number> {
  if (!(v.activate & FB_ACTIVATE_FORCE) && fb_var_equal(info.var, v)) return 0;
  const ops = info.fbops;
  if (!ops.fb_check_var) { Object.assign(v, fb_var_copy(info.var)); return 0; }
  // bitfill_aligned() assumes 8x8 at least; huge products overflow u32.
  if (v.xres < 8 || v.yres < 8) return -EINVAL;
  if (v.xres * v.yres > 0xffffffff || v.xres_virtual * v.yres_virtual > 0xffffffff) return -EINVAL;
  const checked = fb_var_copy(v);
  let ret = await ops.fb_check_var(checked, info);
  if (ret) return ret;
  Object.assign(v, checked);
  if (v.xres_virtual < v.xres || v.yres_virtual < v.yres) return -EINVAL;
  if ((v.activate & FB_ACTIVATE_MASK) !== FB_ACTIVATE_NOW) return 0;
  const old = info.var;
  info.var = fb_var_copy(v);
  if (ops.fb_set_par) {
    ret = await ops.fb_set_par(info);
    if (ret) {
      info.var = old;
      info.device?.env.log(4, `detected fb_set_par error, error code: ${ret}`, info.device.binding);
      return ret;
    }
  }
  await fb_pan_display(info, info.var);
  const mode = new FbVideomode();
  fb_var_to_videomode(mode, info.var);
  fb_add_videomode(mode, info.modelist);
  info.mode = fb_match_mode(info.var, info.modelist);
  return 0;
}

/**
 * fb_pan_display(info, var): checks var.xoffset/yoffset against the pan steps and the virtual
 * size, lets the driver show them, then records them in info.var. Call with info.lock held.
 */
export async function fb_pan_display(info: FbInfo, v: FbVarScreeninfo): Promise<number> {
  const fix = info.fix;
  let yres = info.var.yres;
  let err = 0;
  if (v.yoffset > 0) {
    if (v.vmode & FB_VMODE_YWRAP) {
      if (!fix.ywrapstep || v.yoffset % fix.ywrapstep) err = -EINVAL;
      else yres = 0;
    } else if (!fix.ypanstep || v.yoffset % fix.ypanstep) err = -EINVAL;
  }
  if (v.xoffset > 0 && (!fix.xpanstep || v.xoffset % fix.xpanstep)) err = -EINVAL;
  if (err || !info.fbops.fb_pan_display || v.yoffset > info.var.yres_virtual - yres ||
    v.xoffset > info.var.xres_virtual - info.var.xres) return -EINVAL;
  err = await info.fbops.fb_pan_display(v, info);
  if (err) return err;
  info.var.xoffset = v.xoffset;
  info.var.yoffset = v.yoffset;
  if (v.vmode & FB_VMODE_YWRAP) info.var.vmode |= FB_VMODE_YWRAP;
  else info.var.vmode &= ~FB_VMODE_YWRAP;
  return 0;
}

/** fb_blank(info, blank): -EINVAL without fb_ops.fb_blank; levels above POWERDOWN count as POWERDOWN. */
export async function fb_blank(info: FbInfo, blank: number): Promise<number> {
  if (!info.fbops.fb_blank) return -EINVAL;
  if (blank > FB_BLANK_POWERDOWN) blank = FB_BLANK_POWERDOWN;
  const old = info.blank;
  info.blank = blank;
  const ret = await info.fbops.fb_blank(blank, info);
  if (ret) info.blank = old;
  return ret;
}

/** struct fb_cmap: a palette range, 16-bit components. */
export class FbCmap {
  constructor(public start: number, public len: number, public red = new Uint16Array(len),
    public green = new Uint16Array(len), public blue = new Uint16Array(len), public transp: Uint16Array | null = null) {}
}

/** fb_set_cmap(cmap, info): fb_setcolreg for each entry; -EINVAL without it or on a refused entry. */
export function fb_set_cmap(cmap: FbCmap, info: FbInfo): number {
  const set = info.fbops.fb_setcolreg;
  if (!set || cmap.start < 0) return -EINVAL;
  for (let i = 0; i < cmap.len; i++) {
    if (set.call(info.fbops, cmap.start + i, cmap.red[i]!, cmap.green[i]!, cmap.blue[i]!, cmap.transp?.[i] ?? 0xffff, info)) return -EINVAL;
  }
  return 0;
}
