/**
 * @module display/bochs.model
 * Display controller: QEMU "bochs-display" (Bochs DISPI mode setting + linear framebuffer) with
 * a PL111-style vblank / page-flip interrupt block (hardware-models.md §3).
 *
 * hmdrv interface: MMIO window 0 = BAR2 registers (bochs.regs.ts, 0x1000 bytes); RAM region 0 =
 * VRAM (BAR0, `vram`, a SharedArrayBuffer the machine maps directly, 16 MiB by default);
 * IRQ 0 = level, (RIS & IMSC) != 0. No DMA: the CPU writes pixels into VRAM.
 *
 * Behaviour:
 * - XRES/YRES/BPP take effect at once (bochs-display re-reads them every refresh). Writes past
 *   the DISPI maximums (16000×12000) are clamped and logged, as std-VGA's fix-up does.
 * - X_OFFSET/Y_OFFSET/VIRT_WIDTH are a pending shadow: reads return what was written, scanout
 *   uses the copies latched at the start of the next vertical blank. Any write to them arms a
 *   flip; the latch then sets RIS.FLIP_DONE (PL111 LNBU: every base update completes).
 * - ENABLED 0 → 1 starts the frame clock, latches the shadow at once (a mode set is not a flip)
 *   and clears the first screen of VRAM (stride × YRES bytes from 0) unless NOCLEARMEM.
 * - At each vblank start (refreshHz, see bochs.timing.ts): latch, FRAME_COUNT += 1, RIS.VBLANK.
 * - A mode that cannot be shown (bad BPP, below 64×64, frame past VRAM) blanks the display and
 *   is logged once per change; registers keep what the guest wrote and vblanks keep coming.
 *
 * Deliberate differences from QEMU (see README.md): the vblank block is our own; 24 bpp is
 * accepted (std-VGA has it, bochs-display does not); 4-byte DISPI accesses are refused, not
 * split; EDID is not modelled; GETCAPS and DAC_8BIT are stored without effect; banked (non-LFB)
 * mode scans out linearly.
 *
 * @example
 * const display = new BochsDisplay({ scheduler, irq: new IrqLine('display') });
 * display.realize();
 * const mmio = display.regions[0]!, A = BOCHS_REGS.offsets;
 * mmio.write(A.XRES, 2, 1024); mmio.write(A.YRES, 2, 768); mmio.write(A.BPP, 2, 32);
 * mmio.write(A.ENABLE, 2, DISPI_ENABLE.ENABLED | DISPI_ENABLE.LFB_ENABLED);
 * new Uint32Array(display.vram)[0] = 0x00ff0000;     // top-left pixel red
 * display.scanout();                                  // { width: 1024, height: 768, rgba }
 */
import { DeviceModel } from '../core/device-model.js';
import type { IrqLine } from '../core/irq.js';
import { RegisterFile } from '../core/register-file.js';
import type { SpecsOf } from '../core/regmap.js';
import type { Cancel, Scheduler } from '../core/scheduler.js';
import { BOCHS_REGS, BOCHS_VRAM, DISPI_LIMITS, QEXT_BYTE_ORDER } from './bochs.regs.js';
import { resolveMode, toRgba, type RgbaFrame, type ScanoutMode } from './bochs.scanout.js';
import { FrameGrid } from './bochs.timing.js';

// ---- Params ----

/** Device configuration (QEMU properties); validated by realize(). */
export interface BochsParams {
  /** VRAM bytes: a power of two, 4–256 MiB. Default: the given buffer's size, else 16 MiB. */
  readonly vramBytes: number;
  /** Frames per second, 1–1000 (fractions allowed, e.g. 59.94). Default 60. */
  readonly refreshHz: number;
}

export interface BochsDisplayOptions {
  readonly name?: string;
  readonly scheduler: Scheduler;
  readonly irq: IrqLine;
  /** External VRAM (e.g. a mapped memfd), at least `vramBytes` long. Default: allocated here. */
  readonly vram?: SharedArrayBuffer;
  /** Guest errors and mode changes, one line each. */
  readonly log?: (msg: string) => void;
  readonly params?: Partial<BochsParams>;
}

