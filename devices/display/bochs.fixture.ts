/**
 * @module display/bochs.fixture
 * Test fixture for the display tests (not a test file itself): boots a BochsDisplay on a
 * VirtualClock and offers what a qtest has, the MMIO window, VRAM bytes and the IRQ line,
 * plus a mode set in the order Linux's bochs driver uses and a pixel pattern to draw.
 */
import { VirtualClock } from '../core/clock.js';
import { IrqLine } from '../core/irq.js';
import { Scheduler } from '../core/scheduler.js';
import type { MmioRegionSpec } from '../core/device-model.js';
import { BochsDisplay, type BochsParams } from './bochs.model.js';
import { BOCHS_REGS, DISPI_ENABLE } from './bochs.regs.js';

export const A = BOCHS_REGS.offsets;
export const B = BOCHS_REGS.bits;

export function bootDisplay(params: Partial<BochsParams> = {}, vram?: SharedArrayBuffer) {
  const clock = new VirtualClock();
  const irq = new IrqLine('display');
  const logs: string[] = [];
  const display = new BochsDisplay({ name: 'bochs0', scheduler: new Scheduler(clock), irq, log: (m) => logs.push(m), params, vram });
  display.realize();
  const edges: boolean[] = [];
  irq.onChange((level) => edges.push(level));
  const mmio = display.regions[0]!;
  return { clock, display, mmio, vram: new Uint8Array(display.ramRegions[0]!.buffer), irq, edges, logs };
}

/**
 * `bochs_hw_setmode`: ENABLE = 0, BPP, XRES, YRES, BANK = 0, VIRT_WIDTH = xres, VIRT_HEIGHT =
 * VRAM / stride, X_OFFSET = Y_OFFSET = 0, then ENABLE = ENABLED | LFB_ENABLED (| extra).
 */
export function setMode(mmio: MmioRegionSpec, xres: number, yres: number, bpp = 32, extraEnable = 0): void {
  const vramBytes = mmio.read(A.VIDEO_MEMORY_64K, 2) * 65536;
  mmio.write(A.ENABLE, 2, DISPI_ENABLE.DISABLED);
  mmio.write(A.BPP, 2, bpp);
  mmio.write(A.XRES, 2, xres);
  mmio.write(A.YRES, 2, yres);
  mmio.write(A.BANK, 2, 0);
  mmio.write(A.VIRT_WIDTH, 2, xres);
  mmio.write(A.VIRT_HEIGHT, 2, Math.min(0xffff, Math.floor(vramBytes / ((xres * bpp) / 8))));
  mmio.write(A.X_OFFSET, 2, 0);
  mmio.write(A.Y_OFFSET, 2, 0);
  mmio.write(A.ENABLE, 2, DISPI_ENABLE.ENABLED | DISPI_ENABLE.LFB_ENABLED | extraEnable);
}

/** The colour of pixel (x, y) in pattern `seed`: [r, g, b]. */
export function patternColour(x: number, y: number, seed: number): [number, number, number] {
  return [(x * 7 + seed) & 0xff, (y * 13 + seed * 3) & 0xff, (x ^ y ^ seed) & 0xff];
}

/**
 * Draws pattern `seed` as XRGB8888 (little endian) into `vram` at `offset` with `stride`, the
 * way a CPU writes a dumb buffer, and returns the RGBA the display should show.
 */
export function drawXrgb(vram: Uint8Array, offset: number, stride: number, width: number, height: number, seed: number): Uint8Array {
  const view = new DataView(vram.buffer, vram.byteOffset, vram.byteLength);
  const expected = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = patternColour(x, y, seed);
      view.setUint32(offset + y * stride + x * 4, (r << 16) | (g << 8) | b, true);
      expected.set([r, g, b, 0xff], (y * width + x) * 4);
    }
  }
  return expected;
}

/** Index of the first differing pixel, or -1 (a readable failure instead of an 8 MB diff). */
export function firstPixelMismatch(actual: Uint8Array, expected: Uint8Array): number {
  if (actual.length !== expected.length) return 0;
  for (let i = 0; i < actual.length; i++) if (actual[i] !== expected[i]) return i >> 2;
  return -1;
}
