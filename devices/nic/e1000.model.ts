/**
 * @module nic/e1000.model
 * Intel 82540EM ("e1000") Gigabit Ethernet controller, legacy descriptors only
 * (hardware-models.md §2; QEMU `hw/net/e1000.c` semantics, our own code).
 *
 * hmdrv interface: MMIO window 0 = registers (e1000.regs.ts, 128 KiB); IRQ 0 = level,
 * (ICR & IMS) != 0 subject to ITR throttling; DMA: reads TX descriptors and buffers, writes RX
 * buffers and write-backs of both rings. The network side is a `Port` (wire.ts) given to
 * `attach()`.
 *
 * - CTRL.RST resets the device (self-clearing; RAL0/RAH0 reload the MAC as from the EEPROM).
 * - STATUS.LU = carrier from the port && CTRL.SLU; a change raises ICR.LSC.
 * - ICR clears on read (and where 1s are written); ICS sets causes; IMS/IMC set/clear the mask.
 *   The line is recomputed in `updateIrq()` only; the TX bottom half and an RX delivery run
 *   `hold()` it and update it once at their end (`release()`), at the same instant.
 * - ITR (256 ns units): after the line rises, it cannot rise again for ITR x 256 ns; 0 = off.
 * - TX (e1000.tx.ts): a TDT/TCTL write only schedules the bottom half; `rate` paces frames.
 * - RX (e1000.rx.ts): filter, DMA into RDH..RDT, RXT0 after RDTR/RADV; no buffers = RXO + MPC.
 * - Statistics (0x4000-0x40FC) clear on read; the data path adds to a Float64Array by register
 *   index, folded into the registers when they are read; `counters` keeps model-side totals.
 * - Bad programming (rings outside memory, RDLEN not a multiple of 128, heads/tails past the
 *   ring, wrong access sizes, unknown offsets) is logged through `log`, never thrown.
 *
 * Deviations from the 82540EM (also in README.md): no PCI config space (the bus front-end's
 * job); EEPROM reads through EERD only (EECD bit-bang not modelled); the PHY answers MDIC at
 * once and there is no 500 ms autonegotiation; no flow control, VLAN, checksum offload, TSO,
 * loopback or wake-up; ITR has no 500-unit floor (QEMU's); INT_ASSERTED is never set.
 */
import { DeviceModel } from '../core/device-model.js';
import { DmaSpace } from '../core/dma.js';
import type { IrqLine } from '../core/irq.js';
import type { PhysicalMemory } from '../core/phys-mem.js';
import { RegisterFile } from '../core/register-file.js';
import type { Cancel, Scheduler } from '../core/scheduler.js';
import { E1000Sideband } from './e1000.phy.js';
import { E1000_REGS, ICR, MDIC_OP_READ, MDIC_OP_WRITE, macToRa, parseMac, PHY_ADDR, RING_ALIGN, SPEED, type E1000Specs } from './e1000.regs.js';
import { REG, type E1000Counters, type NicCore } from './e1000.ring.js';
import { E1000Rx } from './e1000.rx.js';
import { E1000Tx } from './e1000.tx.js';
import { parseRate, type LineRate, type Port } from './wire.js';

export type { E1000Counters } from './e1000.ring.js';

export interface E1000Params {
  /** Station address, loaded into the EEPROM and RAL0/RAH0 at reset: "52:54:00:12:34:56". */
  readonly mac: string;
  /** TX line rate: 'unlimited' (default), bits/s, or '1g' / '100m'. Sets STATUS.SPEED too. */
  readonly rate?: LineRate;
  /** On-chip RX FIFO in bytes: frames wait there while no descriptor is free. Default 0: dropped at once. */
  readonly rxBufferSize?: number;
}

export interface E1000Options {
  /** Bus memory: a DmaSpace (IOMMU-checked), or PhysicalMemory (every in-bounds access allowed). */
  readonly memory: PhysicalMemory | DmaSpace;
  readonly scheduler: Scheduler;
  readonly irq: IrqLine;
  /** Guest errors and device faults, one line each. */
  readonly log?: (msg: string) => void;
  readonly params: E1000Params;
  /** Instance name; default 'e1000'. */
  readonly name?: string;
}

/** Mutable device state outside the registers (serialisable). */
interface E1000State {
  /** The port reports a carrier. */
  carrier: boolean;
  /** STATUS.LU (cached for the data path). */
  linkUp: boolean;
  /** Earliest time (ns) the IRQ line may rise again (ITR). */
  nextIrqAt: bigint;
}

const MAX_RX_FIFO = 1 << 20;

