// UFS benchmark rigs and a queue-depth-N register-level driver loop.
//
// Two hosts run the same driver code:
//  - `inThreadUfs()`: UfsHostController in this thread over a RealClock scheduler (zero-latency
//    timing), heap physical memory behind an IOMMU-checked DmaSpace. The model's bottom halves
//    run from this thread's event loop, so the driver yields one event-loop turn between polls.
//  - `machineUfs()`: the model in the machine thread (devices/machine), the driver here through
//    an MmioPort; DMA memory from `machine.memory`, granted with `machine.grantDma`. The driver
//    either busy-polls UTRLDBR with MMIO reads ('poll') or sleeps until the IRQ line rises ('irq').
//
// `UfsQueue` keeps `qd` slots in flight: it prepares every free slot, rings them with one
// UTRLDBR write, and per reap (ufshcd_intr order: IS acknowledged, then UTRLDBR read) checks
// each completed slot (OCS, response, a data stamp), acknowledges it in UTRLCNR and re-prepares
// it at once, so the device never runs dry. Per IO it writes only what changes: UTRD DW0/DW2,
// the UPIU's flags/tag/EDTL/CDB and one PRDT entry (the rest of the UCD is written once).
//
// Data: every 4 KiB block of the LU holds its LBA in its first 4 bytes (`fill()` writes them
// with 128 KiB WRITEs; writes in the benchmark keep them), so every read is verified cheaply.

import { RealClock, VirtualClock } from '../../devices/core/clock.js';
import type { MmioRegionSpec } from '../../devices/core/device-model.js';
import { DmaSpace } from '../../devices/core/dma.js';
import { IrqLine } from '../../devices/core/irq.js';
import { PhysicalMemory } from '../../devices/core/phys-mem.js';
import { Scheduler } from '../../devices/core/scheduler.js';
import { SpinBudget } from '../../devices/ipc/spin.js';
import { Machine } from '../../devices/machine/machine.js';
import { MmioPort } from '../../devices/machine/mmio-port.js';
import { UfsHostController, type UfsParams } from '../../devices/ufs/ufs.model.js';
import {
  OCS, PRDT, SCSI_OP, UFS_INTR, UFS_REGS, UPIU, UPIU_FLAGS, UPIU_RESPONSE, UPIU_TC, UTP_CMD_TYPE_UFS_STORAGE, UTP_DD, UTRD,
} from '../../devices/ufs/ufs.regs.js';
import { LINUX_UCD_LAYOUT, UfsTestDriver } from '../../devices/ufs/ufs.testing.js';

const R = UFS_REGS.offsets;
export const BLOCK = 4096;

/** Where the driver runs against the model: registers, memory, DMA allocation, waiting. */
export interface UfsHost {
  readonly kind: 'in-thread' | 'virtual' | 'machine';
  readonly mmio: MmioRegionSpec;
  readonly mem: PhysicalMemory;
  /** The model and its DMA space, when it runs in this thread (stats, phase timing). */
  readonly model?: UfsHostController;
  readonly dma?: DmaSpace;
  /** Zeroed DMA memory, granted to the device bidirectionally. */
  alloc(size: number, align?: number): Promise<number>;
  /** Lets the model make progress before the next poll. */
  wait(): Promise<void> | void;
  /** The clock the driver's waits use (bring-up). */
  readonly clock?: RealClock | VirtualClock;
  /** Machine host only: how the driver waits for completions from now on. */
  setWaitMode?(mode: 'poll' | 'irq'): void;
  close(): Promise<void>;
}

export interface UfsHostOptions {
  /** LU 0 size in bytes; default 256 MiB. */
  luBytes?: number;
  /** Physical memory; default 96 MiB. */
  memBytes?: number;
}

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The model in this thread, zero timing, grant-checked DMA. Real clock (default): the model's
 * bottom halves run from the event loop, the driver yields one turn per poll. `virtual: true`:
 * the driver runs the clock's queue itself (`runUntilIdle`), so a run measures model + driver
 * CPU without event-loop turns.
 */
