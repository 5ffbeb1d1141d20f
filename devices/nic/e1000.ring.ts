/**
 * @module nic/e1000.ring
 * What the e1000 RX and TX engines share: the view of the model they work through (`NicCore`),
 * descriptor-ring geometry read from the BA/LEN/H/T registers with the driver's mistakes turned
 * into messages, the packet/absolute interrupt-delay timer pair (RDTR/RADV, TIDV/TADV) and the
 * size buckets of the PRC/PTC statistics.
 *
 * The data paths run per frame, so nothing here looks a name up per access: registers and
 * statistics are reached by register-file index (`REG`, `PRC_REGS`...), rings are one reused
 * `Ring` per engine, and `RingGrant` remembers that a ring passed the IOMMU check until the
 * grants change, so descriptors are read and written back without a check each.
 */
import type { DmaSpace } from '../core/dma.js';
import type { RegisterFile } from '../core/register-file.js';
import type { Cancel, Scheduler } from '../core/scheduler.js';
import { DESC_SIZE, E1000_REGS, type E1000Specs } from './e1000.regs.js';
import type { Port } from './wire.js';

/** Model-side totals (not read-to-clear), for tests, benchmarks and /proc. */
export interface E1000Counters {
  txFrames: number;
  txBytes: number;
  /** Frames not sent: link down, unreadable buffer, oversized. */
  txDropped: number;
  rxFrames: number;
  rxBytes: number;
  /** Dropped for lack of descriptors or FIFO space (MPC). */
  rxMissed: number;
  /** Rejected by the address filter or because the receiver was off. */
  rxFiltered: number;
  /** Device faults logged (bad rings, DMA faults, bad register values). */
  faults: number;
}

/** The model as the RX/TX engines see it. */
export interface NicCore {
  readonly name: string;
  readonly regs: RegisterFile<E1000Specs>;
  readonly dma: DmaSpace;
  readonly sched: Scheduler;
  /** TX line rate in bits/s; 0 = unlimited. */
  readonly rate: number;
  /** On-chip RX FIFO bytes (frames wait there while no descriptor is free); 0 = none. */
  readonly rxFifoBytes: number;
  readonly counters: E1000Counters;
  /** STATUS.LU. */
  linkUp(): boolean;
  port(): Port | undefined;
  /** Logs a device fault (driver misuse or a DMA fault); never throws. */
  fault(msg: string): void;
  /** ICR |= causes, then updateIrq() (at `release()` while held). */
  raise(causes: number): void;
  /**
   * Holds the IRQ line's update over a batch (a TX bottom half, a run of frames delivered in one
   * go): causes raised meanwhile only accumulate in ICR; `release()` updates the line once.
   * Nests; everything happens at one instant, so only the number of line computations changes.
   */
  hold(): void;
  release(): void;
  /** Adds to a 32-bit statistics register, by register index (`REG.*`, `PRC_REGS`, `PTC_REGS`). */
  count(reg: number, n?: number): void;
  /** Adds to a 64-bit statistics pair, by the index of its low half. */
  count64(lo: number, n: number): void;
}

/** Any register name of the map. */
export type RegName = keyof E1000Specs & string;

const index = (name: RegName): number => E1000_REGS.reg(name).index;

/** Register-file indices of the registers the data paths use (`regs.valueAt(REG.RCTL)`). */
export const REG = Object.freeze({
  ICR: index('ICR'), IMS: index('IMS'), ITR: index('ITR'), RCTL: index('RCTL'), TCTL: index('TCTL'),
  RDBAL: index('RDBAL'), RDBAH: index('RDBAH'), RDLEN: index('RDLEN'), RDH: index('RDH'), RDT: index('RDT'), RDTR: index('RDTR'), RADV: index('RADV'),
  TDBAL: index('TDBAL'), TDBAH: index('TDBAH'), TDLEN: index('TDLEN'), TDH: index('TDH'), TDT: index('TDT'), TIDV: index('TIDV'), TADV: index('TADV'),
  GPRC: index('GPRC'), BPRC: index('BPRC'), MPRC: index('MPRC'), GPTC: index('GPTC'), BPTC: index('BPTC'), MPTC: index('MPTC'),
  GORCL: index('GORCL'), GOTCL: index('GOTCL'), TORL: index('TORL'), TOTL: index('TOTL'), TPR: index('TPR'), TPT: index('TPT'),
  MPC: index('MPC'), RNBC: index('RNBC'), ROC: index('ROC'),
});

/** A descriptor ring as programmed: filled in by `load()` (one object per engine, reused). */
export class Ring {
  /** Bus address of descriptor 0. */
  base = 0;
  /** Descriptors in the ring. */
  count = 0;
  head = 0;
  tail = 0;
  private readonly r: { bal: number; bah: number; len: number; head: number; tail: number };

  constructor(readonly kind: 'rx' | 'tx') {
    this.r = kind === 'rx'
      ? { bal: REG.RDBAL, bah: REG.RDBAH, len: REG.RDLEN, head: REG.RDH, tail: REG.RDT }
      : { bal: REG.TDBAL, bah: REG.TDBAH, len: REG.TDLEN, head: REG.TDH, tail: REG.TDT };
  }