/** A RAM region the machine maps directly into the guest (QEMU `memory_region_init_ram`). */
export interface RamRegionSpec {
  readonly name: string;
  readonly size: number;
  readonly buffer: SharedArrayBuffer;
}

/** Host-side counters, since reset. */
export interface BochsStats {
  /** Vblank events the model processed. */
  frames: number;
  /** Vblanks that passed while the event was late (real-time mode: the loop was busy). */
  missedVblanks: number;
  /** Flips latched (FLIP_DONE raised). */
  flips: number;
}

/** A params value realize() refuses. */
export class BochsConfigError extends Error {
  constructor(device: string, detail: string) {
    super(`${device}: ${detail}`);
    this.name = 'BochsConfigError';
  }
}

// ---- State ----

/** The scanout geometry latched at vblank: what the CRTC scans this frame. */
interface Latched {
  virtWidth: number;
  xOffset: number;
  yOffset: number;
}

interface State {
  active: Latched;
  /** A guest wrote X_OFFSET, Y_OFFSET or VIRT_WIDTH since the last latch. */
  flipArmed: boolean;
  /** The frame clock while ENABLED: its grid and the last vblank number processed. */
  timing: { grid: FrameGrid; k: bigint } | null;
  /** Why the current mode cannot be shown (null: it can); logged when it changes. */
  blankReason: string | null;
  /** The non-LFB warning was logged since the last reset. */
  warnedBanked: boolean;
}

const initialState = (): State => ({
  active: { virtWidth: 0, xOffset: 0, yOffset: 0 },
  flipArmed: false,
  timing: null,
  blankReason: null,
  warnedBanked: false,
});

const { bits: B } = BOCHS_REGS;
const IRQ_BITS = B.RIS.VBLANK | B.RIS.FLIP_DONE;
const isPowerOfTwo = (n: number): boolean => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;

export class BochsDisplay extends DeviceModel {
  readonly config: BochsParams;
  readonly regs: RegisterFile<SpecsOf<typeof BOCHS_REGS>>;
  /** BAR0: the linear framebuffer, shared with whoever maps it. */
  readonly vram: SharedArrayBuffer;
  readonly ramRegions: RamRegionSpec[] = [];
  readonly stats: BochsStats = { frames: 0, missedVblanks: 0, flips: 0 };
  private st: State = initialState();
  private mem: Uint8Array = new Uint8Array(0);
  private cancelVblank: Cancel | undefined;
  private readonly sched: Scheduler;
  private readonly irq: IrqLine;
  private readonly log: (msg: string) => void;

  /** Allocates the register file, VRAM and the IRQ output; cannot fail (realize validates). */
  constructor(opts: BochsDisplayOptions) {
    super(opts.name ?? 'bochs-display');
    this.sched = opts.scheduler;
    this.irq = opts.irq;
    this.log = opts.log ?? (() => {});
    this.config = Object.freeze({
      vramBytes: opts.params?.vramBytes ?? opts.vram?.byteLength ?? BOCHS_VRAM.DEFAULT_BYTES,
      refreshHz: opts.params?.refreshHz ?? 60,
    });
    const sane = isPowerOfTwo(this.config.vramBytes) && this.config.vramBytes <= BOCHS_VRAM.MAX_BYTES;
    this.vram = opts.vram ?? new SharedArrayBuffer(sane ? this.config.vramBytes : 0);
    this.regs = new RegisterFile(BOCHS_REGS, {
      name: this.name,
      log: this.log,
      onWrite: {
        XRES: (v) => { this.clamp('XRES', v, DISPI_LIMITS.MAX_XRES); this.modeChanged(); },
        YRES: (v) => { this.clamp('YRES', v, DISPI_LIMITS.MAX_YRES); this.modeChanged(); },
        BPP: () => this.modeChanged(),
        ENABLE: (v, old) => this.enableWritten(v, old),
        VIRT_WIDTH: (v) => { this.clamp('VIRT_WIDTH', v, DISPI_LIMITS.MAX_XRES); this.armFlip(); },
        X_OFFSET: () => this.armFlip(),
        Y_OFFSET: () => this.armFlip(),
        BYTE_ORDER: (v, old) => this.byteOrderWritten(v, old),
        IMSC: () => this.updateIrq(),
        ICR: (_v, _old, written) => this.clearInterrupts(written),
      },
      onRead: {
        MIS: () => this.regs.value('RIS') & this.regs.value('IMSC'),
        SCANLINE: () => this.scanline(),
      },
    });
    this.regions.push(this.regs);
    this.ramRegions.push({ name: `${this.name}.vram`, size: this.vram.byteLength, buffer: this.vram });
    this.irqs.push(this.irq);
  }

