/**
 * @module nic/e1000.testing
 * A register-level e1000 driver for tests and benchmarks: it touches the model only through its
 * MMIO region and DMA memory, the way `drivers/net/ethernet/intel/e1000` does (hardware-models.md
 * §2.5): Linux-order bring-up, a TX queue (one TDT write per batch, DD-driven reclaim), NAPI-style
 * RX cleaning (DD-driven, one RDT write per poll) and the mask-in-IRQ / unmask-after-poll
 * interrupt pattern. Rings and buffers come from PhysicalMemory.alloc; with a DmaSpace the
 * driver also grants them, as dma_alloc_coherent / dma_map_single would.
 *
 * Ring convention: RDT/TDT = one past the last descriptor handed over, so one slot stays empty.
 *
 * @example
 * const drv = new E1000TestDriver({ mmio: nic.regions[0]!, mem, mac: '52:54:00:00:00:01' });
 * drv.bringUp();
 * drv.transmit([ethFrame({ dst: BROADCAST, src: drv.mac, size: 64 })]);
 * clock.runUntilIdle();
 * drv.reclaimTx();          // 1
 * peer.poll();              // [Uint8Array(60)]  (FCS stripped)
 */
import { VirtualClock } from '../core/clock.js';
import type { MmioRegionSpec } from '../core/device-model.js';
import { DmaSpace } from '../core/dma.js';
import { IrqLine } from '../core/irq.js';
import { PhysicalMemory } from '../core/phys-mem.js';
import { Scheduler } from '../core/scheduler.js';
import { E1000, type E1000Params } from './e1000.model.js';
import {
  DESC_SIZE, E1000_REGS, ETH, IMS_ENABLE_MASK, macToRa, MTA, mtaHash, NUM_MTA, NUM_RA, parseMac, RAH, RAL, rctlBufferBits,
  readRxDesc, RXD_ERR, RXD_STAT, RX_DESC, TXD_CMD, TXD_STAT, TX_DESC, writeRxDesc, writeTxDesc,
} from './e1000.regs.js';
import { Wire, type Port, type WireOptions } from './wire.js';

const { offsets: A, bits: B } = E1000_REGS;

export interface E1000DriverOptions {
  readonly mmio: MmioRegionSpec;
  readonly mem: PhysicalMemory;
  /** The NIC's DmaSpace, when it has one: rings and buffers are granted there. */
  readonly dma?: DmaSpace;
  readonly mac: string;
  /** Descriptors per ring (multiple of 8); default 256. */
  readonly rxCount?: number;
  readonly txCount?: number;
  /** RX buffer size (RCTL.BSIZE/BSEX); default 2048. */
  readonly bufSize?: number;
  /** Bytes per TX descriptor buffer; default 2048. Longer frames span descriptors. */
  readonly txBufSize?: number;
  /** Causes enabled after bring-up; default IMS_ENABLE_MASK. */
  readonly ims?: number;
  /** ITR / RDTR / RADV / TIDV / TADV; default 0 (no throttling, no delays). */
  readonly itr?: number;
  readonly rdtr?: number;
  readonly radv?: number;
  readonly tidv?: number;
  readonly tadv?: number;
  /** Extra RCTL bits (UPE, MPE, LPE, SECRC, ...). BAM and EN are always set. */
  readonly rctl?: number;
  /** Command bits of a frame's last descriptor; default EOP | IFCS | RS (plus IDE when tidv). */
  readonly txCmd?: number;
}

export interface NapiResult { icr: number; frames: Uint8Array[]; reclaimed: number }

export class E1000TestDriver {
  readonly mac: Uint8Array;
  readonly rxCount: number;
  readonly txCount: number;
  readonly bufSize: number;
  readonly txBufSize: number;
  rxRing = 0;
  txRing = 0;
  rxBufs = 0;
  txBufs = 0;
  /** RX frames discarded for descriptor errors. */
  rxErrors = 0;
  private rxNext = 0;
  private txNext = 0;
  private txClean = 0;
  /** EOP descriptor index of each frame in flight, in order. */
  private readonly txEops: number[] = [];
  private rxPartial: Uint8Array[] = [];

  constructor(private readonly o: E1000DriverOptions) {
    this.mac = parseMac(o.mac);
    this.rxCount = o.rxCount ?? 256;
    this.txCount = o.txCount ?? 256;
    this.bufSize = o.bufSize ?? 2048;
    this.txBufSize = o.txBufSize ?? 2048;
  }

  read(off: number): number {
    return this.o.mmio.read(off, 4);
  }

  write(off: number, v: number): void {
    this.o.mmio.write(off, 4, v >>> 0);
  }