export function inThreadUfs(o: UfsHostOptions & { virtual?: boolean } = {}): UfsHost {
  const clock = o.virtual ? new VirtualClock() : new RealClock();
  const sched = new Scheduler(clock);
  const mem = new PhysicalMemory({ size: o.memBytes ?? 96 << 20, backing: 'heap' });
  const dma = new DmaSpace(mem, 'ufs0');
  const irq = new IrqLine('ufs0');
  const params: UfsParams = { nutrs: 32, timing: 'zero', luns: [{ sizeBytes: o.luBytes ?? 256 << 20 }] };
  const model = new UfsHostController({ memory: dma, scheduler: sched, irq, params, log: () => {} });
  model.realize();
  return {
    kind: clock instanceof VirtualClock ? 'virtual' : 'in-thread', mmio: model.regions[0]!, mem, model, dma,
    alloc(size, align = 4096) {
      const a = mem.alloc(size, align, 'ufs-bench');
      if (a === null) return Promise.reject(new Error('ufs bench: out of DMA memory'));
      dma.grant(a.addr, a.size, 'bidirectional');
      return Promise.resolve(a.addr);
    },
    wait: clock instanceof VirtualClock ? () => { clock.runUntilIdle(); } : immediate,
    clock,
    close() {
      model.unrealize();
      return Promise.resolve();
    },
  };
}

export const MACHINE_UFS_BASE = 0x2000_0000;

/** How long the model-only loop busy-polls for its interrupt before it sleeps (ms). */
const IRQ_SPIN_MS = 0.05;

/**
 * The model in a machine thread; this thread drives it through an MMIO port. `wait: 'poll'`
 * returns at once (the next UTRLDBR read is the poll); `'irq'` sleeps until the UFS line rises
 * (IRQ_LEVEL notification from the machine), with a 5 ms fallback.
 */
export async function machineUfs(o: UfsHostOptions & { wait?: 'poll' | 'irq' } = {}): Promise<UfsHost> {
  let mode = o.wait ?? 'irq';
  const page = { buffer: new SharedArrayBuffer(4096), maxSpinners: 2 };
  const machine = await Machine.start({
    clock: 'real',
    devices: [{ name: 'ufs0', model: 'ufs', windows: [{ base: MACHINE_UFS_BASE, size: 0x1000 }], irqs: [40], params: { luns: [{ size: o.luBytes ?? 256 << 20 }] } }],
  }, { kernelPage: page, memoryBytes: o.memBytes ?? 96 << 20 });
  const logs: string[] = [];
  machine.onLog((_l, t) => logs.push(t));
  let rises = 0, high = false;
  let wake: (() => void) | undefined;
  machine.onIrq((line, level) => {
    if (line !== 40) return;
    if (level && !high) {
      rises++;
      wake?.();
    }
    high = level;
  });
  const { id, memory } = machine.openPort('thread');
  const budget = new SpinBudget(new Int32Array(page.buffer), page.maxSpinners);
  const port = new MmioPort(memory, budget, 'ufs-bench');
  if (await machine.grantWindow(id, MACHINE_UFS_BASE, 0x1000) !== 0) throw new Error('machine: grantWindow failed');
  const mmio: MmioRegionSpec = {
    name: 'ufs0 (machine port)', size: 0x1000,
    read: (off, size) => port.read(MACHINE_UFS_BASE + off, size as 1 | 2 | 4),
    write: (off, size, v) => { port.write(MACHINE_UFS_BASE + off, v, size as 1 | 2 | 4); },
  };
  let seen = 0;
  return {
    kind: 'machine', mmio, mem: machine.memory,
    async alloc(size, align = 4096) {
      const a = machine.memory.alloc(size, align, 'ufs-bench');
      if (a === null) throw new Error('ufs bench: out of machine memory');
      const s = await machine.grantDma('ufs0', a.addr, a.size, 'bidirectional');
      if (s !== 0) throw new Error(`machine: grantDma failed (${s})`);
      return a.addr;
    },
    setWaitMode(m) { mode = m; },
    wait: () => {
      if (mode === 'poll') return undefined;
      if (rises !== seen) {
        seen = rises;
        return immediate();
      }
      // Busy-poll the interrupt reports for up to IRQ_SPIN_MS (with a spin token) before
      // sleeping: a sleeping thread costs the machine a wake-up per interrupt, on the thread that
      // bounds this loop (measured: 4K reads ~375k -> ~415k IOPS).
      if (budget.acquire()) {
        try {
          if (machine.pollReports(() => rises !== seen, IRQ_SPIN_MS)) {
            seen = rises;
            return immediate();
          }
        } finally {
          budget.release();
        }
      }
      return new Promise<void>((resolve) => {
        const t = setTimeout(() => { wake = undefined; resolve(); }, 5);
        wake = () => { clearTimeout(t); wake = undefined; seen = rises; resolve(); };
      });
    },
    async close() {
      port.close();
      await machine.close();
      if (logs.some((l) => /fault|error/i.test(l))) throw new Error(`machine logged problems: ${logs.filter((l) => /fault|error/i.test(l)).slice(0, 3).join('; ')}`);
    },
  };
}