  /** Reads BA/LEN/H/T; undefined if the ring is usable, else why not. */
  load(regs: RegisterFile<E1000Specs>): string | undefined {
    const r = this.r;
    const count = regs.valueAt(r.len) / DESC_SIZE;
    const head = regs.valueAt(r.head), tail = regs.valueAt(r.tail);
    this.count = count;
    this.head = head;
    this.tail = tail;
    // A high half past 2^21 makes the address unsafe as a number: DMA then reports a decode error.
    this.base = regs.valueAt(r.bah) * 0x1_0000_0000 + regs.valueAt(r.bal);
    if (count === 0) return `${this.kind === 'rx' ? 'RDLEN' : 'TDLEN'} is 0: no ${this.kind.toUpperCase()} ring`;
    const p = this.kind === 'rx' ? 'RD' : 'TD';
    if (head >= count) return `${p}H ${head} is beyond the ring (${count} descriptors)`;
    if (tail >= count) return `${p}T ${tail} is beyond the ring (${count} descriptors)`;
    return undefined;
  }
}

/**
 * Whether a ring's descriptors may be read and written back without a check per access: the
 * whole ring was granted both ways when last looked at, and the grants have not changed since.
 */
export class RingGrant {
  private base = -1;
  private bytes = -1;
  private gen = -1;
  private ok = false;

  constructor(private readonly dma: DmaSpace) {}

  wholeRing(ring: Ring): boolean {
    const bytes = ring.count * DESC_SIZE, gen = this.dma.generation;
    if (ring.base !== this.base || bytes !== this.bytes || gen !== this.gen) {
      this.base = ring.base;
      this.bytes = bytes;
      this.gen = gen;
      this.ok = this.dma.allows(ring.base, bytes, 'bidirectional');
    }
    return this.ok;
  }
}

/** A descriptor's 64-bit buffer address as a number (unsafe values fail DMA as decode errors). */
export function bufferAddr(b: Uint8Array, off: number): number {
  const lo = (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
  const hi = (b[off + 4]! | (b[off + 5]! << 8) | (b[off + 6]! << 16) | (b[off + 7]! << 24)) >>> 0;
  return hi * 0x1_0000_0000 + lo;
}

/** 1.024 us, the unit of RDTR/RADV/TIDV/TADV. */
const DELAY_UNIT_NS = 1024n;

/**
 * The interrupt-delay pair of one direction: a packet timer restarted by every completion
 * (RDTR / TIDV) and an absolute timer started by the first one (RADV / TADV); whichever expires
 * first fires the cause. A zero packet delay fires at once.
 */
export class DelayTimer {
  private packet: Cancel | undefined;
  private absolute: Cancel | undefined;

  constructor(private readonly sched: Scheduler, private readonly fire: () => void) {}

  /** A descriptor completed; `rel`/`abs` in 1.024 us units. */
  kick(rel: number, abs: number): void {
    if (rel === 0) {
      this.cancel();
      this.fire();
      return;
    }
    this.packet?.();
    this.packet = this.sched.after(BigInt(rel) * DELAY_UNIT_NS, () => this.expire());
    if (abs !== 0 && this.absolute === undefined) this.absolute = this.sched.after(BigInt(abs) * DELAY_UNIT_NS, () => this.expire());
  }

  /** Fires now if a delay is pending (RDTR.FPD-like flush). */
  flush(): void {
    if (this.packet !== undefined || this.absolute !== undefined) this.expire();
  }

  cancel(): void {
    this.packet?.();
    this.absolute?.();
    this.packet = this.absolute = undefined;
  }

  private expire(): void {
    this.cancel();
    this.fire();
  }
}

/** Index of the PRC/PTC bucket for a frame of `len` bytes including FCS; -1 above 1522. */
export function sizeBucket(len: number): number {
  if (len <= 64) return 0;
  if (len <= 127) return 1;
  if (len <= 255) return 2;
  if (len <= 511) return 3;
  if (len <= 1023) return 4;
  return len <= 1522 ? 5 : -1;
}

/** Register indices of the PRC / PTC size buckets, by `sizeBucket()`. */
export const PRC_REGS = Int32Array.from(['PRC64', 'PRC127', 'PRC255', 'PRC511', 'PRC1023', 'PRC1522'] as const, index);
export const PTC_REGS = Int32Array.from(['PTC64', 'PTC127', 'PTC255', 'PTC511', 'PTC1023', 'PTC1522'] as const, index);

/** Register indices of the arrays, by entry. */
const indices = (prefix: string, n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => index(`${prefix}${i}` as RegName));
export const RAL_REGS = indices('RAL', 16);
export const RAH_REGS = indices('RAH', 16);
export const MTA_REGS = indices('MTA', 128);

export const isBroadcast = (f: Uint8Array): boolean => f[0] === 0xff && f[1] === 0xff && f[2] === 0xff && f[3] === 0xff && f[4] === 0xff && f[5] === 0xff;
export const isMulticast = (f: Uint8Array): boolean => (f[0]! & 1) !== 0;