  /** `e1000_open` order: reset, mask, addresses, TX, RCTL, RX, fill buffers, IMS, ICS = LSC. */
  bringUp(): void {
    this.write(A.CTRL, this.read(A.CTRL) | B.CTRL.RST);
    if (this.read(A.CTRL) & B.CTRL.RST) throw new Error('e1000 test driver: CTRL.RST did not self-clear');
    this.write(A.IMC, 0xffffffff);
    this.read(A.ICR);
    this.write(A.CTRL, this.read(A.CTRL) | B.CTRL.SLU);
    const { ral, rah } = macToRa(this.mac);
    this.write(RAL(0), ral);
    this.write(RAH(0), rah);
    for (let i = 1; i < NUM_RA; i++) { this.write(RAL(i), 0); this.write(RAH(i), 0); }
    for (let i = 0; i < NUM_MTA; i++) this.write(MTA(i), 0);
    this.allocate();
    // TX
    this.write(A.TDLEN, this.txCount * DESC_SIZE);
    this.write(A.TDBAH, 0);
    this.write(A.TDBAL, this.txRing);
    this.write(A.TDH, 0);
    this.write(A.TDT, 0);
    this.write(A.TIPG, 10 | (8 << 10) | (6 << 20));
    this.write(A.TIDV, this.o.tidv ?? 0);
    this.write(A.TADV, this.o.tadv ?? 0);
    this.write(A.TCTL, B.TCTL.EN | B.TCTL.PSP | B.TCTL.RTLC | (0x0f << 4) | (0x40 << 12));
    // RCTL (receiver still off), then RX
    const rctl = B.RCTL.BAM | rctlBufferBits(this.bufSize) | (this.o.rctl ?? 0);
    this.write(A.RCTL, rctl);
    this.write(A.RDTR, this.o.rdtr ?? 0);
    this.write(A.RADV, this.o.radv ?? 0);
    this.write(A.ITR, this.o.itr ?? 0);
    this.write(A.RDLEN, this.rxCount * DESC_SIZE);
    this.write(A.RDBAH, 0);
    this.write(A.RDBAL, this.rxRing);
    this.write(A.RDH, 0);
    this.write(A.RDT, 0);
    this.write(A.RCTL, rctl | B.RCTL.EN);
    for (let i = 0; i < this.rxCount; i++) writeRxDesc(this.o.mem.bytes, this.rxRing + i * DESC_SIZE, this.rxBufs + i * this.bufSize);
    this.write(A.RDT, this.rxCount - 1);
    this.write(A.IMS, this.o.ims ?? IMS_ENABLE_MASK);
    this.write(A.ICS, B.ICS.LSC);
  }

  /** Free TX descriptors (one stays empty). */
  get txFree(): number {
    return (this.txClean - this.txNext - 1 + this.txCount) % this.txCount;
  }

  /** Queues frames (each over as many descriptors as its length needs), then writes TDT once. Returns how many fit. */
  transmit(frames: readonly Uint8Array[] | Uint8Array): number {
    const list = frames instanceof Uint8Array ? [frames] : frames;
    let n = 0;
    for (const f of list) {
      const pieces: Uint8Array[] = [];
      for (let o = 0; o < f.length || pieces.length === 0; o += this.txBufSize) pieces.push(f.subarray(o, o + this.txBufSize));
      if (!this.queue(pieces)) break;
      n++;
    }
    if (n > 0) this.write(A.TDT, this.txNext);
    return n;
  }

  /** Queues one frame split exactly as `pieces` (one descriptor each) and writes TDT. */
  transmitChain(pieces: readonly Uint8Array[], lastCmd?: number): boolean {
    if (!this.queue(pieces, lastCmd)) return false;
    this.write(A.TDT, this.txNext);
    return true;
  }

  /** Reclaims frames whose EOP descriptor has DD; returns how many. */
  reclaimTx(): number {
    let n = 0;
    while (this.txEops.length > 0) {
      const eop = this.txEops[0]!;
      const status = this.o.mem.bytes[this.txRing + eop * DESC_SIZE + TX_DESC.STATUS]!;
      if (!(status & TXD_STAT.DD)) break;
      this.txEops.shift();
      this.txClean = (eop + 1) % this.txCount;
      n++;
    }
    return n;
  }

  /** Cleans up to `budget` frames from the RX ring (FCS stripped unless SECRC), re-arms them, writes RDT once. */
  poll(budget = 64): Uint8Array[] {
    const out: Uint8Array[] = [];
    const mem = this.o.mem.bytes;
    const strip = (this.read(A.RCTL) & B.RCTL.SECRC) === 0 ? ETH.FCS : 0;
    let cleaned = 0;
    while (out.length < budget) {
      const off = this.rxRing + this.rxNext * DESC_SIZE;
      const d = readRxDesc(mem, off);
      if (!(d.status & RXD_STAT.DD)) break;
      if (d.errors & RXD_ERR.RXE) {
        this.rxErrors++;
        this.rxPartial = [];
      } else {
        this.rxPartial.push(mem.slice(d.addr, d.addr + d.length));
        if (d.status & RXD_STAT.EOP) {
          out.push(concat(this.rxPartial, strip));
          this.rxPartial = [];
        }
      }
      mem.fill(0, off + RX_DESC.LENGTH, off + DESC_SIZE);
      this.rxNext = (this.rxNext + 1) % this.rxCount;
      cleaned++;
    }
    if (cleaned > 0) this.write(A.RDT, (this.rxNext - 1 + this.rxCount) % this.rxCount);
    return out;
  }

