/**
 * @module nic/e1000.ring
 * What the e1000 RX and TX engines share: the view of the model they work through (`NicCore`),
 * descriptor-ring geometry read from the BA/LEN/H/T registers with the driver's mistakes turned
 * into messages, the packet/absolute interrupt-delay timer pair (RDTR/RADV, TIDV/TADV) and the
 * size buckets of the PRC/PTC statistics.
 */
import type { DmaSpace } from '../core/dma.js';
import type { RegisterFile } from '../core/register-file.js';
import type { Cancel, Scheduler } from '../core/scheduler.js';
import { DESC_SIZE, type E1000Specs } from './e1000.regs.js';
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
  /** ICR |= causes, then updateIrq(). */
  raise(causes: number): void;
  /** Adds to a 32-bit statistics register (wrapping). */
  count(reg: StatReg, n?: number): void;
  /** Adds to a 64-bit low/high statistics pair. */
  count64(lo: StatReg, hi: StatReg, n: number): void;
}

/** Any register name of the map. */
export type StatReg = keyof E1000Specs & string;

export interface Ring {
  /** Bus address of descriptor 0. */
  readonly base: number;
  /** Descriptors in the ring. */
  readonly count: number;
  readonly head: number;
  readonly tail: number;
}

const NAMES = {
  rx: { bal: 'RDBAL', bah: 'RDBAH', len: 'RDLEN', head: 'RDH', tail: 'RDT' },
  tx: { bal: 'TDBAL', bah: 'TDBAH', len: 'TDLEN', head: 'TDH', tail: 'TDT' },
} as const;

/** The ring as programmed, or why it cannot be used. */
export function readRing(regs: RegisterFile<E1000Specs>, kind: 'rx' | 'tx'): Ring | string {
  const n = NAMES[kind];
  const count = regs.value(n.len) / DESC_SIZE;
  const head = regs.value(n.head), tail = regs.value(n.tail);
  if (count === 0) return `${n.len} is 0: no ${kind.toUpperCase()} ring`;
  if (head >= count) return `${n.head} ${head} is beyond the ring (${count} descriptors)`;
  if (tail >= count) return `${n.tail} ${tail} is beyond the ring (${count} descriptors)`;
  // A high half past 2^21 makes the address unsafe as a number: DMA then reports a decode error.
  const base = regs.value(n.bah) * 0x1_0000_0000 + regs.value(n.bal);
  return { base, count, head, tail };
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

export const PRC_REGS = ['PRC64', 'PRC127', 'PRC255', 'PRC511', 'PRC1023', 'PRC1522'] as const;
export const PTC_REGS = ['PTC64', 'PTC127', 'PTC255', 'PTC511', 'PTC1023', 'PTC1522'] as const;

/** Register names of the arrays, by index. */
const names = (prefix: string, n: number): StatReg[] => Array.from({ length: n }, (_, i) => `${prefix}${i}` as StatReg);
export const RAL_NAMES = names('RAL', 16);
export const RAH_NAMES = names('RAH', 16);
export const MTA_NAMES = names('MTA', 128);

export const isBroadcast = (f: Uint8Array): boolean => f[0] === 0xff && f[1] === 0xff && f[2] === 0xff && f[3] === 0xff && f[4] === 0xff && f[5] === 0xff;
export const isMulticast = (f: Uint8Array): boolean => (f[0]! & 1) !== 0;
