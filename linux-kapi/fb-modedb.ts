/**
 * @module linux/fb.h (struct fb_videomode) + drivers/video/fbdev/core/modedb.c
 * Video modes: `struct fb_videomode`, the conversions to and from fb_var_screeninfo, the mode
 * list helpers, and a few entries of Linux's `vesa_modes[]` (60 Hz, with their VESA timings).
 *
 * Differs from Linux: `vesa_modes` holds only the common 60 Hz modes, not all 34; the mode list
 * is an array (Linux: a list_head of fb_modelist).
 */
import { FB_VMODE_DOUBLE, FB_VMODE_INTERLACED, FB_VMODE_MASK, FB_SYNC_HOR_HIGH_ACT, FB_SYNC_VERT_HIGH_ACT,
  FB_VMODE_NONINTERLACED, type FbVarScreeninfo } from './fb-uapi.js';

export const FB_MODE_IS_UNKNOWN = 0, FB_MODE_IS_DETAILED = 1, FB_MODE_IS_STANDARD = 2, FB_MODE_IS_VESA = 4,
  FB_MODE_IS_CALCULATED = 8, FB_MODE_IS_FIRST = 16, FB_MODE_IS_FROM_VAR = 32;

/** struct fb_videomode. */
export class FbVideomode {
  constructor(
    public name: string | null = null,
    /** Hz (0: unknown). */
    public refresh = 0,
    public xres = 0,
    public yres = 0,
    /** ps */
    public pixclock = 0,
    public left_margin = 0,
    public right_margin = 0,
    public upper_margin = 0,
    public lower_margin = 0,
    public hsync_len = 0,
    public vsync_len = 0,
    public sync = 0,
    public vmode = 0,
    public flag = 0,
  ) {}
}

const HV = FB_SYNC_HOR_HIGH_ACT | FB_SYNC_VERT_HIGH_ACT;
const vesa = (x: number, y: number, pix: number, l: number, r: number, u: number, lo: number, hs: number, vs: number, sync: number): FbVideomode =>
  new FbVideomode(null, 60, x, y, pix, l, r, u, lo, hs, vs, sync, FB_VMODE_NONINTERLACED, FB_MODE_IS_VESA);

/** The 60 Hz entries of Linux's vesa_modes[] (and CEA 720p/1080p), smallest first. */
export const vesa_modes: readonly FbVideomode[] = Object.freeze([
  vesa(640, 480, 39721, 40, 24, 32, 11, 96, 2, 0),
  vesa(800, 600, 25000, 88, 40, 23, 1, 128, 4, HV),
  vesa(1024, 768, 15384, 160, 24, 29, 3, 136, 6, 0),
  vesa(1280, 720, 13468, 220, 110, 20, 5, 40, 5, HV),
  vesa(1280, 1024, 9259, 248, 48, 38, 1, 112, 3, HV),
  vesa(1920, 1080, 6734, 148, 88, 36, 4, 44, 5, HV),
]);

/** fb_var_to_videomode(mode, var): the timings of `var`, refresh computed as Linux does. */
export function fb_var_to_videomode(mode: FbVideomode, v: FbVarScreeninfo): void {
  Object.assign(mode, {
    name: null, xres: v.xres, yres: v.yres, pixclock: v.pixclock, hsync_len: v.hsync_len, vsync_len: v.vsync_len,
    left_margin: v.left_margin, right_margin: v.right_margin, upper_margin: v.upper_margin, lower_margin: v.lower_margin,
    sync: v.sync, vmode: v.vmode & FB_VMODE_MASK, flag: FB_MODE_IS_FROM_VAR, refresh: 0,
  });
  if (!v.pixclock) return;
  const pixclock = Math.trunc(1e9 / v.pixclock) * 1000; // PICOS2KHZ(pixclock) * 1000
  const htotal = v.xres + v.right_margin + v.hsync_len + v.left_margin;
  let vtotal = v.yres + v.lower_margin + v.vsync_len + v.upper_margin;
  if (v.vmode & FB_VMODE_INTERLACED) vtotal = Math.trunc(vtotal / 2);
  if (v.vmode & FB_VMODE_DOUBLE) vtotal *= 2;
  if (!htotal || !vtotal) return;
  mode.refresh = Math.trunc(Math.trunc(pixclock / htotal) / vtotal);
}

/** fb_videomode_to_var(var, mode): sets the resolution and timings, keeps the rest of `var`. */
export function fb_videomode_to_var(v: FbVarScreeninfo, mode: FbVideomode): void {
  Object.assign(v, {
    xres: mode.xres, yres: mode.yres, xres_virtual: mode.xres, yres_virtual: mode.yres, xoffset: 0, yoffset: 0,
    pixclock: mode.pixclock, left_margin: mode.left_margin, right_margin: mode.right_margin,
    upper_margin: mode.upper_margin, lower_margin: mode.lower_margin, hsync_len: mode.hsync_len,
    vsync_len: mode.vsync_len, sync: mode.sync, vmode: mode.vmode & FB_VMODE_MASK,
  });
}

/** fb_mode_is_equal: same resolution and timings (the name, refresh and flag do not count). */
export function fb_mode_is_equal(a: FbVideomode, b: FbVideomode): boolean {
  return a.xres === b.xres && a.yres === b.yres && a.pixclock === b.pixclock && a.hsync_len === b.hsync_len &&
    a.vsync_len === b.vsync_len && a.left_margin === b.left_margin && a.right_margin === b.right_margin &&
    a.upper_margin === b.upper_margin && a.lower_margin === b.lower_margin && a.sync === b.sync && a.vmode === b.vmode;
}

/** fb_add_videomode(mode, list): appends a copy unless an equal mode is listed; returns 0. */
export function fb_add_videomode(mode: FbVideomode, list: FbVideomode[]): number {
  if (!list.some((m) => fb_mode_is_equal(m, mode))) list.push(Object.assign(new FbVideomode(), mode));
  return 0;
}

/** fb_match_mode(var, list): the listed mode with var's resolution and timings, or null. */
export function fb_match_mode(v: FbVarScreeninfo, list: readonly FbVideomode[]): FbVideomode | null {
  const m = new FbVideomode();
  fb_var_to_videomode(m, v);
  return list.find((x) => fb_mode_is_equal(x, m)) ?? null;
}

/** The sysfs spelling of a mode ("U:1024x768p-60"), as fbsysfs.c's mode_string writes it. */
export function fb_mode_string(mode: FbVideomode): string {
  let m = 'U';
  if (mode.flag & FB_MODE_IS_DETAILED) m = 'D';
  if (mode.flag & FB_MODE_IS_VESA) m = 'V';
  if (mode.flag & FB_MODE_IS_STANDARD) m = 'S';
  let v = 'p';
  if (mode.vmode & FB_VMODE_INTERLACED) v = 'i';
  if (mode.vmode & FB_VMODE_DOUBLE) v = 'd';
  return `${m}:${mode.xres}x${mode.yres}${v}-${mode.refresh}\n`;
}