/** The statistics registers (0x4000-0x40FC, all read-to-clear). */
const STATS = E1000_REGS.registers.filter((r) => r.offset >= 0x4000 && r.offset < 0x4100);
/** Per register index: the low half of its 64-bit pair (itself for 32-bit counters)... */
const STAT_LO = Int32Array.from(E1000_REGS.registers, (r) => r.index);
/** ...and the high half (-1 for 32-bit counters). */
const STAT_HI = new Int32Array(E1000_REGS.registers.length).fill(-1);
for (const b of ['GORC', 'GOTC', 'TOR', 'TOT'] as const) {
  const lo = E1000_REGS.reg(`${b}L`).index, hi = E1000_REGS.reg(`${b}H`).index;
  STAT_LO[hi] = lo;
  STAT_HI[lo] = hi;
}
const SLU = E1000_REGS.bits.CTRL.SLU;

export class E1000 extends DeviceModel implements NicCore {
  readonly regs: RegisterFile<E1000Specs>;
  readonly dma: DmaSpace;
  readonly sched: Scheduler;
  readonly rate: number;
  readonly rxFifoBytes: number;
  readonly mac: Uint8Array;
  readonly counters: E1000Counters = { txFrames: 0, txBytes: 0, txDropped: 0, rxFrames: 0, rxBytes: 0, rxMissed: 0, rxFiltered: 0, faults: 0 };
  private readonly st: E1000State = { carrier: false, linkUp: false, nextIrqAt: 0n };
  /** Statistics not yet folded into their read-to-clear registers, by register index (the data path only adds here). */
  private readonly pending = new Float64Array(E1000_REGS.registers.length);
  /** `hold()` depth: while > 0, raised causes wait for `release()` to move the line. */
  private held = 0;
  private readonly irq: IrqLine;
  private readonly log: (msg: string) => void;
  private readonly tx: E1000Tx;
  private readonly rx: E1000Rx;
  private readonly sideband: E1000Sideband;
  private attached: Port | undefined;
  private detachPort: (() => void)[] = [];
  private throttle: Cancel | undefined;

  /** Allocates the register file and engines; validates the params (a bad MAC or rate throws RangeError). */
  constructor(opts: E1000Options) {
    super(opts.name ?? 'e1000');
    this.log = opts.log ?? (() => {});
    this.sched = opts.scheduler;
    this.irq = opts.irq;
    this.dma = opts.memory instanceof DmaSpace ? opts.memory : new DmaSpace(opts.memory, this.name, { permissive: true });
    this.mac = parseMac(opts.params.mac);
    this.rate = parseRate(opts.params.rate);
    this.rxFifoBytes = opts.params.rxBufferSize ?? 0;
    if (!Number.isInteger(this.rxFifoBytes) || this.rxFifoBytes < 0 || this.rxFifoBytes > MAX_RX_FIFO) {
      throw new RangeError(`${this.name}: rxBufferSize ${this.rxFifoBytes} must be 0..${MAX_RX_FIFO} bytes`);
    }
    this.sideband = new E1000Sideband(this.mac);
    this.regs = new RegisterFile(E1000_REGS, {
      name: this.name,
      log: this.log,
      onWrite: this.writeHooks(),
      onRead: this.statHooks(),
      afterRead: { ICR: () => this.updateIrq() },
    });
    this.tx = new E1000Tx(this);
    this.rx = new E1000Rx(this);
    this.regions.push(this.regs);
    this.irqs.push(this.irq);
  }

  /** Connects the network side (or disconnects with null). The carrier follows the port. */
  attach(port: Port | null): void {
    this.rx.endBatch(); // a delivery run cut short by the detach would leave the IRQ line held
    for (const off of this.detachPort.splice(0)) off();
    this.attached = port ?? undefined;
    if (port !== null) {
      this.detachPort.push(port.onReceive((f) => this.rx.receive(f), () => this.rx.endBatch()));
      this.detachPort.push(port.onLinkChange((up) => this.setCarrier(up)));
    }
    this.setCarrier(port?.linkUp ?? false);
  }

  // ---- NicCore -----------------------------------------------------------------------

  port(): Port | undefined {
    return this.attached;
  }

  linkUp(): boolean {
    return this.st.linkUp;
  }

  fault(msg: string): void {
    this.counters.faults++;
    this.log(`${this.name}: device fault: ${msg}`);
  }

  raise(causes: number): void {
    this.regs.setValueAt(REG.ICR, this.regs.valueAt(REG.ICR) | causes);
    if (this.held === 0) this.updateIrq();
  }

  hold(): void {
    this.held++;
  }

  release(): void {
    if (this.held > 0 && --this.held === 0) this.updateIrq();
  }

