/**
 * @module uapi/linux/fb.h
 * The framebuffer ABI user space sees: ioctl numbers, flag values, and `struct fb_var_screeninfo`
 * / `struct fb_fix_screeninfo` / `struct fb_vblank` with Linux's exact binary layouts on a
 * 64-bit (LP64, little-endian) machine, so a C-style user buffer works byte for byte:
 * fb_var_screeninfo is 160 bytes, fb_fix_screeninfo 80 (`unsigned long` smem_start and
 * mmio_start are 8 bytes and 8-aligned; 68 is its size on 32-bit), fb_vblank 32.
 *
 * Structs are TypeScript classes with Linux's field names, zeroed when created (as `struct
 * fb_var_screeninfo var = {0};`). `fb_var_to_bytes`/`fb_var_from_bytes` (and the fix/vblank
 * ones) convert between them and the user's bytes.
 */
import { _IOR, _IOW, _IOWR } from './ioctl.js';

export const FB_MAX = 32;

export const FBIOGET_VSCREENINFO = 0x4600;
export const FBIOPUT_VSCREENINFO = 0x4601;
export const FBIOGET_FSCREENINFO = 0x4602;
export const FBIOGETCMAP = 0x4604;
export const FBIOPUTCMAP = 0x4605;
export const FBIOPAN_DISPLAY = 0x4606;
/** _IOWR('F', 0x08, struct fb_cursor): 104 bytes on 64-bit. */
export const FBIO_CURSOR = _IOWR('F', 0x08, 104);
export const FBIOGET_CON2FBMAP = 0x460f;
export const FBIOPUT_CON2FBMAP = 0x4610;
export const FBIOBLANK = 0x4611;
export const FBIOGET_VBLANK = _IOR('F', 0x12, 32);
export const FBIO_WAITFORVSYNC = _IOW('F', 0x20, 4);

export const FB_TYPE_PACKED_PIXELS = 0, FB_TYPE_PLANES = 1, FB_TYPE_FOURCC = 5;
export const FB_VISUAL_MONO01 = 0, FB_VISUAL_MONO10 = 1, FB_VISUAL_TRUECOLOR = 2, FB_VISUAL_PSEUDOCOLOR = 3,
  FB_VISUAL_DIRECTCOLOR = 4, FB_VISUAL_STATIC_PSEUDOCOLOR = 5, FB_VISUAL_FOURCC = 6;
export const FB_ACCEL_NONE = 0;
export const FB_CAP_FOURCC = 1;

export const FB_ACTIVATE_NOW = 0, FB_ACTIVATE_NXTOPEN = 1, FB_ACTIVATE_TEST = 2, FB_ACTIVATE_MASK = 15,
  FB_ACTIVATE_VBL = 16, FB_ACTIVATE_ALL = 64, FB_ACTIVATE_FORCE = 128, FB_ACTIVATE_INV_MODE = 256;
export const FB_SYNC_HOR_HIGH_ACT = 1, FB_SYNC_VERT_HIGH_ACT = 2;
export const FB_VMODE_NONINTERLACED = 0, FB_VMODE_INTERLACED = 1, FB_VMODE_DOUBLE = 2, FB_VMODE_MASK = 255,
  FB_VMODE_YWRAP = 256, FB_VMODE_SMOOTH_XPAN = 512, FB_VMODE_CONUPDATE = 512;
export const FB_ROTATE_UR = 0, FB_ROTATE_CW = 1, FB_ROTATE_UD = 2, FB_ROTATE_CCW = 3;

export const FB_BLANK_UNBLANK = 0, FB_BLANK_NORMAL = 1, FB_BLANK_VSYNC_SUSPEND = 2, FB_BLANK_HSYNC_SUSPEND = 3,
  FB_BLANK_POWERDOWN = 4;

export const FB_VBLANK_VBLANKING = 0x001, FB_VBLANK_HBLANKING = 0x002, FB_VBLANK_HAVE_VBLANK = 0x004,
  FB_VBLANK_HAVE_HBLANK = 0x008, FB_VBLANK_HAVE_COUNT = 0x010, FB_VBLANK_HAVE_VCOUNT = 0x020,
  FB_VBLANK_HAVE_HCOUNT = 0x040, FB_VBLANK_VSYNCING = 0x080, FB_VBLANK_HAVE_VSYNC = 0x100;