  /** Checks the params the way QEMU's realize checks `vgamem` and maps VRAM. */
  protected override onRealize(): void {
    const { vramBytes, refreshHz } = this.config;
    if (!isPowerOfTwo(vramBytes) || vramBytes < BOCHS_VRAM.MIN_BYTES || vramBytes > BOCHS_VRAM.MAX_BYTES) {
      throw new BochsConfigError(this.name, `vramBytes ${vramBytes} must be a power of two from 4 MiB to 256 MiB`);
    }
    if (this.vram.byteLength < vramBytes) {
      throw new BochsConfigError(this.name, `the VRAM buffer (${this.vram.byteLength} bytes) is smaller than vramBytes ${vramBytes}`);
    }
    if (!Number.isFinite(refreshHz) || refreshHz < 1 || refreshHz > 1000) {
      throw new BochsConfigError(this.name, `refreshHz ${refreshHz} must be between 1 and 1000`);
    }
    this.mem = new Uint8Array(this.vram, 0, vramBytes);
  }

  /** Power-on state: display off, registers at reset values, no interrupts. VRAM is kept. */
  reset(): void {
    this.stopFrameClock();
    this.regs.reset();
    this.regs.setValue('VIDEO_MEMORY_64K', this.config.vramBytes / BOCHS_VRAM.UNIT_BYTES);
    this.st = initialState();
    Object.assign(this.stats, { frames: 0, missedVblanks: 0, flips: 0 });
    this.updateIrq();
  }

  /** The only place the line is driven: high while an unmasked status bit is set. */
  updateIrq(): void {
    this.irq.set((this.regs.value('RIS') & this.regs.value('IMSC')) !== 0);
  }

  /**
   * The frame being displayed, as RGBA: XRES × YRES read from VRAM at the latched offsets with
   * the latched stride. null while the display is off or its mode cannot be shown.
   */
  scanout(): RgbaFrame | null {
    const mode = this.currentMode();
    return typeof mode === 'string' ? null : toRgba(this.mem, mode);
  }

  /** The displayable mode, or why there is none. */
  currentMode(): ScanoutMode | string {
    if (this.regs.getField('ENABLE', 'ENABLED') === 0) return 'the display is disabled';
    const r = this.regs, a = this.st.active;
    return resolveMode({
      xres: r.value('XRES'),
      yres: r.value('YRES'),
      bpp: r.value('BPP'),
      virtWidth: a.virtWidth,
      xOffset: a.xOffset,
      yOffset: a.yOffset,
      bigEndian: r.value('BYTE_ORDER') === QEXT_BYTE_ORDER.BIG_ENDIAN,
    }, this.mem.length);
  }

  // ---- MMIO hooks ----

  /** std-VGA fix-up: a value past the DISPI maximum is clamped (the guest reads the clamp back). */
  private clamp(reg: 'XRES' | 'YRES' | 'VIRT_WIDTH', v: number, max: number): void {
    if (v <= max) return;
    this.regs.setValue(reg, max);
    this.log(`${this.name}: guest error: ${reg} ${v} exceeds ${max}; clamped to ${max}`);
  }

  private modeChanged(): void {
    if (this.st.timing !== null) this.checkMode();
  }

  private armFlip(): void {
    this.st.flipArmed = true;
  }

  private enableWritten(v: number, old: number): void {
    const on = (v & B.ENABLE.ENABLED) !== 0, wasOn = (old & B.ENABLE.ENABLED) !== 0;
    if (on && !wasOn) this.startScanout(v);
    else if (!on && wasOn) this.stopFrameClock();
  }

  /** QEMU keeps the old byte order for values other than the two magic ones. */
  private byteOrderWritten(v: number, old: number): void {
    if (v === QEXT_BYTE_ORDER.LITTLE_ENDIAN || v === QEXT_BYTE_ORDER.BIG_ENDIAN) return;
    this.regs.setValue('BYTE_ORDER', old);
    this.log(`${this.name}: guest error: BYTE_ORDER 0x${v.toString(16)} is neither 0x1e1e1e1e nor 0xbebebebe; ignored`);
  }

