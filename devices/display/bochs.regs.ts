/**
 * @module display/bochs.regs
 * Register map of the SDK display controller: QEMU's "bochs-display" BAR2 (the Bochs DISPI
 * registers in their MMIO form, plus the QEXT block) and our own vblank / page-flip interrupt
 * block at 0x700 (hardware-models.md §3.1, §3.2). Pure data: the model, drivers and tests all
 * import it; nothing here has side effects.
 *
 * BAR2 layout (4 KiB, `PCI_VGA_MMIO_SIZE`):
 * - 0x000–0x0FF EDID blob (not modelled: reads are logged as unhandled and return 0, so a driver
 *   sees a bad EDID header and falls back to its built-in modes, as with QEMU `edid=off`);
 * - 0x500–0x515 DISPI registers, 16-bit, index *i* at `0x500 + 2*i` (`PCI_VGA_BOCHS_OFFSET`);
 * - 0x600 QEXT size (8), 0x604 framebuffer byte order;
 * - 0x700–0x717 vblank block (our addition): IMSC, RIS, MIS, ICR, FRAME_COUNT, SCANLINE.
 *
 * The legacy ISA index/data port pair (0x1CE/0x1CF) reaches the same DISPI registers by index;
 * `DISPI_INDEX` and `DISPI_IOPORT` document it, but only the MMIO form is modelled.
 *
 * @example
 * import { BOCHS_REGS, DISPI_ENABLE, DISPI_ID } from './bochs.regs.js';
 * const { offsets: A, bits: B } = BOCHS_REGS;
 * (mmio.read(A.ID, 2) & DISPI_ID.MASK) === DISPI_ID.ID0;             // Linux's probe check
 * mmio.write(A.ENABLE, 2, DISPI_ENABLE.ENABLED | DISPI_ENABLE.LFB_ENABLED);
 * mmio.write(A.IMSC, 4, B.IMSC.VBLANK | B.IMSC.FLIP_DONE);
 */
import { defineRegisterMap } from '../core/regmap.js';

/** Size of BAR2, the MMIO register window (`PCI_VGA_MMIO_SIZE`). */
export const BOCHS_MMIO_SIZE = 0x1000;
/** Where the DISPI registers start in BAR2 (`PCI_VGA_BOCHS_OFFSET`). */
export const DISPI_MMIO_BASE = 0x500;
/** Where the vblank / flip interrupt block starts in BAR2 (our choice, §3.2). */
export const VBLANK_BLOCK_BASE = 0x700;

/** PCI identity (§3.1; the numeric IDs are marked UNVERIFIED in the reference). */
export const BOCHS_PCI = { VENDOR: 0x1234, DEVICE: 0x1111, REVISION: 2, CLASS: 'DISPLAY_OTHER' } as const;

/** The legacy ISA I/O port pair: write an index to INDEX, then access the register at DATA. */
export const DISPI_IOPORT = { INDEX: 0x1ce, DATA: 0x1cf } as const;

/** DISPI register indices (the I/O-port form; MMIO offset = `dispiOffset(index)`). */
export const DISPI_INDEX = {
  ID: 0,
  XRES: 1,
  YRES: 2,
  BPP: 3,
  ENABLE: 4,
  BANK: 5,
  VIRT_WIDTH: 6,
  VIRT_HEIGHT: 7,
  X_OFFSET: 8,
  Y_OFFSET: 9,
  VIDEO_MEMORY_64K: 10,
} as const;

/** MMIO offset in BAR2 of the DISPI register with index `index`. */
export const dispiOffset = (index: number): number => DISPI_MMIO_BASE + 2 * index;

/** ID values. bochs-display reads ID5; Linux accepts any `(id & MASK) === ID0`. */
export const DISPI_ID = {
  ID0: 0xb0c0,
  ID1: 0xb0c1,
  ID2: 0xb0c2,
  ID3: 0xb0c3,
  ID4: 0xb0c4,
  ID5: 0xb0c5,
  MASK: 0xfff0,
} as const;

/** ENABLE register values (also available as `BOCHS_REGS.bits.ENABLE`). */
export const DISPI_ENABLE = {
  DISABLED: 0x00,
  ENABLED: 0x01,
  GETCAPS: 0x02,
  DAC_8BIT: 0x20,
  LFB_ENABLED: 0x40,
  NOCLEARMEM: 0x80,
} as const;

/** Limits of the DISPI interface (`VBE_DISPI_MAX_*`) and of a displayable mode (§3.1). */
export const DISPI_LIMITS = {
  MAX_XRES: 16000,
  MAX_YRES: 12000,
  MAX_BPP: 32,
  /** bochs-display shows nothing below 64×64. */
  MIN_XRES: 64,
  MIN_YRES: 64,
  /** Depths this model scans out: 16 = RGB565, 24 = BGR888 (std-VGA), 32 = XRGB8888. */
  BPP: [16, 24, 32] as readonly number[],
} as const;

/** QEXT byte-order register values (BAR2 0x604). */
export const QEXT_BYTE_ORDER = { LITTLE_ENDIAN: 0x1e1e1e1e, BIG_ENDIAN: 0xbebebebe } as const;

