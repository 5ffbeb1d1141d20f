/**
 * qtest-style tests of the vblank / page-flip interrupt block: FRAME_COUNT, RIS/MIS/IMSC/ICR,
 * SCANLINE and Y_OFFSET flips latched at vertical blank. Virtual time, except the last test,
 * which runs on the real clock to provoke late vblank events.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RealClock } from '../core/clock.js';
import { IrqLine } from '../core/irq.js';
import { Scheduler } from '../core/scheduler.js';
import { BochsDisplay } from './bochs.model.js';
import { A, B, bootDisplay, drawXrgb, firstPixelMismatch, setMode } from './bochs.fixture.js';

const PERIOD_60HZ = 16_666_667; // ns, rounded up: one advance(PERIOD) always crosses one vblank

describe('bochs-display: vblank block', () => {
  it('counts exactly 60 frames in one second of virtual time at 60 Hz', () => {
    const { mmio, clock, display } = bootDisplay();
    setMode(mmio, 1024, 768);
    clock.advance(999_999_999);
    assert.equal(mmio.read(A.FRAME_COUNT, 4), 59);
    clock.advance(1);
    assert.equal(mmio.read(A.FRAME_COUNT, 4), 60);
    assert.deepEqual(display.stats, { frames: 60, missedVblanks: 0, flips: 0 });
  });

  it('follows refreshHz, fractional rates included', () => {
    const { mmio, clock } = bootDisplay({ refreshHz: 59.94 });
    setMode(mmio, 1024, 768);
    clock.advance(1_001_001_000); // 60 frames at 59.94 Hz take 60 / 59.94 s = 1.001001001 s
    assert.equal(mmio.read(A.FRAME_COUNT, 4), 59);
    clock.advance(1);
    assert.equal(mmio.read(A.FRAME_COUNT, 4), 60);
  });

  it('stops counting while disabled and restarts its frame clock on enable', () => {
    const { mmio, clock } = bootDisplay();
    clock.advance(1e9);
    assert.equal(mmio.read(A.FRAME_COUNT, 4), 0, 'no vblanks while the display is off');
    setMode(mmio, 640, 480);
    clock.advance(PERIOD_60HZ * 2);
    mmio.write(A.ENABLE, 2, 0);
    clock.advance(1e9);
    assert.equal(mmio.read(A.FRAME_COUNT, 4), 2);
    assert.equal(mmio.read(A.SCANLINE, 4), 0);
  });

  it('drives the IRQ from RIS & IMSC; ICR clears; MIS mirrors the masked bits', () => {
    const { mmio, clock, irq, edges } = bootDisplay();
    setMode(mmio, 1024, 768);
    clock.advance(PERIOD_60HZ);
    assert.equal(mmio.read(A.RIS, 4), B.RIS.VBLANK);
    assert.equal(mmio.read(A.MIS, 4), 0);
    assert.equal(irq.level, false, 'masked');
    mmio.write(A.IMSC, 4, B.IMSC.VBLANK);
    assert.equal(irq.level, true, 'unmasking a pending bit raises the line');
    assert.equal(mmio.read(A.MIS, 4), B.MIS.VBLANK);
    mmio.write(A.ICR, 4, B.ICR.FLIP_DONE);
    assert.equal(irq.level, true, 'clearing another bit leaves VBLANK pending');
    mmio.write(A.ICR, 4, B.ICR.VBLANK);
    assert.equal(irq.level, false);
    assert.equal(mmio.read(A.RIS, 4), 0);
    assert.equal(mmio.read(A.ICR, 4), 0, 'ICR is write-only');
    clock.advance(PERIOD_60HZ);
    assert.equal(irq.level, true, 'the next vblank raises it again');
    mmio.write(A.IMSC, 4, 0);
    assert.equal(irq.level, false, 'masking lowers the line; RIS stays');
    assert.equal(mmio.read(A.RIS, 4), B.RIS.VBLANK);
    assert.deepEqual(edges, [true, false, true, false]);
  });

  it('latches a Y_OFFSET flip only at vblank and raises FLIP_DONE once', () => {
    const { mmio, clock, vram, display, irq } = bootDisplay();
    setMode(mmio, 1920, 1080);
    const stride = 1920 * 4;
    const page0 = drawXrgb(vram, 0, stride, 1920, 1080, 10);
    const page1 = drawXrgb(vram, 1080 * stride, stride, 1920, 1080, 20);
    mmio.write(A.IMSC, 4, B.IMSC.FLIP_DONE);
    assert.equal(firstPixelMismatch(display.scanout()!.rgba, page0), -1);

    clock.advance(PERIOD_60HZ / 2);
    mmio.write(A.ICR, 4, B.ICR.VBLANK | B.ICR.FLIP_DONE);
    // bochs_hw_setbase: VIRT_WIDTH, X_OFFSET, Y_OFFSET
    mmio.write(A.VIRT_WIDTH, 2, 1920);
    mmio.write(A.X_OFFSET, 2, 0);
    mmio.write(A.Y_OFFSET, 2, 1080);
    assert.equal(mmio.read(A.Y_OFFSET, 2), 1080, 'the shadow reads back at once');
    assert.equal(firstPixelMismatch(display.scanout()!.rgba, page0), -1, 'before vblank: the old page');
    assert.equal(irq.level, false);

    clock.advance(PERIOD_60HZ / 2);
    assert.equal(mmio.read(A.RIS, 4), B.RIS.VBLANK | B.RIS.FLIP_DONE);
    assert.equal(irq.level, true);
    assert.equal(firstPixelMismatch(display.scanout()!.rgba, page1), -1, 'after vblank: the new page');
    mmio.write(A.ICR, 4, B.ICR.VBLANK | B.ICR.FLIP_DONE);

    clock.advance(PERIOD_60HZ * 3);
    assert.equal(mmio.read(A.RIS, 4), B.RIS.VBLANK, 'no further FLIP_DONE without a new flip');
    assert.equal(irq.level, false);
    assert.equal(display.stats.flips, 1);
    assert.equal(firstPixelMismatch(display.scanout()!.rgba, page1), -1);
  });

  it('reports the scanline: vertical blank (45/1125 of the frame) first, then the visible lines', () => {
    const { mmio, clock } = bootDisplay();
    setMode(mmio, 1920, 1080);
    const line = 16_666_666.67 / 1125;
    assert.equal(mmio.read(A.SCANLINE, 4), 1080, 'enable starts in vertical blank');
    clock.advance(Math.ceil(44 * line));
    assert.equal(mmio.read(A.SCANLINE, 4), 1124, 'last blanking line');
    clock.advance(Math.ceil(line));
    assert.equal(mmio.read(A.SCANLINE, 4), 0, 'first visible line');
    clock.advance(Math.ceil(540 * line));
    assert.equal(mmio.read(A.SCANLINE, 4), 540);
    clock.runUntil(PERIOD_60HZ);
    assert.equal(mmio.read(A.SCANLINE, 4), 1080, 'the next vblank');
  });

  it('scales the vertical timing to the mode', () => {
    const { mmio, clock } = bootDisplay();
    setMode(mmio, 1024, 768); // 768 visible + 32 blanking lines
    clock.advance(Math.ceil((16_666_666.67 * 32) / 800));
    assert.equal(mmio.read(A.SCANLINE, 4), 0);
  });

  it('restores reset state: display off, no interrupt, counters at 0; unrealize drops the timers', () => {
    const { mmio, clock, display, irq } = bootDisplay();
    setMode(mmio, 640, 480);
    mmio.write(A.IMSC, 4, B.IMSC.VBLANK);
    clock.advance(PERIOD_60HZ);
    assert.equal(irq.level, true);
    display.reset();
    assert.equal(irq.level, false);
    assert.equal(mmio.read(A.FRAME_COUNT, 4), 0);
    assert.equal(mmio.read(A.ENABLE, 2), 0);
    assert.equal(clock.pending, 0);
    setMode(mmio, 640, 480);
    display.unrealize();
    assert.equal(clock.pending, 0);
  });
});

describe('bochs-display: real-time frame clock', () => {
  it('counts vblanks missed while the event loop was busy', async () => {
    const scheduler = new Scheduler(new RealClock(), { unref: true });
    const display = new BochsDisplay({ scheduler, irq: new IrqLine() });
    display.realize();
    try {
      setMode(display.regions[0]!, 640, 480);
      const until = performance.now() + 120;
      while (performance.now() < until) { /* hold the loop: ~7 vblanks pass unseen */ }
      await new Promise((resolve) => setTimeout(resolve, 40));
      const { frames, missedVblanks } = display.stats;
      assert.ok(missedVblanks >= 4, `missed ${missedVblanks}`);
      assert.equal(display.regions[0]!.read(A.FRAME_COUNT, 4), frames + missedVblanks, 'FRAME_COUNT counts every vblank that passed');
    } finally {
      display.unrealize();
    }
  });
});