/** sizeof(struct fb_var_screeninfo). */
export const FB_VAR_SCREENINFO_SIZE = 160;
/** sizeof(struct fb_fix_screeninfo) on 64-bit. */
export const FB_FIX_SCREENINFO_SIZE = 80;
/** sizeof(struct fb_vblank). */
export const FB_VBLANK_SIZE = 32;

/** struct fb_bitfield: where a colour channel sits in a pixel value. */
export class FbBitfield {
  constructor(public offset = 0, public length = 0, public msb_right = 0) {}
}

/** struct fb_var_screeninfo: the mode and the panning position (settable). */
export class FbVarScreeninfo {
  xres = 0;
  yres = 0;
  xres_virtual = 0;
  yres_virtual = 0;
  xoffset = 0;
  yoffset = 0;
  bits_per_pixel = 0;
  grayscale = 0;
  red = new FbBitfield();
  green = new FbBitfield();
  blue = new FbBitfield();
  transp = new FbBitfield();
  nonstd = 0;
  activate = 0;
  /** Picture size, mm. */
  height = 0;
  width = 0;
  accel_flags = 0;
  /** Pixel clock, ps. */
  pixclock = 0;
  left_margin = 0;
  right_margin = 0;
  upper_margin = 0;
  lower_margin = 0;
  hsync_len = 0;
  vsync_len = 0;
  sync = 0;
  vmode = 0;
  rotate = 0;
  colorspace = 0;
  reserved: [number, number, number, number] = [0, 0, 0, 0];
}

/** struct fb_fix_screeninfo: what the mode fixes (read-only for user space). */
export class FbFixScreeninfo {
  /** At most 15 characters (16 bytes with the NUL). */
  id = '';
  /** Bus address of the framebuffer memory (unsigned long). */
  smem_start = 0;
  smem_len = 0;
  type = 0;
  type_aux = 0;
  visual = 0;
  xpanstep = 0;
  ypanstep = 0;
  ywrapstep = 0;
  line_length = 0;
  mmio_start = 0;
  mmio_len = 0;
  accel = 0;
  capabilities = 0;
  reserved: [number, number] = [0, 0];
}

/** struct fb_vblank (FBIOGET_VBLANK). */
export class FbVblank {
  flags = 0;
  count = 0;
  vcount = 0;
  hcount = 0;
  reserved: [number, number, number, number] = [0, 0, 0, 0];
}

/** The u32 fields of fb_var_screeninfo after the four bitfields (offset 80 on). */
const VAR_TAIL = ['nonstd', 'activate', 'height', 'width', 'accel_flags', 'pixclock', 'left_margin', 'right_margin',
  'upper_margin', 'lower_margin', 'hsync_len', 'vsync_len', 'sync', 'vmode', 'rotate', 'colorspace'] as const;
const VAR_HEAD = ['xres', 'yres', 'xres_virtual', 'yres_virtual', 'xoffset', 'yoffset', 'bits_per_pixel', 'grayscale'] as const;
const VAR_BITFIELDS = ['red', 'green', 'blue', 'transp'] as const;

/** The 160 bytes of `v`, as copy_to_user sends them. */
export function fb_var_to_bytes(v: FbVarScreeninfo): Uint8Array {
  const b = new Uint8Array(FB_VAR_SCREENINFO_SIZE);
  const d = new DataView(b.buffer);
  let o = 0;
  const u32 = (x: number): void => { d.setUint32(o, x >>> 0, true); o += 4; };
  for (const k of VAR_HEAD) u32(v[k]);
  for (const k of VAR_BITFIELDS) { u32(v[k].offset); u32(v[k].length); u32(v[k].msb_right); }
  for (const k of VAR_TAIL) u32(v[k]);
  for (const r of v.reserved) u32(r);
  return b;
}