export interface Workload {
  readonly dir: 'read' | 'write';
  /** Blocks (4 KiB) per IO. */
  readonly blocks: number;
  readonly pattern: 'random' | 'seq';
}

export interface QueueStats {
  ios: number;
  bytes: number;
  /** Reaps that found at least one completion. */
  reaps: number;
  /** Polls (UTRLDBR reads) in all. */
  polls: number;
}

/** A queue-depth-`qd` driver loop over a brought-up controller. */
export class UfsQueue {
  readonly stats: QueueStats = { ios: 0, bytes: 0, reaps: 0, polls: 0 };
  private readonly dv: DataView;
  private readonly bytes: Uint8Array;
  private inflight = 0;
  private readonly slotLba: number[] = [];
  private readonly slotBuf: number[] = [];
  private readonly slotBlocks: number[] = [];
  private readonly slotDir: ('read' | 'write')[] = [];
  private qdMask: number;
  private w: Workload = { dir: 'read', blocks: 1, pattern: 'random' };
  private seqLba = 0;
  private bufCursor = 0;
  private rng = 0x12345678;
  private tag = 0;
  private failure: Error | undefined;

  private constructor(
    readonly host: UfsHost, readonly driver: UfsTestDriver, private depth: number,
    readonly lunBlocks: number, private readonly bufBase: number, private readonly bufBytes: number,
  ) {
    this.dv = new DataView(host.mem.buffer);
    this.bytes = host.mem.bytes;
    this.qdMask = maskOf(depth);
  }

  /**
   * Allocates the lists, UCDs and a data region of `bufBytes` (IO buffers rotate through it, so
   * the copies touch as much memory as the memcpy baseline), brings the controller up and
   * writes each slot's fixed fields once.
   */
  static async create(host: UfsHost, o: { qd?: number; luBytes?: number; bufBytes?: number } = {}): Promise<UfsQueue> {
    const qd = o.qd ?? 32;
    const L = LINUX_UCD_LAYOUT;
    const driver = new UfsTestDriver({ mmio: host.mmio, mem: host.mem, clock: host.clock ?? new RealClock(), layout: L, nutrs: 32 });
    // Allocate and grant before bring-up, so the test driver's own allocator is never needed.
    driver.utrl = await host.alloc(UTRD.SIZE * 32, 1024);
    driver.utmrl = await host.alloc(80 * 8, 1024);
    for (let i = 0; i < 32; i++) driver.ucd.push(await host.alloc(L.prdto + L.maxPrdt * PRDT.SIZE, 128));
    const bufBytes = o.bufBytes ?? 64 << 20;
    const bufBase = await host.alloc(bufBytes);
    await driver.bringUp();
    const q = new UfsQueue(host, driver, qd, Math.floor((o.luBytes ?? 256 << 20) / BLOCK), bufBase, bufBytes);
    for (let s = 0; s < 32; s++) q.initSlot(s);
    return q;
  }

  /** Queue depth (1..32): slots 0..qd-1 are kept busy. Lowering it lets the others drain. */
  get qd(): number {
    return this.depth;
  }

  set qd(n: number) {
    if (!Number.isInteger(n) || n < 1 || n > 32) throw new RangeError(`queue depth ${n} must be 1..32`);
    this.depth = n;
    this.qdMask = maskOf(n);
  }

  /** Next workload; call between runs (slots in flight finish with their own parameters). */
  set workload(w: Workload) {
    this.w = w;
  }

  get workload(): Workload {
    return this.w;
  }

  /** Slots currently rung. */
  get busy(): number {
    return popcount(this.inflight);
  }

