/**
 * @module display/bochs.timing
 * The display's frame clock: where each vertical blank falls in time and which line is being
 * scanned at a given instant. Pure arithmetic on nanosecond bigints, so virtual time gives
 * exact, repeatable answers.
 *
 * Vblank k (k = 1, 2, ...) starts at `t0 + floor(k * 1e9 / refreshHz)` ns, where t0 is the instant
 * the display was enabled. Computing every instant from t0, not by adding a rounded period,
 * keeps the grid free of drift: at 60 Hz the 60th vblank is exactly 1 s after t0, although one
 * period (16 666 666.67 ns) is not a whole number of ns. The rate is kept in millihertz, so
 * rates like 59.94 Hz work too.
 *
 * Each frame starts with its vertical blank (the event fires at vblank start), followed by the
 * visible lines. The vertical timing is CEA 1080p60's scaled to the mode: 45 blanking lines per
 * 1080 visible lines, i.e. vertical blank is 45/1125 of the frame (hardware-models.md §3.3).
 *
 * @example
 * const grid = new FrameGrid(0n, 60);
 * grid.vblankAt(60n);                  // 1_000_000_000n
 * grid.frameAt(999_999_999n);          // 59n: the 60th vblank has not started yet
 * grid.scanline(0n, 1080);             // 1080: first line of vertical blank
 */
import { REFERENCE_TIMING } from './bochs.regs.js';

const NS_PER_S_MILLI = 1_000_000_000_000n; // ns per second × 1000 (rate is in mHz)

/** Blanking lines the model inserts after `yres` visible lines (at least one). */
export function vblankLines(yres: number): number {
  return Math.max(1, Math.round((yres * REFERENCE_TIMING.VBLANK_LINES) / REFERENCE_TIMING.VDISPLAY));
}

/** The instants of vertical blank for one enable period of the display. */
export class FrameGrid {
  private readonly milliHz: bigint;

  /** `t0`: when scanning started (ns); `refreshHz`: frames per second (validated by the model). */
  constructor(readonly t0: bigint, refreshHz: number) {
    this.milliHz = BigInt(Math.round(refreshHz * 1000));
  }

  /** Start of vblank number `k` (k = 0 is t0 itself). */
  vblankAt(k: bigint): bigint {
    return this.t0 + (k * NS_PER_S_MILLI) / this.milliHz;
  }

  /** The last vblank number that has started at `now` (0 before the first one). */
  frameAt(now: bigint): bigint {
    const d = now - this.t0;
    if (d < 0n) return 0n;
    // vblankAt(k) <= now  <=>  k * 1e12 < (d + 1) * mHz; the largest such k:
    const num = (d + 1n) * this.milliHz;
    return (num + NS_PER_S_MILLI - 1n) / NS_PER_S_MILLI - 1n;
  }

  /**
   * Line being scanned at `now` for a mode with `yres` visible lines: 0..yres-1 while visible,
   * yres..vtotal-1 during vertical blank (the DRM `get_scanout_position` convention).
   */
  scanline(now: bigint, yres: number): number {
    const k = this.frameAt(now);
    const start = this.vblankAt(k);
    const period = this.vblankAt(k + 1n) - start;
    const blank = vblankLines(yres);
    const vtotal = yres + blank;
    const line = Number(((now - start) * BigInt(vtotal)) / period);
    return line < blank ? yres + line : line - blank;
  }
}