/** Parses 160 bytes (copy_from_user's result) into a new fb_var_screeninfo. */
export function fb_var_from_bytes(b: Uint8Array): FbVarScreeninfo {
  const d = new DataView(b.buffer, b.byteOffset, FB_VAR_SCREENINFO_SIZE);
  const v = new FbVarScreeninfo();
  let o = 0;
  const u32 = (): number => { const x = d.getUint32(o, true); o += 4; return x; };
  for (const k of VAR_HEAD) v[k] = u32();
  for (const k of VAR_BITFIELDS) v[k] = new FbBitfield(u32(), u32(), u32());
  for (const k of VAR_TAIL) v[k] = u32();
  v.reserved = [u32(), u32(), u32(), u32()];
  return v;
}

/** A deep copy (struct assignment `dst = src`). */
export function fb_var_copy(v: FbVarScreeninfo): FbVarScreeninfo {
  return fb_var_from_bytes(fb_var_to_bytes(v));
}

/** memcmp(a, b, sizeof(struct fb_var_screeninfo)) == 0. */
export function fb_var_equal(a: FbVarScreeninfo, b: FbVarScreeninfo): boolean {
  const x = fb_var_to_bytes(a), y = fb_var_to_bytes(b);
  return x.every((c, i) => c === y[i]);
}

/** The 80 bytes of `f` (64-bit layout). */
export function fb_fix_to_bytes(f: FbFixScreeninfo): Uint8Array {
  const b = new Uint8Array(FB_FIX_SCREENINFO_SIZE);
  const d = new DataView(b.buffer);
  b.set(new TextEncoder().encode(f.id).subarray(0, 15), 0);
  d.setBigUint64(16, BigInt(f.smem_start), true);
  d.setUint32(24, f.smem_len >>> 0, true);
  d.setUint32(28, f.type >>> 0, true);
  d.setUint32(32, f.type_aux >>> 0, true);
  d.setUint32(36, f.visual >>> 0, true);
  d.setUint16(40, f.xpanstep, true);
  d.setUint16(42, f.ypanstep, true);
  d.setUint16(44, f.ywrapstep, true);
  d.setUint32(48, f.line_length >>> 0, true);
  d.setBigUint64(56, BigInt(f.mmio_start), true);
  d.setUint32(64, f.mmio_len >>> 0, true);
  d.setUint32(68, f.accel >>> 0, true);
  d.setUint16(72, f.capabilities, true);
  d.setUint16(74, f.reserved[0], true);
  d.setUint16(76, f.reserved[1], true);
  return b;
}

/** Parses the 80 bytes of a fb_fix_screeninfo. */
export function fb_fix_from_bytes(b: Uint8Array): FbFixScreeninfo {
  const d = new DataView(b.buffer, b.byteOffset, FB_FIX_SCREENINFO_SIZE);
  const f = new FbFixScreeninfo();
  const id = b.subarray(0, 16);
  const nul = id.indexOf(0);
  f.id = new TextDecoder().decode(nul < 0 ? id : id.subarray(0, nul));
  f.smem_start = Number(d.getBigUint64(16, true));
  f.smem_len = d.getUint32(24, true);
  f.type = d.getUint32(28, true);
  f.type_aux = d.getUint32(32, true);
  f.visual = d.getUint32(36, true);
  f.xpanstep = d.getUint16(40, true);
  f.ypanstep = d.getUint16(42, true);
  f.ywrapstep = d.getUint16(44, true);
  f.line_length = d.getUint32(48, true);
  f.mmio_start = Number(d.getBigUint64(56, true));
  f.mmio_len = d.getUint32(64, true);
  f.accel = d.getUint32(68, true);
  f.capabilities = d.getUint16(72, true);
  f.reserved = [d.getUint16(74, true), d.getUint16(76, true)];
  return f;
}

/** The 32 bytes of a fb_vblank. */
export function fb_vblank_to_bytes(v: FbVblank): Uint8Array {
  const b = new Uint8Array(FB_VBLANK_SIZE);
  const d = new DataView(b.buffer);
  [v.flags, v.count, v.vcount, v.hcount, ...v.reserved].forEach((x, i) => d.setUint32(i * 4, x >>> 0, true));
  return b;
}