  /** `e1000_intr` + `e1000_clean`: read ICR, mask all, clean TX and RX, unmask if under budget. */
  napi(budget = 64): NapiResult {
    const icr = this.read(A.ICR);
    if (icr === 0) return { icr, frames: [], reclaimed: 0 };
    this.write(A.IMC, 0xffffffff);
    const reclaimed = this.reclaimTx();
    const frames = this.poll(budget);
    if (frames.length < budget) this.write(A.IMS, this.o.ims ?? IMS_ENABLE_MASK);
    return { icr, frames, reclaimed };
  }

  /** Adds addresses to the multicast hash (RCTL.MO as programmed). */
  addMulticast(...macs: string[]): void {
    const mo = (this.read(A.RCTL) >>> 12) & 3;
    for (const m of macs) {
      const h = mtaHash(m, mo);
      this.write(MTA(h.reg), this.read(MTA(h.reg)) | (1 << h.bit));
    }
  }

  /** Sets or clears RCTL bits (UPE, MPE, BAM, ...). */
  setRctl(set: number, clear = 0): void {
    this.write(A.RCTL, (this.read(A.RCTL) | set) & ~clear);
  }

  /** Reads (and so clears) every statistics register: name → value. */
  readStats(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of E1000_REGS.registers) if (r.offset >= 0x4000 && r.offset < 0x4100) out[r.name] = this.read(r.offset);
    return out;
  }

  private allocate(): void {
    if (this.rxRing !== 0) return;
    const mem = this.o.mem;
    const alloc = (size: number, what: string): number => {
      const a = mem.alloc(size, 4096, `e1000-test ${what}`);
      if (a === null) throw new Error(`e1000 test driver: out of DMA memory for ${what}`);
      return a.addr;
    };
    this.rxRing = alloc(this.rxCount * DESC_SIZE, 'rx ring');
    this.txRing = alloc(this.txCount * DESC_SIZE, 'tx ring');
    this.rxBufs = alloc(this.rxCount * this.bufSize, 'rx buffers');
    this.txBufs = alloc(this.txCount * this.txBufSize, 'tx buffers');
    const dma = this.o.dma;
    if (dma !== undefined) {
      dma.grant(this.rxRing, this.rxCount * DESC_SIZE, 'bidirectional');
      dma.grant(this.txRing, this.txCount * DESC_SIZE, 'bidirectional');
      dma.grant(this.rxBufs, this.rxCount * this.bufSize, 'from-device');
      dma.grant(this.txBufs, this.txCount * this.txBufSize, 'to-device');
    }
  }

  private queue(pieces: readonly Uint8Array[], lastCmd?: number): boolean {
    if (pieces.length > this.txFree) return false;
    const mem = this.o.mem.bytes;
    const ide = this.o.tidv ? TXD_CMD.IDE : 0;
    const cmdLast = lastCmd ?? this.o.txCmd ?? (TXD_CMD.EOP | TXD_CMD.IFCS | TXD_CMD.RS | ide);
    pieces.forEach((p, k) => {
      if (p.length > this.txBufSize) throw new RangeError(`e1000 test driver: piece of ${p.length} bytes > txBufSize ${this.txBufSize}`);
      const i = this.txNext;
      const buf = this.txBufs + i * this.txBufSize;
      mem.set(p, buf);
      const last = k === pieces.length - 1;
      writeTxDesc(mem, this.txRing + i * DESC_SIZE, { addr: buf, length: p.length, cmd: last ? cmdLast : TXD_CMD.IFCS });
      if (last) this.txEops.push(i);
      this.txNext = (i + 1) % this.txCount;
    });
    return true;
  }
}

function concat(parts: Uint8Array[], strip: number): Uint8Array {
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(Math.max(0, total - strip));
  let o = 0;
  for (const p of parts) {
    const n = Math.min(p.length, out.length - o);
    if (n > 0) out.set(p.subarray(0, n), o);
    o += n;
  }
  return out;
}

export const BROADCAST = 'ff:ff:ff:ff:ff:ff';

export interface FrameSpec {
  readonly dst: string | Uint8Array;
  readonly src: string | Uint8Array;
  /** EtherType; default 0x88b5 (local experimental). */
  readonly type?: number;
  /** Total length without FCS (>= 14); default 60. */
  readonly size?: number;
  /** Seed of the deterministic payload pattern. */
  readonly seed?: number;
}

