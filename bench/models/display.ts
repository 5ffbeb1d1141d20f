// Display benchmark pieces: a register-level vblank/flip driver for BochsDisplay, a display
// thread (display-worker.ts) running model + driver over a RealClock, and a virtual-clock flip
// loop that measures what one vblank + flip costs the model.
//
// The driver is DRM-like: IMSC = VBLANK | FLIP_DONE; its interrupt handler (a microtask after
// the line rises, like a threaded handler) reads MIS, acknowledges it in ICR, reads FRAME_COUNT
// and, in flip mode, writes the next Y_OFFSET (double buffering: 0 <-> yres), which the model
// latches at the next vblank. Lateness of each handled vblank = handler time - the vblank's
// scheduled instant (FrameGrid, the model's own arithmetic, from the ENABLE write).

import { Worker } from 'node:worker_threads';

import { RealClock, type Clock } from '../../devices/core/clock.js';
import type { MmioRegionSpec } from '../../devices/core/device-model.js';
import { IrqLine } from '../../devices/core/irq.js';
import { Scheduler } from '../../devices/core/scheduler.js';
import { bootDisplay, setMode } from '../../devices/display/bochs.fixture.js';
import { BochsDisplay, type BochsStats } from '../../devices/display/bochs.model.js';
import { BOCHS_REGS } from '../../devices/display/bochs.regs.js';
import { FrameGrid } from '../../devices/display/bochs.timing.js';

const A = BOCHS_REGS.offsets;
const B = BOCHS_REGS.bits;

export interface DisplayRunOptions {
  refreshHz: number;
  /** Page-flip every frame (Y_OFFSET 0 <-> yres). */
  flip: boolean;
  xres?: number;
  yres?: number;
}

/** Figures since the last `mark()` (since the display was enabled if never marked). */
export interface DisplayStats extends BochsStats {
  refreshHz: number;
  /** Seconds in the window. */
  seconds: number;
  /** FRAME_COUNT (counts missed vblanks too; since enable) and what the grid says it should be now. */
  frameCount: number;
  expectedFrames: number;
  /** Interrupts the driver handled, and FLIP_DONE among them. */
  handled: number;
  flipsDone: number;
  /** Handler lateness after the vblank instant, µs. */
  latenessUs: { p50: number; p99: number; max: number };
  /** flips / seconds. */
  flipsPerSec: number;
}

/** Model + driver in one thread over a real clock. */
export class DisplayRun {
  readonly display: BochsDisplay;
  private readonly mmio: MmioRegionSpec;
  private grid: FrameGrid | undefined;
  private t0 = 0n;
  private handled = 0;
  private flipsDone = 0;
  private page = 0;
  private lateNs: number[] = [];
  private pending = false;
  private base = { t: 0n, frames: 0, missedVblanks: 0, flips: 0, handled: 0, flipsDone: 0 };

  constructor(readonly clock: Clock, readonly sched: Scheduler, readonly o: DisplayRunOptions) {
    const irq = new IrqLine('bochs0');
    this.display = new BochsDisplay({ name: 'bochs0', scheduler: sched, irq, params: { vramBytes: 16 << 20, refreshHz: o.refreshHz } });
    this.display.realize();
    this.mmio = this.display.regions[0]!;
    irq.onChange((high) => {
      if (!high || this.pending) return;
      this.pending = true;
      queueMicrotask(this.handle);
    });
  }

  /** Sets the mode (Linux order) and starts the frame clock. */
  start(): void {
    const xres = this.o.xres ?? 640, yres = this.o.yres ?? 480;
    this.mmio.write(A.IMSC, 4, B.IMSC.VBLANK | B.IMSC.FLIP_DONE);
    setMode(this.mmio, xres, yres, 32);
    // The model's own frame grid (a private field, read only): its t0 is taken inside the
    // ENABLE write, between the first-screen clear and the first MMIO accesses' one-off costs,
    // so a timestamp around setMode() would be off by up to ~1 ms. Fallback: now.
    const grid = (this.display as unknown as { st?: { timing?: { grid?: unknown } } }).st?.timing?.grid;
    this.grid = grid instanceof FrameGrid ? grid : new FrameGrid(this.clock.now(), this.o.refreshHz);
    this.t0 = this.grid.t0;
    this.base.t = this.t0;
    if (this.o.flip) this.flip();
  }

  private flip(): void {
    this.page ^= 1;
    this.mmio.write(A.Y_OFFSET, 2, this.page * (this.o.yres ?? 480));
  }

  private readonly handle = (): void => {
    this.pending = false;
    const now = this.clock.now();
    const mis = this.mmio.read(A.MIS, 4);
    if (mis === 0) return;
    this.mmio.write(A.ICR, 4, mis);
    this.handled++;
    const k = this.mmio.read(A.FRAME_COUNT, 4);
    if (this.grid) this.lateNs.push(Number(now - this.grid.vblankAt(BigInt(k))));
    if (mis & B.RIS.FLIP_DONE) {
      this.flipsDone++;
      if (this.o.flip) this.flip();
    }
  };