  /** Completes at least `n` IOs; slots are re-armed as they complete, so `qd` stay in flight. */
  async run(n: number): Promise<void> {
    // Slots that completed since the last run (while nobody was timing) are not this run's:
    // reap them (and re-arm) before counting, as QdReader does not count reads that complete
    // between runs. Otherwise every run got up to `qd` I/Os the device did for free.
    if (this.inflight !== 0) {
      this.reap(true);
      if (this.failure) throw this.failure;
    }
    const target = this.stats.ios + n;
    this.submit((this.qdMask & ~this.inflight) >>> 0);
    while (this.stats.ios < target) {
      const w = this.host.wait();
      if (w) await w;
      this.reap(true);
      if (this.failure) throw this.failure;
    }
  }

  /** Waits for every slot in flight, submitting nothing new. */
  async drain(maxMs = 5000): Promise<void> {
    const end = performance.now() + maxMs;
    while (this.inflight !== 0) {
      if (performance.now() > end) throw new Error(`ufs bench: ${this.busy} slot(s) never completed`);
      const w = this.host.wait();
      if (w) await w;
      this.reap(false);
    }
    if (this.failure) throw this.failure;
  }

  /** Writes every block's LBA stamp with 128 KiB sequential writes (QD `qd`). */
  async fill(): Promise<void> {
    const saved = this.w;
    this.w = { dir: 'write', blocks: 32, pattern: 'seq' };
    this.seqLba = 0;
    await this.run(Math.ceil(this.lunBlocks / 32));
    await this.drain();
    this.w = saved;
    this.seqLba = 0;
  }

  // ---- per-slot structures ------------------------------------------------------------------

  private initSlot(s: number): void {
    const L = this.driver.layout, d = this.driver;
    const utrd = d.utrl + s * UTRD.SIZE, ucd = d.ucd[s]!;
    this.dv.setUint32(utrd + UTRD.UCDBA, ucd, true);
    this.dv.setUint32(utrd + UTRD.UCDBAU, 0, true);
    this.dv.setUint32(utrd + UTRD.DW6, (((L.ruo / 4) << 16) | (L.rul / 4)) >>> 0, true);
    this.dv.setUint32(utrd + UTRD.DW7, (((L.prdto / 4) << 16) | 1) >>> 0, true);
    this.bytes.fill(0, ucd, ucd + L.prdto + PRDT.SIZE);
    this.bytes[ucd + UPIU.TYPE] = UPIU_TC.COMMAND;
    this.bytes[ucd + UPIU.LUN] = 0;
    this.slotLba[s] = 0;
    this.slotBuf[s] = 0;
    this.slotBlocks[s] = 0;
    this.slotDir[s] = 'read';
  }

  private nextLba(blocks: number): number {
    if (this.w.pattern === 'seq') {
      if (this.seqLba + blocks > this.lunBlocks) this.seqLba = 0;
      const lba = this.seqLba;
      this.seqLba += blocks;
      return lba;
    }
    // xorshift32, aligned to the IO size
    let x = this.rng;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.rng = x >>> 0;
    const slots = Math.floor(this.lunBlocks / blocks);
    return (this.rng % slots) * blocks;
  }

  private nextBuf(len: number): number {
    if (this.bufCursor + len > this.bufBytes) this.bufCursor = 0;
    const a = this.bufBase + this.bufCursor;
    this.bufCursor += len;
    return a;
  }

