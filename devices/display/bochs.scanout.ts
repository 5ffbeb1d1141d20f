/**
 * @module display/bochs.scanout
 * What the display shows: the mode check of QEMU `bochs_display_get_mode` (hardware-models.md
 * §3.1) and the conversion of the scanned VRAM bytes to RGBA. Pure functions over plain
 * numbers and a byte view of VRAM.
 *
 * Scanout rule: `stride = max(VIRT_WIDTH, XRES) * Bpp`, `offset = X_OFFSET * Bpp + Y_OFFSET *
 * stride`; the frame is `[offset, offset + stride * YRES)` of VRAM. A mode is not displayable
 * when BPP is not 16/24/32, the size is below 64×64, or the frame runs past the end of VRAM.
 *
 * Pixel formats, as stored in VRAM with the QEXT byte order (little endian by default):
 * 32 bpp XRGB8888 (bytes B, G, R, X), 24 bpp RGB888 (bytes B, G, R), 16 bpp RGB565. Big endian
 * stores the same pixel values with their bytes reversed.
 *
 * @example
 * const mode = resolveMode({ xres: 1024, yres: 768, bpp: 32, virtWidth: 1024, xOffset: 0, yOffset: 0, bigEndian: false }, vram.length);
 * if (typeof mode !== 'string') frame = toRgba(vram, mode);   // { width: 1024, height: 768, rgba }
 */
import { DISPI_LIMITS } from './bochs.regs.js';

/** An RGBA image, 8 bits per channel, rows top to bottom, no padding. */
export interface RgbaFrame {
  readonly width: number;
  readonly height: number;
  /** `width * height * 4` bytes: R, G, B, A per pixel. */
  readonly rgba: Uint8Array;
}

/** The register values the scanout depends on (offsets and virtual width: the latched copies). */
export interface ScanoutInputs {
  readonly xres: number;
  readonly yres: number;
  readonly bpp: number;
  readonly virtWidth: number;
  readonly xOffset: number;
  readonly yOffset: number;
  readonly bigEndian: boolean;
}

/** A displayable mode: where the frame is in VRAM and how its pixels are encoded. */
export interface ScanoutMode {
  readonly width: number;
  readonly height: number;
  readonly bpp: 16 | 24 | 32;
  /** Bytes per line in VRAM. */
  readonly stride: number;
  /** VRAM byte offset of the top-left visible pixel. */
  readonly offset: number;
  readonly bigEndian: boolean;
}

/** The displayable mode for `i`, or why there is none (one line, for the log). */
export function resolveMode(i: ScanoutInputs, vramBytes: number): ScanoutMode | string {
  if (!DISPI_LIMITS.BPP.includes(i.bpp)) return `BPP ${i.bpp} is not one of ${DISPI_LIMITS.BPP.join(', ')}`;
  if (i.xres < DISPI_LIMITS.MIN_XRES || i.yres < DISPI_LIMITS.MIN_YRES) {
    return `${i.xres}x${i.yres} is smaller than ${DISPI_LIMITS.MIN_XRES}x${DISPI_LIMITS.MIN_YRES}`;
  }
  const bytesPerPixel = i.bpp / 8;
  const stride = Math.max(i.virtWidth, i.xres) * bytesPerPixel;
  const offset = i.xOffset * bytesPerPixel + i.yOffset * stride;
  const end = offset + stride * i.yres;
  if (end > vramBytes) {
    return `frame 0x${offset.toString(16)}..0x${end.toString(16)} (X_OFFSET ${i.xOffset}, Y_OFFSET ${i.yOffset}, stride ${stride}) runs past the end of VRAM (0x${vramBytes.toString(16)})`;
  }
  return { width: i.xres, height: i.yres, bpp: i.bpp as 16 | 24 | 32, stride, offset, bigEndian: i.bigEndian };
}

/** Copies the visible frame of `mode` out of `vram` as opaque RGBA. */
export function toRgba(vram: Uint8Array, mode: ScanoutMode): RgbaFrame {
  const { width, height, stride, offset } = mode;
  const rgba = new Uint8Array(width * height * 4);
  const convertLine = LINE_CONVERTERS[mode.bpp][mode.bigEndian ? 1 : 0];
  for (let y = 0; y < height; y++) convertLine(vram, offset + y * stride, rgba, y * width * 4, width);
  return { width, height, rgba };
}

/** Converts `n` pixels starting at `src[s]` into RGBA at `dst[d]`. */
type LineConverter = (src: Uint8Array, s: number, dst: Uint8Array, d: number, n: number) => void;

/** Pixel value p → bytes in VRAM: little endian stores the low byte first. */
const LINE_CONVERTERS: Record<16 | 24 | 32, readonly [LineConverter, LineConverter]> = {
  32: [
    (src, s, dst, d, n) => { for (let i = 0; i < n; i++, s += 4, d += 4) rgb(dst, d, src[s + 2]!, src[s + 1]!, src[s]!); },
    (src, s, dst, d, n) => { for (let i = 0; i < n; i++, s += 4, d += 4) rgb(dst, d, src[s + 1]!, src[s + 2]!, src[s + 3]!); },
  ],
  24: [
    (src, s, dst, d, n) => { for (let i = 0; i < n; i++, s += 3, d += 4) rgb(dst, d, src[s + 2]!, src[s + 1]!, src[s]!); },
    (src, s, dst, d, n) => { for (let i = 0; i < n; i++, s += 3, d += 4) rgb(dst, d, src[s]!, src[s + 1]!, src[s + 2]!); },
  ],
  16: [
    (src, s, dst, d, n) => { for (let i = 0; i < n; i++, s += 2, d += 4) rgb565(dst, d, src[s]! | (src[s + 1]! << 8)); },
    (src, s, dst, d, n) => { for (let i = 0; i < n; i++, s += 2, d += 4) rgb565(dst, d, (src[s]! << 8) | src[s + 1]!); },
  ],
};

function rgb(dst: Uint8Array, d: number, r: number, g: number, b: number): void {
  dst[d] = r;
  dst[d + 1] = g;
  dst[d + 2] = b;
  dst[d + 3] = 0xff;
}

/** RGB565 → RGB888, replicating the top bits into the low ones so white stays 0xff. */
function rgb565(dst: Uint8Array, d: number, p: number): void {
  const r = (p >> 11) & 0x1f, g = (p >> 5) & 0x3f, b = p & 0x1f;
  rgb(dst, d, (r << 3) | (r >> 2), (g << 2) | (g >> 4), (b << 3) | (b >> 2));
}