  /** ICR is write-1-to-clear for RIS; it reads 0. */
  private clearInterrupts(written: number): void {
    this.regs.setValue('RIS', this.regs.value('RIS') & ~(written & IRQ_BITS));
    this.regs.setValue('ICR', 0);
    this.updateIrq();
  }

  // ---- Bottom halves: scanout start/stop and the vblank event ----

  /** ENABLED 0 → 1: take the shadow as is, clear the first screen, start the frame clock. */
  private startScanout(enable: number): void {
    this.latch();
    if ((enable & B.ENABLE.NOCLEARMEM) === 0) this.clearFirstScreen();
    if ((enable & B.ENABLE.LFB_ENABLED) === 0 && !this.st.warnedBanked) {
      this.st.warnedBanked = true;
      this.log(`${this.name}: ENABLE without LFB_ENABLED: banked mode is not modelled, scanning out linearly`);
    }
    this.st.blankReason = null;
    this.st.timing = { grid: new FrameGrid(this.sched.now(), this.config.refreshHz), k: 0n };
    this.checkMode();
    this.armVblank();
  }

  private stopFrameClock(): void {
    this.cancelVblank?.();
    this.cancelVblank = undefined;
    this.st.timing = null;
  }

  private armVblank(): void {
    const t = this.st.timing!;
    this.cancelVblank = this.sched.at(t.grid.vblankAt(t.k + 1n), () => this.vblank());
  }

  /**
   * Start of vertical blank: latch a pending flip, count the frame, raise VBLANK (and FLIP_DONE).
   * If the event ran late (real time, busy loop), the vblanks that passed meanwhile count in
   * FRAME_COUNT, as a hardware counter would, and in stats.missedVblanks.
   */
  private vblank(): void {
    const t = this.st.timing;
    if (t === null) return;
    const due = t.k + 1n;
    const reached = t.grid.frameAt(this.sched.now());
    const k = reached > due ? reached : due;
    this.stats.frames++;
    this.stats.missedVblanks += Number(k - due);
    this.regs.setValue('FRAME_COUNT', (this.regs.value('FRAME_COUNT') + Number(k - t.k)) >>> 0);
    t.k = k;
    let ris = this.regs.value('RIS') | B.RIS.VBLANK;
    if (this.st.flipArmed) {
      this.latch();
      ris |= B.RIS.FLIP_DONE;
      this.stats.flips++;
    }
    this.regs.setValue('RIS', ris);
    this.checkMode();
    this.armVblank();
    this.updateIrq();
  }

  /** Shadow → active for the flip registers. */
  private latch(): void {
    const r = this.regs;
    this.st.active = { virtWidth: r.value('VIRT_WIDTH'), xOffset: r.value('X_OFFSET'), yOffset: r.value('Y_OFFSET') };
    this.st.flipArmed = false;
  }

  /** Logs when the mode becomes undisplayable (or its reason changes), once. */
  private checkMode(): void {
    const mode = this.currentMode();
    const reason = typeof mode === 'string' ? mode : null;
    if (reason !== null && reason !== this.st.blankReason) this.log(`${this.name}: guest error: mode not displayable, display blank: ${reason}`);
    this.st.blankReason = reason;
  }

  /** std-VGA clears YRES lines of the new stride from VRAM offset 0. */
  private clearFirstScreen(): void {
    const r = this.regs;
    const bytesPerPixel = Math.max(1, Math.ceil(r.value('BPP') / 8));
    const stride = Math.max(r.value('VIRT_WIDTH'), r.value('XRES')) * bytesPerPixel;
    this.mem.fill(0, 0, Math.min(this.mem.length, stride * r.value('YRES')));
  }

  /** SCANLINE: line being scanned now; 0 while the display is off. */
  private scanline(): number {
    const t = this.st.timing;
    return t === null ? 0 : t.grid.scanline(this.sched.now(), Math.max(1, this.regs.value('YRES')));
  }

  // ---- unrealize ----

  protected override onUnrealize(): void {
    this.stopFrameClock();
  }
}
