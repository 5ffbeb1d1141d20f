/**
 * @module control/screenshot-method
 * The control socket's `screenshot`: what a framebuffer device shows, as a PNG.
 *
 * - `source: 'scanout'` (the default): what is on screen, from the display model itself: the
 *   frame it latched at the last vblank, at the latched pan offsets. Fails (ENODATA) while the
 *   display shows nothing (blanked, or a mode it cannot display).
 * - `source: 'fb'`: the framebuffer memory as an application reads it through the device:
 *   FBIOGET_VSCREENINFO and FBIOGET_FSCREENINFO, then pread of the visible rectangle at the
 *   current pan offset (var.xoffset/yoffset), converted with var's red/green/blue bitfields.
 *   Right after a pan the two differ until the next vblank latches it.
 *
 * The user-space view of <linux/fb.h> is decoded here (64-bit layouts: fb_var_screeninfo 160
 * bytes, fb_fix_screeninfo 80): only the fields a screenshot needs.
 *
 * @example
 * const r = await screenshot(kernel, { path: '/dev/fb0' });   // { source: 'scanout', width, height, png }
 */
import { encodePng } from '../../devices/display/png.js';
import type { IKernel } from '../kernel-api.js';
import { SystemError } from '../errors/hm-error.js';
import { O } from '../vfs/types.js';
import { MAX_LINE_BYTES, type ScreenshotParams, type ScreenshotResult } from './protocol.js';
import { protocolError } from './wire-error.js';

const FBIOGET_VSCREENINFO = 0x4600;
const FBIOGET_FSCREENINFO = 0x4602;
const FB_VISUAL_TRUECOLOR = 2;
const FB_VISUAL_DIRECTCOLOR = 4;

interface Frame { width: number; height: number; rgba: Uint8Array; xoffset?: number; yoffset?: number; bpp?: number }

/** One colour channel of a pixel value, scaled to 8 bits. */
function channel(p: number, offset: number, length: number): number {
  if (length === 0) return 0;
  const max = length >= 32 ? 0xffffffff : (1 << length) - 1;
  const c = (p >>> offset) & max;
  return length === 8 ? c : Math.round((c * 255) / max);
}

/** The visible part of the framebuffer at the current pan offset, read through the device. */
async function fbFrame(kernel: IKernel, path: string): Promise<Frame> {
  const fh = await kernel.vfs.open(path, O.RDONLY);
  try {
    const v = Buffer.alloc(160);
    const f = Buffer.alloc(80);
    await fh.ioctl(FBIOGET_VSCREENINFO, v);
    await fh.ioctl(FBIOGET_FSCREENINFO, f);
    const [xres, yres, , , xoffset, yoffset, bpp] = [0, 4, 8, 12, 16, 20, 24].map((o) => v.readUInt32LE(o)) as number[];
    const [rOff, rLen, , gOff, gLen, , bOff, bLen] = [32, 36, 40, 44, 48, 52, 56, 60].map((o) => v.readUInt32LE(o)) as number[];
    const visual = f.readUInt32LE(36);
    const line = f.readUInt32LE(48);
    if (visual !== FB_VISUAL_TRUECOLOR && visual !== FB_VISUAL_DIRECTCOLOR) {
      throw new SystemError('EOPNOTSUPP', 'screenshot', path, `visual ${visual}: only truecolour framebuffers are converted`);
    }
    if (![16, 24, 32].includes(bpp!) || !xres || !yres) throw new SystemError('EOPNOTSUPP', 'screenshot', path, `${xres}x${yres} at ${bpp} bpp`);
    const Bpp = bpp! / 8;
    const start = yoffset! * line + xoffset! * Bpp;
    const span = (yres! - 1) * line + xres! * Bpp;
    const mem = Buffer.alloc(span);
    for (let got = 0; got < span;) {
      const { bytesRead } = await fh.read(mem, got, span - got, start + got);
      if (bytesRead === 0) throw new SystemError('EIO', 'screenshot', path, `framebuffer ends at ${start + got}, before the visible frame does`);
      got += bytesRead;
    }
    const rgba = new Uint8Array(xres! * yres! * 4);
    for (let y = 0, d = 0; y < yres!; y++) {
      for (let x = 0, s = y * line; x < xres!; x++, s += Bpp, d += 4) {
        const p = Bpp === 4 ? mem.readUInt32LE(s) : Bpp === 3 ? mem.readUIntLE(s, 3) : mem.readUInt16LE(s);
        rgba[d] = channel(p, rOff!, rLen!);
        rgba[d + 1] = channel(p, gOff!, gLen!);
        rgba[d + 2] = channel(p, bOff!, bLen!);
        rgba[d + 3] = 0xff;
      }
    }
    return { width: xres!, height: yres!, rgba, xoffset, yoffset, bpp };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

export async function screenshot(kernel: IKernel, p: ScreenshotParams): Promise<ScreenshotResult> {
  const source = p.source ?? 'scanout';
  if (source !== 'scanout' && source !== 'fb') throw protocolError('EINVAL', `params.source: expected "scanout" or "fb", got ${JSON.stringify(source)}`);
  let frame: Frame;
  if (source === 'fb') {
    frame = await fbFrame(kernel, p.path);
  } else {
    if (!kernel.scanout) throw protocolError('EOPNOTSUPP', 'this kernel has no machine: no display to read', ['use --source fb to read the framebuffer memory']);
    const s = await kernel.scanout(p.path);
    if (typeof s === 'string') throw new SystemError('ENODATA', 'screenshot', p.path, `nothing is on screen: ${s}`);
    frame = s;
  }
  const png = encodePng(frame.width, frame.height, frame.rgba);
  if ((png.length * 4) / 3 > MAX_LINE_BYTES - 4096) {
    throw protocolError('EFBIG', `a ${frame.width}x${frame.height} PNG (${png.length} bytes) does not fit in one control message`);
  }
  return {
    source, width: frame.width, height: frame.height, png: png.toString('base64'),
    ...(frame.xoffset !== undefined ? { xoffset: frame.xoffset, yoffset: frame.yoffset, bpp: frame.bpp } : {}),
  };
}