  count(reg: number, n = 1): void {
    this.pending[reg]! += n;
  }

  count64(lo: number, n: number): void {
    this.pending[lo]! += n; // the high half gets the carry when either half is read
  }

  // ---- lifecycle ---------------------------------------------------------------------

  /** Power-on / CTRL.RST state: registers, engines, PHY; the MAC back in RAL0/RAH0. */
  reset(): void {
    this.throttle?.();
    this.throttle = undefined;
    this.st.nextIrqAt = 0n;
    this.tx.reset();
    this.rx.reset();
    this.sideband.reset();
    this.regs.reset();
    this.pending.fill(0);
    const { ral, rah } = macToRa(this.mac);
    this.regs.setValue('RAL0', ral);
    this.regs.setValue('RAH0', rah);
    const speed = this.rate === 0 || this.rate > 1e8 ? SPEED.S1000 : this.rate > 1e7 ? SPEED.S100 : SPEED.S10;
    this.regs.setField('STATUS', 'SPEED', speed);
    this.syncLink(false);
    this.updateIrq();
  }

  /**
   * The one place the IRQ line is driven: high while (ICR & IMS) != 0, except that with ITR set
   * the line may only rise ITR x 256 ns after it last rose; a held-back rise is re-checked then.
   */
  updateIrq(): void {
    const r = this.regs;
    const pending = (r.valueAt(REG.ICR) & r.valueAt(REG.IMS)) !== 0;
    if (!pending || this.irq.level) {
      this.irq.set(pending);
      return;
    }
    const itr = r.valueAt(REG.ITR);
    const gap = itr === 0 ? 0n : BigInt(itr) * 256n;
    const now = this.sched.now();
    if (gap > 0n && now < this.st.nextIrqAt) {
      this.throttle ??= this.sched.at(this.st.nextIrqAt, () => {
        this.throttle = undefined;
        this.updateIrq();
      });
      return;
    }
    this.st.nextIrqAt = now + gap;
    this.irq.set(true);
  }

  protected override onUnrealize(): void {
    this.tx.reset();
    this.rx.reset();
    this.throttle?.();
    this.attach(null);
  }

  /** Model-side state for /proc and debugging. */
  snapshot(): { state: { carrier: boolean; nextIrqAt: string }; regs: Record<string, number>; counters: E1000Counters } {
    for (const r of STATS) this.fold(r.index);
    return { state: { carrier: this.st.carrier, nextIrqAt: this.st.nextIrqAt.toString() }, regs: this.regs.snapshot(), counters: { ...this.counters } };
  }

  // ---- statistics --------------------------------------------------------------------

  /** onRead hooks of the statistics registers: fold pending counts in before the read clears them. */
  private statHooks(): Record<string, () => number> {
    return Object.fromEntries(STATS.map((r) => [r.name, () => this.fold(r.index)]));
  }

  /** Adds a register's pending count (for a 64-bit pair: the low half's, carrying into the high half); returns its value. */
  private fold(reg: number): number {
    const r = this.regs;
    const lo = STAT_LO[reg]!, hi = STAT_HI[lo]!;
    const p = this.pending[lo]!;
    if (p !== 0) {
      this.pending[lo] = 0;
      const v = r.valueAt(lo) + p;
      r.setValueAt(lo, v >>> 0);
      if (hi >= 0) r.setValueAt(hi, (r.valueAt(hi) + Math.floor(v / 0x1_0000_0000)) >>> 0);
    }
    return r.valueAt(reg);
  }

  // ---- link --------------------------------------------------------------------------

  private setCarrier(up: boolean): void {
    this.st.carrier = up;
    if (this.realized) this.syncLink(true);
  }

  /** STATUS.LU from carrier and CTRL.SLU; a change raises LSC when `notify`. */
  private syncLink(notify: boolean): void {
    const up = this.st.carrier && (this.regs.value('CTRL') & SLU) !== 0;
    this.sideband.link = up;
    this.st.linkUp = up;
    if (this.regs.getField('STATUS', 'LU') === (up ? 1 : 0)) return;
    this.regs.setField('STATUS', 'LU', up ? 1 : 0);
    if (notify) this.raise(ICR.LSC);
  }

  // ---- MMIO hooks --------------------------------------------------------------------