  /** Prepares the slots in `mask` with the current workload and rings them with one write. */
  private submit(mask: number): void {
    if (mask === 0) return;
    const { dir, blocks } = this.w;
    const len = blocks * BLOCK;
    const dv = this.dv, d = this.driver, L = d.layout;
    for (let s = 0; s < 32; s++) {
      if (((mask >>> s) & 1) === 0) continue;
      const lba = this.nextLba(blocks), buf = this.nextBuf(len);
      const utrd = d.utrl + s * UTRD.SIZE, ucd = d.ucd[s]!;
      const read = dir === 'read';
      if (!read) for (let b = 0; b < blocks; b++) dv.setUint32(buf + b * BLOCK, lba + b, true);
      else dv.setUint32(buf, 0xffffffff, true);
      dv.setUint32(utrd + UTRD.DW0, ((UTP_CMD_TYPE_UFS_STORAGE << UTRD.CT_SHIFT) | (read ? UTP_DD.DEVICE_TO_HOST : UTP_DD.HOST_TO_DEVICE) | UTRD.I) >>> 0, true);
      dv.setUint32(utrd + UTRD.DW2, OCS.INVALID_COMMAND_STATUS, true);
      // COMMAND UPIU: flags, tag, EDTL (BE), CDB READ(10)/WRITE(10)
      this.bytes[ucd + UPIU.FLAGS] = read ? UPIU_FLAGS.READ : UPIU_FLAGS.WRITE;
      this.tag = (this.tag + 1) & 0xff;
      this.bytes[ucd + UPIU.TAG] = this.tag;
      dv.setUint32(ucd + UPIU.EDTL, len);
      this.bytes[ucd + UPIU.CDB] = read ? SCSI_OP.READ_10 : SCSI_OP.WRITE_10;
      dv.setUint32(ucd + UPIU.CDB + 2, lba);
      dv.setUint16(ucd + UPIU.CDB + 7, blocks);
      // response header poisoned, so a missing response is detected
      this.bytes[ucd + L.ruo + UPIU.TYPE] = 0;
      // one PRDT entry
      const p = ucd + L.prdto;
      dv.setUint32(p + PRDT.DBA, buf, true);
      dv.setUint32(p + PRDT.DBAU, 0, true);
      dv.setUint32(p + PRDT.DBC, len - 1, true);
      this.slotLba[s] = lba;
      this.slotBuf[s] = buf;
      this.slotBlocks[s] = blocks;
      this.slotDir[s] = dir;
    }
    this.inflight = (this.inflight | mask) >>> 0;
    this.host.mmio.write(R.UTRLDBR, 4, mask);
  }

  /** ufshcd_intr order: clear IS, then read UTRLDBR; check, acknowledge and (if `refill`) re-arm completed slots. */
  private reap(refill: boolean): number {
    const mmio = this.host.mmio;
    mmio.write(R.IS, 4, UFS_INTR.UTRCS);
    const dbr = mmio.read(R.UTRLDBR, 4);
    this.stats.polls++;
    const done = (this.inflight & ~dbr) >>> 0;
    if (done === 0) return 0;
    this.stats.reaps++;
    mmio.write(R.UTRLCNR, 4, done);
    this.inflight = (this.inflight & ~done) >>> 0;
    const d = this.driver, dv = this.dv, L = d.layout;
    let n = 0;
    for (let s = 0; s < 32; s++) {
      if (((done >>> s) & 1) === 0) continue;
      n++;
      const ocs = this.bytes[d.utrl + s * UTRD.SIZE + UTRD.DW2]!;
      const rsp = d.ucd[s]! + L.ruo;
      const blocks = this.slotBlocks[s]!, lba = this.slotLba[s]!;
      if (ocs !== OCS.SUCCESS || this.bytes[rsp + UPIU.TYPE] !== UPIU_TC.RESPONSE
        || this.bytes[rsp + UPIU.RESPONSE] !== UPIU_RESPONSE.TARGET_SUCCESS || this.bytes[rsp + UPIU.STATUS] !== 0) {
        this.failure ??= new Error(`ufs bench: slot ${s} ${this.slotDir[s]} lba ${lba}: OCS ${ocs}, response type 0x${this.bytes[rsp]!.toString(16)} status ${this.bytes[rsp + UPIU.STATUS]}`);
      } else if (this.slotDir[s] === 'read') {
        const buf = this.slotBuf[s]!;
        const first = dv.getUint32(buf, true), last = dv.getUint32(buf + (blocks - 1) * BLOCK, true);
        if (first !== lba || last !== lba + blocks - 1) {
          this.failure ??= new Error(`ufs bench: read lba ${lba} x${blocks}: stamps ${first}..${last}, expected ${lba}..${lba + blocks - 1}`);
        }
      }
      this.stats.bytes += blocks * BLOCK;
    }
    this.stats.ios += n;
    if (refill) this.submit((done & this.qdMask) >>> 0);
    return n;
  }
}

const maskOf = (qd: number): number => (qd >= 32 ? 0xffffffff : (1 << qd) - 1) >>> 0;

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v &= v - 1) n++;
  return n;
}