/** VRAM (BAR0) size rules: QEMU `vgamem` is 4–256 MiB, a power of two; 16 MiB by default. */
export const BOCHS_VRAM = { DEFAULT_BYTES: 16 << 20, MIN_BYTES: 4 << 20, MAX_BYTES: 256 << 20, UNIT_BYTES: 64 << 10 } as const;

/**
 * Vertical timing the model scales to every mode: CEA-861 1080p60 has 1080 visible lines and
 * 45 blanking lines out of 1125 (§3.3), so vertical blank is 45/1125 of each frame.
 */
export const REFERENCE_TIMING = { VDISPLAY: 1080, VBLANK_LINES: 45, VTOTAL: 1125 } as const;

const dispi = (index: number, doc: string, access: 'rw' | 'ro' = 'rw') =>
  ({ offset: dispiOffset(index), width: 16, access, sizes: [1, 2], doc }) as const;

/** Interrupt bits shared by IMSC, RIS, MIS and ICR. */
const irqFields = <A extends 'rw' | 'ro' | 'wo'>(access: A) =>
  ({
    VBLANK: { bit: 0, access, doc: 'start of vertical blank' },
    FLIP_DONE: { bit: 1, access, doc: 'a pending X_OFFSET/Y_OFFSET/VIRT_WIDTH update was latched (PL111 LNBU)' },
  }) as const;

/**
 * BAR2 of the display controller. DISPI registers accept 1- and 2-byte accesses (QEMU `.valid`
 * 1–4, `.impl` 2: a 4-byte access is refused and logged here, not split); the QEXT and vblank
 * registers are 32-bit and accept only 4-byte accesses.
 */
export const BOCHS_REGS = defineRegisterMap('bochs-display', {
  // ---- DISPI (0x500) ----
  ID: { ...dispi(DISPI_INDEX.ID, 'reads DISPI_ID.ID5', 'ro'), reset: DISPI_ID.ID5 },
  XRES: dispi(DISPI_INDEX.XRES, 'visible width, px (writes above 16000 are clamped)'),
  YRES: dispi(DISPI_INDEX.YRES, 'visible height, lines (writes above 12000 are clamped)'),
  BPP: dispi(DISPI_INDEX.BPP, 'bits per pixel: 16, 24 or 32'),
  ENABLE: {
    offset: dispiOffset(DISPI_INDEX.ENABLE),
    width: 16,
    sizes: [1, 2],
    fields: {
      ENABLED: { bit: 0, access: 'rw', doc: 'scan out the mode in XRES/YRES/BPP' },
      GETCAPS: { bit: 1, access: 'rw', doc: 'stored; no effect (as on bochs-display)' },
      DAC_8BIT: { bit: 5, access: 'rw', doc: 'stored; no palette is modelled' },
      LFB_ENABLED: { bit: 6, access: 'rw', doc: 'linear framebuffer (the only mode modelled)' },
      NOCLEARMEM: { bit: 7, access: 'rw', doc: 'do not clear VRAM when ENABLED goes 0 -> 1' },
    },
  },
  BANK: dispi(DISPI_INDEX.BANK, 'legacy 64 KiB bank; stored, unused (LFB only)'),
  VIRT_WIDTH: dispi(DISPI_INDEX.VIRT_WIDTH, 'virtual width, px: stride = max(VIRT_WIDTH, XRES) * Bpp; latched at vblank'),
  VIRT_HEIGHT: dispi(DISPI_INDEX.VIRT_HEIGHT, 'virtual height, lines; stored, informational'),
  X_OFFSET: dispi(DISPI_INDEX.X_OFFSET, 'panning, px; latched at vblank'),
  Y_OFFSET: dispi(DISPI_INDEX.Y_OFFSET, 'panning, lines (page flipping); latched at vblank'),
  VIDEO_MEMORY_64K: dispi(DISPI_INDEX.VIDEO_MEMORY_64K, 'VRAM size / 64 KiB', 'ro'),
  // ---- QEXT (0x600) ----
  QEXT_SIZE: { offset: 0x600, access: 'ro', reset: 8, doc: 'size of the QEXT block' },
  BYTE_ORDER: { offset: 0x604, reset: QEXT_BYTE_ORDER.LITTLE_ENDIAN, doc: 'framebuffer byte order: QEXT_BYTE_ORDER.*' },
  // ---- vblank / flip interrupt block (0x700, our addition) ----
  IMSC: { offset: VBLANK_BLOCK_BASE + 0x00, fields: irqFields('rw'), doc: 'interrupt mask: 1 = enabled' },
  RIS: { offset: VBLANK_BLOCK_BASE + 0x04, fields: irqFields('ro'), doc: 'raw interrupt status' },
  MIS: { offset: VBLANK_BLOCK_BASE + 0x08, fields: irqFields('ro'), doc: 'masked status: RIS & IMSC' },
  ICR: { offset: VBLANK_BLOCK_BASE + 0x0c, fields: irqFields('wo'), doc: 'write 1 to clear the RIS bit' },
  FRAME_COUNT: { offset: VBLANK_BLOCK_BASE + 0x10, access: 'ro', doc: 'vblanks since reset (counts while ENABLED)' },
  SCANLINE: { offset: VBLANK_BLOCK_BASE + 0x14, access: 'ro', doc: 'line being scanned; >= YRES during vertical blank' },
}, { size: BOCHS_MMIO_SIZE, sizes: [4] });