/** An Ethernet frame (no FCS) with a deterministic payload: byte i = (seed + i * 7) & 0xff. */
export function ethFrame(s: FrameSpec): Uint8Array {
  const size = s.size ?? ETH.MIN_FRAME;
  if (size < 14) throw new RangeError(`frame size ${size} < 14`);
  const f = new Uint8Array(size);
  f.set(typeof s.dst === 'string' ? parseMac(s.dst) : s.dst, 0);
  f.set(typeof s.src === 'string' ? parseMac(s.src) : s.src, 6);
  const type = s.type ?? 0x88b5;
  f[12] = type >>> 8;
  f[13] = type & 0xff;
  const seed = s.seed ?? 0;
  for (let i = 14; i < size; i++) f[i] = (seed + i * 7) & 0xff;
  return f;
}

/**
 * A batching benchmark loop between two brought-up drivers: queue as much as fits on `tx`, let
 * time run (`step`), reclaim, poll `rx`; until every frame arrived or nothing moves.
 * Returns the frames received, in order.
 */
export function pump(tx: E1000TestDriver, rx: E1000TestDriver, frames: readonly Uint8Array[], step: () => void, budget = 64): Uint8Array[] {
  const got: Uint8Array[] = [];
  let sent = 0, idle = 0;
  while (got.length < frames.length && idle < 3) {
    sent += tx.transmit(frames.slice(sent, sent + tx.txFree));
    step();
    const reclaimed = tx.reclaimTx();
    let n = 0;
    for (let batch = rx.poll(budget); batch.length > 0; batch = rx.poll(budget)) {
      got.push(...batch);
      n += batch.length;
    }
    idle = n === 0 && reclaimed === 0 ? idle + 1 : 0;
  }
  return got;
}

/** One NIC of a test rig: the model, its driver, its IRQ line and log. */
export interface RigNic {
  readonly nic: E1000;
  readonly drv: E1000TestDriver;
  readonly irq: IrqLine;
  readonly dma: DmaSpace | undefined;
  /** Guest errors and device faults logged by the model. */
  readonly logs: string[];
}

export interface RigOptions {
  /** Model params besides the MAC (rate, rxBufferSize). */
  readonly params?: Omit<E1000Params, 'mac'>;
  /** Driver options besides mmio/mem/mac/dma. */
  readonly driver?: Omit<E1000DriverOptions, 'mmio' | 'mem' | 'mac' | 'dma'>;
  /** Put the NICs behind IOMMU-checked DmaSpaces (the drivers grant rings and buffers); default true. */
  readonly iommu?: boolean;
  /** Wire options besides the scheduler. */
  readonly wire?: Omit<WireOptions, 'scheduler'>;
  /** Physical memory bytes; default 16 MiB (heap-backed). */
  readonly memSize?: number;
  /** Skip bring-up. */
  readonly raw?: boolean;
}

export interface Rig {
  readonly clock: VirtualClock;
  readonly sched: Scheduler;
  readonly mem: PhysicalMemory;
  readonly wire: Wire;
  readonly a: RigNic;
  readonly b: RigNic;
}

/** A NIC on `port`, realized and (unless opts.raw) brought up by its test driver. */
export function rigNic(sched: Scheduler, mem: PhysicalMemory, port: Port | null, name: string, mac: string, opts: RigOptions = {}): RigNic {
  const logs: string[] = [];
  const irq = new IrqLine(name);
  const dma = opts.iommu === false ? undefined : new DmaSpace(mem, name);
  const nic = new E1000({ name, memory: dma ?? mem, scheduler: sched, irq, log: (m) => logs.push(m), params: { mac, ...opts.params } });
  nic.realize();
  nic.attach(port);
  const drv = new E1000TestDriver({ mmio: nic.regions[0]!, mem, dma, mac, ...opts.driver });
  if (!opts.raw) drv.bringUp();
  return { nic, drv, irq, dma, logs };
}

/** Two NICs (52:54:00:00:00:0a and :0b) on one wire over a VirtualClock, brought up. */
export function nicPair(opts: RigOptions = {}): Rig {
  const clock = new VirtualClock();
  const sched = new Scheduler(clock);
  const mem = new PhysicalMemory({ size: opts.memSize ?? 16 << 20, backing: 'heap' });
  const wire = new Wire({ scheduler: sched, ...opts.wire });
  const a = rigNic(sched, mem, wire.a, 'eth0', '52:54:00:00:00:0a', opts);
  const b = rigNic(sched, mem, wire.b, 'eth1', '52:54:00:00:00:0b', opts);
  clock.runUntilIdle();
  return { clock, sched, mem, wire, a, b };
}