  /** Starts a new measuring window (warm-up excluded): counters and lateness samples restart. */
  mark(): void {
    const st = this.display.stats;
    this.base = { t: this.clock.now(), frames: st.frames, missedVblanks: st.missedVblanks, flips: st.flips, handled: this.handled, flipsDone: this.flipsDone };
    this.lateNs = [];
  }

  stats(): DisplayStats {
    const seconds = Number(this.clock.now() - this.base.t) / 1e9;
    const late = [...this.lateNs].sort((a, b) => a - b);
    const q = (p: number) => (late.length ? late[Math.min(late.length - 1, Math.floor(p * late.length))]! / 1000 : 0);
    const st = this.display.stats, b = this.base;
    const flips = st.flips - b.flips;
    return {
      frames: st.frames - b.frames,
      missedVblanks: st.missedVblanks - b.missedVblanks,
      flips,
      refreshHz: this.o.refreshHz,
      seconds,
      frameCount: this.mmio.read(A.FRAME_COUNT, 4),
      expectedFrames: this.grid ? Number(this.grid.frameAt(this.clock.now())) : 0,
      handled: this.handled - b.handled,
      flipsDone: this.flipsDone - b.flipsDone,
      latenessUs: { p50: q(0.5), p99: q(0.99), max: late.length ? late[late.length - 1]! / 1000 : 0 },
      flipsPerSec: seconds > 0 ? flips / seconds : 0,
    };
  }

  stop(): DisplayStats {
    const s = this.stats();
    this.display.unrealize();
    this.sched.cancelAll();
    return s;
  }
}

/**
 * A display run in this thread (its events share this thread's event loop). The scheduler is
 * not unref'd: an unref'd setImmediate does not keep libuv from blocking in poll, so sub-ms
 * events would wait for the next unrelated wake-up.
 */
export function displayInThread(o: DisplayRunOptions): DisplayRun {
  const clock = new RealClock();
  const run = new DisplayRun(clock, new Scheduler(clock), o);
  run.start();
  return run;
}

export interface DisplayThread {
  /** Starts the measuring window; resolves with the figures of the warm-up before it. */
  mark(): Promise<DisplayStats>;
  stats(): Promise<DisplayStats>;
  /** Stops the model and the thread; returns the final figures. */
  stop(): Promise<DisplayStats>;
}

const WORKER_URL = new URL('./display-worker.js', import.meta.url);

/** A display run in a worker thread of its own (as the machine thread would run it). */
export async function displayThread(o: DisplayRunOptions): Promise<DisplayThread> {
  const worker = new Worker(WORKER_URL, { workerData: o, execArgv: [] });
  const waiters: ((s: DisplayStats) => void)[] = [];
  let failure: Error | undefined;
  const failAll = (e: Error) => {
    failure ??= e;
  };
  worker.on('error', failAll);
  worker.on('message', (m: { type: string; stats?: DisplayStats }) => {
    if (m.type === 'stats') waiters.shift()?.(m.stats!);
  });
  await new Promise<void>((resolve, reject) => {
    const onMsg = (m: { type: string }) => { if (m.type === 'ready') { worker.off('message', onMsg); resolve(); } };
    worker.on('message', onMsg);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`display thread exited (${code}) before it was ready`)));
  });
  const ask = (type: 'stats' | 'mark' | 'stop') => new Promise<DisplayStats>((resolve, reject) => {
    if (failure) return reject(failure);
    const t = setTimeout(() => reject(new Error('display thread did not answer within 5 s')), 5000);
    waiters.push((s) => { clearTimeout(t); resolve(s); });
    worker.postMessage({ type });
  });
  return {
    mark: () => ask('mark'),
    stats: () => ask('stats'),
    async stop() {
      try {
        return await ask('stop');
      } finally {
        await worker.terminate();
      }
    },
  };
}

/**
 * One flip on a VirtualClock (bochs.fixture.ts rig): Y_OFFSET written, time run to the next
 * vblank, FLIP_DONE checked and acknowledged. Measures the model's cost per vblank + flip.
 */
export function virtualFlipLoop(refreshHz = 1000): { flip: () => void; close: () => void; stats: () => BochsStats } {
  const rig = bootDisplay({ refreshHz, vramBytes: 16 << 20 });
  const { clock, mmio, display } = rig;
  mmio.write(A.IMSC, 4, B.IMSC.VBLANK | B.IMSC.FLIP_DONE);
  setMode(mmio, 640, 480, 32);
  let page = 0;
  return {
    flip() {
      page ^= 1;
      mmio.write(A.Y_OFFSET, 2, page * 480);
      const t = clock.nextEventTime();
      if (t === undefined) throw new Error('display: no vblank scheduled');
      clock.runUntil(t);
      const ris = mmio.read(A.RIS, 4);
      if ((ris & B.RIS.FLIP_DONE) === 0) throw new Error('display: flip not latched at vblank');
      mmio.write(A.ICR, 4, ris);
    },
    close: () => display.unrealize(),
    stats: () => ({ ...display.stats }),
  };
}
