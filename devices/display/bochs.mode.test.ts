/**
 * qtest-style tests of the display controller's mode setting and scanout: only MMIO, VRAM bytes,
 * the IRQ line and virtual time (plus scanout(), the monitor's view).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BochsConfigError, BochsDisplay } from './bochs.model.js';
import { DISPI_ENABLE, DISPI_ID, QEXT_BYTE_ORDER } from './bochs.regs.js';
import { A, bootDisplay, drawXrgb, firstPixelMismatch, setMode } from './bochs.fixture.js';
import { IrqLine } from '../core/irq.js';
import { Scheduler } from '../core/scheduler.js';
import { VirtualClock } from '../core/clock.js';

describe('bochs-display: identification and mode setting', () => {
  it('identifies as DISPI ID5 and reports its VRAM size, like Linux bochs_hw_init reads it', () => {
    const { mmio, irq, display } = bootDisplay();
    const id = mmio.read(A.ID, 2);
    assert.equal(id, DISPI_ID.ID5);
    assert.equal(id & DISPI_ID.MASK, DISPI_ID.ID0);
    assert.equal(mmio.read(A.VIDEO_MEMORY_64K, 2) * 65536, 16 << 20);
    assert.equal(display.vram.byteLength, 16 << 20);
    assert.equal(mmio.read(A.QEXT_SIZE, 4), 8);
    assert.equal(mmio.read(A.BYTE_ORDER, 4), QEXT_BYTE_ORDER.LITTLE_ENDIAN);
    assert.equal(mmio.read(A.ENABLE, 2), 0);
    assert.equal(irq.level, false);
    assert.equal(display.scanout(), null, 'nothing is shown before the mode is enabled');
  });

  it('brings up 1024x768x32 in the Linux order and scans out the pattern drawn into VRAM', () => {
    const { mmio, vram, display, logs } = bootDisplay();
    setMode(mmio, 1024, 768);
    assert.equal(mmio.read(A.XRES, 2), 1024);
    assert.equal(mmio.read(A.YRES, 2), 768);
    assert.equal(mmio.read(A.BPP, 2), 32);
    assert.equal(mmio.read(A.VIRT_HEIGHT, 2), 4096);
    assert.equal(mmio.read(A.ENABLE, 2), DISPI_ENABLE.ENABLED | DISPI_ENABLE.LFB_ENABLED);
    const expected = drawXrgb(vram, 0, 1024 * 4, 1024, 768, 1);
    const frame = display.scanout()!;
    assert.equal(frame.width, 1024);
    assert.equal(frame.height, 768);
    assert.equal(firstPixelMismatch(frame.rgba, expected), -1);
    assert.deepEqual(logs, []);
  });

  it('brings up 1920x1080x32, which fits twice in 16 MiB', () => {
    const { mmio, vram, display } = bootDisplay();
    setMode(mmio, 1920, 1080);
    assert.equal(mmio.read(A.VIRT_HEIGHT, 2), Math.floor((16 << 20) / 7680));
    const expected = drawXrgb(vram, 0, 7680, 1920, 1080, 2);
    const frame = display.scanout()!;
    assert.equal(frame.rgba.length, 1920 * 1080 * 4);
    assert.equal(firstPixelMismatch(frame.rgba, expected), -1);
  });

  it('clears the first screen of VRAM on enable unless NOCLEARMEM is set', () => {
    const { mmio, vram, display } = bootDisplay();
    vram.fill(0xaa, 0, 2 << 20);
    setMode(mmio, 640, 480);
    assert.equal(vram[0], 0);
    assert.equal(vram[640 * 4 * 480 - 1], 0);
    assert.equal(vram[640 * 4 * 480], 0xaa, 'only YRES lines of the stride are cleared');
    assert.ok(display.scanout()!.rgba.every((v, i) => v === (i % 4 === 3 ? 0xff : 0)), 'a black screen');
    vram.fill(0x55, 0, 640 * 4 * 480);
    setMode(mmio, 640, 480, 32, DISPI_ENABLE.NOCLEARMEM);
    assert.equal(vram[0], 0x55);
    assert.deepEqual([...display.scanout()!.rgba.subarray(0, 4)], [0x55, 0x55, 0x55, 0xff]);
  });

  it('pans with X_OFFSET over a VIRT_WIDTH wider than XRES', () => {
    const { mmio, vram, display, clock } = bootDisplay();
    setMode(mmio, 640, 480);
    mmio.write(A.VIRT_WIDTH, 2, 1024);
    mmio.write(A.X_OFFSET, 2, 100);
    const stride = 1024 * 4;
    const all = drawXrgb(vram, 0, stride, 1024, 480, 3);
    clock.advance(16_666_667);
    const frame = display.scanout()!;
    const expected = new Uint8Array(640 * 480 * 4);
    for (let y = 0; y < 480; y++) expected.set(all.subarray((y * 1024 + 100) * 4, (y * 1024 + 740) * 4), y * 640 * 4);
    assert.equal(firstPixelMismatch(frame.rgba, expected), -1);
  });

  it('scans out RGB565, BGR888 and big-endian XRGB8888', () => {
    const { mmio, vram, display } = bootDisplay();
    setMode(mmio, 64, 64, 16, DISPI_ENABLE.NOCLEARMEM);
    vram.set([0x00, 0xf8, 0xe0, 0x07, 0x1f, 0x00, 0xff, 0xff]); // red, green, blue, white (LE)
    assert.deepEqual([...display.scanout()!.rgba.subarray(0, 16)], [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255]);
    setMode(mmio, 64, 64, 24, DISPI_ENABLE.NOCLEARMEM);
    vram.set([0x30, 0x20, 0x10]);
    assert.deepEqual([...display.scanout()!.rgba.subarray(0, 4)], [0x10, 0x20, 0x30, 255]);
    setMode(mmio, 64, 64, 32, DISPI_ENABLE.NOCLEARMEM);
    mmio.write(A.BYTE_ORDER, 4, QEXT_BYTE_ORDER.BIG_ENDIAN);
    vram.set([0x00, 0x11, 0x22, 0x33]);
    assert.deepEqual([...display.scanout()!.rgba.subarray(0, 4)], [0x11, 0x22, 0x33, 255]);
  });

  it('uses an external VRAM buffer, so another mapping of it sees the same pixels', () => {
    const shared = new SharedArrayBuffer(4 << 20);
    const { mmio, display } = bootDisplay({}, shared);
    assert.equal(mmio.read(A.VIDEO_MEMORY_64K, 2), 64);
    assert.equal(display.vram, shared);
    setMode(mmio, 256, 256);
    new Uint32Array(shared)[0] = 0x00123456;
    assert.deepEqual([...display.scanout()!.rgba.subarray(0, 4)], [0x12, 0x34, 0x56, 255]);
  });

  it('refuses bad params in realize with a typed error', () => {
    const make = (params: object, vram?: SharedArrayBuffer) => () =>
      new BochsDisplay({ scheduler: new Scheduler(new VirtualClock()), irq: new IrqLine(), params, vram }).realize();
    assert.throws(make({ vramBytes: 3 << 20 }), BochsConfigError);
    assert.throws(make({ vramBytes: 512 << 20 }), /power of two from 4 MiB to 256 MiB/);
    assert.throws(make({ refreshHz: 0 }), /refreshHz 0/);
    assert.throws(make({ vramBytes: 8 << 20 }, new SharedArrayBuffer(4 << 20)), /smaller than vramBytes/);
  });
});

describe('bochs-display: guest misuse is logged, never thrown', () => {
  it('clamps XRES/YRES/VIRT_WIDTH above the DISPI maximums and logs it', () => {
    const { mmio, logs } = bootDisplay();
    mmio.write(A.XRES, 2, 20000);
    mmio.write(A.YRES, 2, 13000);
    mmio.write(A.VIRT_WIDTH, 2, 40000);
    assert.equal(mmio.read(A.XRES, 2), 16000);
    assert.equal(mmio.read(A.YRES, 2), 12000);
    assert.equal(mmio.read(A.VIRT_WIDTH, 2), 16000);
    assert.deepEqual(logs, [
      'bochs0: guest error: XRES 20000 exceeds 16000; clamped to 16000',
      'bochs0: guest error: YRES 13000 exceeds 12000; clamped to 12000',
      'bochs0: guest error: VIRT_WIDTH 40000 exceeds 16000; clamped to 16000',
    ]);
  });

  it('blanks an undisplayable mode, logs it once, and keeps the vblanks coming', () => {
    const { mmio, display, logs, clock } = bootDisplay();
    setMode(mmio, 640, 480, 8);
    assert.equal(display.scanout(), null);
    clock.advance(100_000_000);
    assert.equal(mmio.read(A.FRAME_COUNT, 4), 6);
    assert.deepEqual(logs, ['bochs0: guest error: mode not displayable, display blank: BPP 8 is not one of 16, 24, 32']);
    mmio.write(A.BPP, 2, 32);
    assert.notEqual(display.scanout(), null, 'fixing BPP takes effect at once');
    mmio.write(A.XRES, 2, 32);
    assert.equal(display.scanout(), null);
    assert.match(logs[1]!, /32x480 is smaller than 64x64/);
    assert.equal(logs.length, 2);
  });

  it('blanks a frame that would run past the end of VRAM', () => {
    const { mmio, display, logs } = bootDisplay({ vramBytes: 4 << 20 });
    setMode(mmio, 1920, 1080);
    assert.equal(display.scanout(), null, '1920x1080x32 needs 7.9 MiB');
    assert.match(logs[0]!, /runs past the end of VRAM \(0x400000\)/);
  });

  it('logs unmapped offsets (EDID included) and reads 0', () => {
    const { mmio, logs, display } = bootDisplay();
    assert.equal(mmio.read(0x000, 1), 0, 'no EDID: the header check fails and the driver uses its own modes');
    assert.equal(mmio.read(0x516, 2), 0);
    mmio.write(0x800, 4, 1);
    assert.deepEqual(logs, [
      'bochs0: unhandled read at 0x0 (size 1)',
      'bochs0: unhandled read at 0x516 (size 2)',
      'bochs0: unhandled write at 0x800 (size 4)',
    ]);
    assert.equal(display.regs.stats.unhandledReads, 2);
  });

  it('refuses wrong-sized accesses and writes to read-only registers', () => {
    const { mmio, logs } = bootDisplay();
    mmio.write(A.XRES, 4, 0x04000400);
    assert.equal(mmio.read(A.XRES, 2), 0, 'a 4-byte DISPI access is refused, not split');
    assert.equal(mmio.read(A.IMSC, 2), 0);
    mmio.write(A.ID, 2, 0xb0c0);
    assert.equal(mmio.read(A.ID, 2), DISPI_ID.ID5);
    mmio.write(A.BYTE_ORDER, 4, 0x12345678);
    assert.equal(mmio.read(A.BYTE_ORDER, 4), QEXT_BYTE_ORDER.LITTLE_ENDIAN);
    assert.equal(logs.length, 4);
    assert.match(logs[0]!, /write of XRES at 0x502 with unsupported size 4/);
    assert.match(logs[1]!, /read of IMSC at 0x700 with unsupported size 2/);
    assert.match(logs[2]!, /tries to change read-only bits/);
    assert.match(logs[3]!, /BYTE_ORDER 0x12345678 .* ignored/);
  });

  it('accepts byte accesses to DISPI registers', () => {
    const { mmio } = bootDisplay();
    mmio.write(A.XRES, 1, 0x00);
    mmio.write(A.XRES + 1, 1, 0x04);
    assert.equal(mmio.read(A.XRES, 2), 0x400);
    assert.equal(mmio.read(A.ID + 1, 1), 0xb0);
  });
});
