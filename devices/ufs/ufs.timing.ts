/**
 * @module devices/ufs/ufs.timing
 * How long things take in the UFS model. Three profiles:
 *
 * - `'zero'`: every delay is 0 — work still happens in scheduled events (a bottom half at the
 *   next scheduler turn), never inside the MMIO access, so a driver must still poll or wait for
 *   the interrupt.
 * - `'ufs31'`: a Samsung-class eUFS 3.1 part (hardware-models.md §1.10): sequential read
 *   2100 MB/s, sequential write 1200 MB/s (SLC WriteBooster cache), random 4 KiB 100 K IOPS
 *   read / 70 K IOPS write at high queue depth; per media command ~70 µs to first data (the
 *   reference's "10–20 µs doorbell→device" plus "60–100 µs NAND read at QD1", UNVERIFIED
 *   estimates), 10 µs for commands that do not touch the medium (NOP, query, INQUIRY, ...).
 *   Controller and link: HCE enable 1 ms (reference), link startup 2 ms ("a few ms",
 *   UNVERIFIED), DME GET/SET 5 µs, power mode change 500 µs, hibernate enter/exit 100 µs,
 *   device init (fDeviceInit) 5 ms — estimates.
 * - a custom object: `{ cmdLatencyNs, readBytesPerSec, writeBytesPerSec }` plus any of the
 *   other fields; the rest default to the ufs31 values.
 *
 * Media model: a command first pays `cmdLatencyNs` (overlaps with other commands: the device
 * has many dies), then occupies the device for max(bytes / bandwidth, 1 / IOPS); those service
 * slots are serialised. So QD1 4 KiB read ≈ 70 + 10 µs, QD32 reaches the IOPS / bandwidth caps.
 */
import type { Cancel, Scheduler } from '../core/scheduler.js';

export interface UfsTiming {
  /** Overhead of a media command (READ/WRITE/SYNC/UNMAP) before its data moves, ns. */
  readonly cmdLatencyNs: number;
  readonly readBytesPerSec: number;
  readonly writeBytesPerSec: number;
  /** Random-IO caps (commands per second); Infinity = none. */
  readonly readIops: number;
  readonly writeIops: number;
  /** NOP, query, and SCSI commands that do not touch the medium. */
  readonly ctrlLatencyNs: number;
  readonly hceEnableNs: number;
  readonly linkStartupNs: number;
  readonly dmeNs: number;
  readonly powerModeChangeNs: number;
  readonly hibernateNs: number;
  readonly deviceInitNs: number;
}

export type UfsTimingParam =
  | 'zero'
  | 'ufs31'
  | (Partial<UfsTiming> & Pick<UfsTiming, 'cmdLatencyNs' | 'readBytesPerSec' | 'writeBytesPerSec'>);

export const UFS31_TIMING: UfsTiming = Object.freeze({
  cmdLatencyNs: 70_000,
  readBytesPerSec: 2100e6,
  writeBytesPerSec: 1200e6,
  readIops: 100_000,
  writeIops: 70_000,
  ctrlLatencyNs: 10_000,
  hceEnableNs: 1_000_000,
  linkStartupNs: 2_000_000,
  dmeNs: 5_000,
  powerModeChangeNs: 500_000,
  hibernateNs: 100_000,
  deviceInitNs: 5_000_000,
});

export const ZERO_TIMING: UfsTiming = Object.freeze({
  cmdLatencyNs: 0,
  readBytesPerSec: Infinity,
  writeBytesPerSec: Infinity,
  readIops: Infinity,
  writeIops: Infinity,
  ctrlLatencyNs: 0,
  hceEnableNs: 0,
  linkStartupNs: 0,
  dmeNs: 0,
  powerModeChangeNs: 0,
  hibernateNs: 0,
  deviceInitNs: 0,
});

export function resolveTiming(p: UfsTimingParam | undefined): UfsTiming {
  if (p === undefined || p === 'zero') return ZERO_TIMING;
  if (p === 'ufs31') return UFS31_TIMING;
  return Object.freeze({ ...UFS31_TIMING, ...p });
}

/** What a request costs: a media transfer, or only controller overhead. */
export interface RequestCost {
  readonly kind: 'read' | 'write' | 'flush' | 'unmap' | 'none';
  readonly bytes: number;
}

/** The device's media pipeline: latencies overlap, service times are serialised. */
export class MediaTimeline {
  private busyUntil = 0n;

  constructor(private readonly t: UfsTiming) {}

  /** Reserves the device for a request arriving at `now`; returns when it completes. */
  reserve(now: bigint, cost: RequestCost): bigint {
    if (cost.kind === 'none') return now + ns(this.t.ctrlLatencyNs);
    const start = now + ns(this.t.cmdLatencyNs);
    const service = this.serviceNs(cost);
    if (service === 0n) return start;
    const begin = start > this.busyUntil ? start : this.busyUntil;
    this.busyUntil = begin + service;
    return this.busyUntil;
  }

  reset(): void {
    this.busyUntil = 0n;
  }

  private serviceNs(cost: RequestCost): bigint {
    const read = cost.kind === 'read';
    if (cost.kind !== 'read' && cost.kind !== 'write') return 0n;
    const bw = read ? this.t.readBytesPerSec : this.t.writeBytesPerSec;
    const iops = read ? this.t.readIops : this.t.writeIops;
    return ns(Math.max((cost.bytes * 1e9) / bw, 1e9 / iops));
  }
}

/**
 * Scheduler calls that remember what one model queued, so the model can cancel exactly its own
 * events (the Scheduler may be shared by several devices, so `cancelAll` is not an option).
 */
export class OwnedTimers {
  private readonly live = new Set<Cancel>();

  constructor(private readonly sched: Scheduler) {}

  at(t: bigint, fn: () => void): Cancel {
    const c: Cancel = this.sched.at(t, () => { this.live.delete(c); fn(); });
    this.live.add(c);
    return () => { if (this.live.delete(c)) c(); };
  }

  after(delayNs: number, fn: () => void): Cancel {
    return this.at(this.sched.now() + ns(delayNs), fn);
  }

  /** A bottom half: runs after the current MMIO access returns. */
  defer(fn: () => void): Cancel {
    const c: Cancel = this.sched.defer(() => { this.live.delete(c); fn(); });
    this.live.add(c);
    return () => { if (this.live.delete(c)) c(); };
  }

  cancelAll(): void {
    for (const c of this.live) c();
    this.live.clear();
  }
}

/** Rounds a non-negative duration (Infinity-safe: 1e9 / Infinity is 0) to whole ns. */
export const ns = (v: number): bigint => (Number.isFinite(v) && v > 0 ? BigInt(Math.ceil(v)) : 0n);