  private writeHooks() {
    const rxRing = () => this.rx.reconfigure();
    const txRing = () => this.tx.reconfigure();
    return {
      CTRL: (v: number) => {
        if (v & E1000_REGS.bits.CTRL.RST) return this.reset();
        this.syncLink(true);
      },
      EERD: (v: number, old: number) => this.eepromRead(v, old),
      MDIC: (v: number, old: number) => this.mdio(v, old),
      ICR: (_v: number, old: number, written: number) => {
        this.regs.setValue('ICR', old & ~written);
        this.updateIrq();
      },
      ICS: (_v: number, _old: number, written: number) => this.raise(written),
      IMS: () => this.updateIrq(),
      IMC: (_v: number, _old: number, written: number) => {
        this.regs.setValue('IMS', this.regs.value('IMS') & ~written);
        this.updateIrq();
      },
      ITR: () => this.updateIrq(),
      RCTL: (v: number, old: number) => {
        if (v & ~old & E1000_REGS.bits.RCTL.EN) this.rx.tailWritten();
      },
      TCTL: (v: number, old: number) => {
        if (v & ~old & E1000_REGS.bits.TCTL.EN) txRing();
        this.tx.kick();
      },
      RDBAL: (_v: number, _o: number, w: number) => { this.checkAlign('RDBAL', w); rxRing(); },
      RDBAH: rxRing,
      RDLEN: (_v: number, _o: number, w: number) => { this.checkLen('RDLEN', w); rxRing(); },
      RDH: (v: number) => { this.checkIndex('RDH', v, 'RDLEN'); rxRing(); },
      RDT: (v: number) => { this.checkIndex('RDT', v, 'RDLEN'); this.rx.tailWritten(); },
      TDBAL: (_v: number, _o: number, w: number) => { this.checkAlign('TDBAL', w); txRing(); },
      TDBAH: txRing,
      TDLEN: (_v: number, _o: number, w: number) => { this.checkLen('TDLEN', w); txRing(); },
      TDH: (v: number) => { this.checkIndex('TDH', v, 'TDLEN'); txRing(); },
      TDT: (v: number) => { this.checkIndex('TDT', v, 'TDLEN'); this.tx.kick(); },
    };
  }

  private checkAlign(reg: string, written: number): void {
    if (written & 0xf) this.fault(`${reg} 0x${written.toString(16)} is not 16-byte aligned: bits 3:0 ignored`);
  }

  private checkLen(reg: string, written: number): void {
    if (written % RING_ALIGN !== 0 || written >>> 20 !== 0) this.fault(`${reg} ${written} is not a multiple of ${RING_ALIGN} below 1 MiB: stored as ${this.regs.value(reg as 'RDLEN')}`);
  }

  private checkIndex(reg: string, v: number, lenReg: 'RDLEN' | 'TDLEN'): void {
    const count = this.regs.value(lenReg) / 16;
    if (count > 0 && v >= count) this.fault(`${reg} ${v} is beyond the ring (${count} descriptors): the ring stops until it is fixed`);
  }

  /** EERD with START: the word is there at once (DONE), as in QEMU. */
  private eepromRead(v: number, old: number): void {
    const B = E1000_REGS.bits.EERD;
    if (!(v & B.START)) return this.regs.setValue('EERD', (v & B.ADDR) | (old & (B.DONE | B.DATA)));
    const addr = this.regs.getField('EERD', 'ADDR');
    const word = this.sideband.eepromWord(addr);
    if (word === undefined) this.fault(`EERD: EEPROM word ${addr} does not exist (64 words)`);
    this.regs.setValue('EERD', (addr << 8) | B.DONE | ((word ?? 0) << 16));
  }

  /** MDIC read/write of PHY 1, completed at once; other PHY addresses or registers set ERROR. */
  private mdio(v: number, old: number): void {
    const B = E1000_REGS.bits.MDIC;
    const op = v & B.OP, phy = this.regs.getField('MDIC', 'PHYADD'), reg = this.regs.getField('MDIC', 'REGADD');
    if (op !== MDIC_OP_READ && op !== MDIC_OP_WRITE) return this.regs.setValue('MDIC', (v & ~(B.READY | B.ERROR)) | (old & (B.READY | B.ERROR)));
    let data = v & B.DATA, error = phy !== PHY_ADDR;
    if (!error && op === MDIC_OP_READ) {
      const r = this.sideband.phyRead(reg);
      error = r === undefined;
      data = r ?? 0;
    } else if (!error) {
      error = !this.sideband.phyWrite(reg, data);
    }
    if (error) this.fault(`MDIC: ${op === MDIC_OP_READ ? 'read of' : 'write to'} PHY ${phy} register ${reg} failed`);
    this.regs.setValue('MDIC', (v & ~(B.DATA | B.ERROR)) | data | B.READY | (error ? B.ERROR : 0));
    if (v & B.INT_EN) this.raise(ICR.MDAC);
  }
}
