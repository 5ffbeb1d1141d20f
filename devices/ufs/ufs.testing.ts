/**
 * @module devices/ufs/ufs.testing
 * A tiny register-level UFS host driver for tests and benchmarks (not itself a test file). It
 * talks to the model the way Linux `ufshcd` does — MMIO through the region, UTRDs / UPIUs /
 * PRDTs built in physical memory with the constants of ufs.regs.ts — and waits by advancing a
 * VirtualClock (or by yielding to the event loop over a RealClock).
 *
 * Memory layout per slot (Linux-like by default, configurable to test that the model honours
 * what is programmed): one page-aligned UCD with the command UPIU at 0, the response UPIU at
 * `ruo`, the PRDT at `prdto`.
 *
 * @example
 * const rig = createUfsRig({ luns: [{ sizeBytes: 1 << 20 }] });
 * await rig.driver.bringUp();
 * await rig.driver.writeBlocks(0, 0, data, { segments: 3 });
 * const back = await rig.driver.readBlocks(0, 0, 2);
 */
import { VirtualClock, type Clock } from '../core/clock.js';
import type { MmioRegionSpec } from '../core/device-model.js';
import type { DmaSpace } from '../core/dma.js';
import { IrqLine } from '../core/irq.js';
import { PhysicalMemory } from '../core/phys-mem.js';
import { Scheduler } from '../core/scheduler.js';
import { UfsHostController, type UfsParams } from './ufs.model.js';
import {
  FLAG_IDN, HS_SERIES, OCS, PA, PRDT, PWR_MODE, QUERY_FUNC, QUERY_OP, SCSI_OP, UFS_INTR, UFS_INTR_ERRORS,
  UFS_INTR_UIC_PWR, UFS_REGS, UIC, uicArgMib, UPIU_FLAGS, UPMCRS, UTMRD, UTP_CMD_TYPE_UFS_STORAGE, UTP_DD, UTRD,
} from './ufs.regs.js';
import {
  buildCommandUpiu, buildNopOut, buildQueryRequest, buildTaskRequest, decodeCommandResponse, decodeHeader,
  decodeQueryResponse, decodeTaskResponse, type QueryResponse, type CommandResponse,
} from './ufs.upiu.js';

type Reg = keyof typeof UFS_REGS.offsets;
const A = UFS_REGS.offsets;

export interface UcdLayout {
  /** Response UPIU offset and length, bytes (multiples of 4). */
  readonly ruo: number;
  readonly rul: number;
  /** PRDT offset, bytes (multiple of 4), and capacity in entries. */
  readonly prdto: number;
  readonly maxPrdt: number;
}

/** Linux's `utp_transfer_cmd_desc`: command 512 B, response 512 B, then the PRDT. */
export const LINUX_UCD_LAYOUT: UcdLayout = { ruo: 512, rul: 512, prdto: 1024, maxPrdt: 192 };

export interface SlotRequest {
  readonly upiu: Uint8Array;
  readonly dd?: number;
  /** UTRD.I; default true. */
  readonly intr?: boolean;
  readonly prdt?: readonly { addr: number; len: number }[];
  /** Raw DBC values instead of len - 1 (to test bad entries). */
  readonly rawDbc?: readonly number[];
  readonly ct?: number;
}

export interface Completion {
  readonly ocs: number;
  /** The response area as the device left it (layout.rul bytes). */
  readonly response: Uint8Array;
}

export interface ScsiResult {
  readonly ocs: number;
  readonly rsp: CommandResponse;
  readonly data: Uint8Array;
}

export interface DriverOptions {
  readonly mmio: MmioRegionSpec;
  readonly mem: PhysicalMemory;
  readonly clock: Clock;
  /** Grants the driver's allocations to the device (when the model uses a grant-checked DmaSpace). */
  readonly dma?: DmaSpace;
  readonly layout?: UcdLayout;
  readonly nutrs?: number;
}

export class UfsTestDriver {
  readonly layout: UcdLayout;
  readonly nutrs: number;
  utrl = 0;
  utmrl = 0;
  readonly ucd: number[] = [];
  private tag = 0;

  constructor(readonly o: DriverOptions) {
    this.layout = o.layout ?? LINUX_UCD_LAYOUT;
    this.nutrs = o.nutrs ?? 32;
  }

  rd(reg: Reg): number {
    return this.o.mmio.read(A[reg], 4);
  }

  wr(reg: Reg, v: number): void {
    this.o.mmio.write(A[reg], 4, v >>> 0);
  }

  /** Lets time pass until `cond` holds (VirtualClock: event by event). */
  async until(cond: () => boolean, what: string, maxSteps = 100_000): Promise<void> {
    const c = this.o.clock;
    for (let i = 0; !cond(); i++) {
      if (i >= maxSteps) throw new Error(`timed out waiting for ${what}`);
      if (c instanceof VirtualClock) {
        const t = c.nextEventTime();
        if (t === undefined) throw new Error(`waiting for ${what}, but nothing is scheduled`);
        c.runUntil(t);
      } else {
        await new Promise<void>((r) => setImmediate(r));
      }
    }
  }

  /** Allocates zeroed DMA memory and grants it to the device. */
  alloc(size: number, align = 4096, dir: 'to-device' | 'from-device' | 'bidirectional' = 'bidirectional'): number {
    const a = this.o.mem.alloc(size, align, 'ufs-test');
    if (a === null) throw new Error('out of DMA memory');
    this.o.dma?.grant(a.addr, a.size, dir);
    return a.addr;
  }

  free(addr: number): void {
    this.o.dma?.revoke(addr);
    this.o.mem.free(addr);
  }

  // ---- controller and link ------------------------------------------------------------------

  /** ufshcd_hba_enable: HCE = 1, then poll until it reads 1. */
  async enable(): Promise<void> {
    if (this.rd('HCE') & 1) {
      this.wr('HCE', 0);
      await this.until(() => (this.rd('HCE') & 1) === 0, 'HCE = 0');
    }
    this.wr('HCE', 1);
    await this.until(() => (this.rd('HCE') & 1) === 1, 'HCE = 1');
  }

  /** Sends a UIC command and waits for IS.UCCS; returns the result code and UCMDARG3. */
  async uic(op: number, arg1 = 0, arg2 = 0, arg3 = 0): Promise<{ result: number; value: number }> {
    await this.until(() => (this.rd('HCS') & UFS_REGS.bits.HCS.UCRDY) !== 0, 'HCS.UCRDY');
    this.wr('IS', UFS_INTR.UCCS);
    this.wr('UCMDARG1', arg1);
    this.wr('UCMDARG2', arg2);
    this.wr('UCMDARG3', arg3);
    this.wr('UICCMD', op);
    await this.until(() => (this.rd('IS') & UFS_INTR.UCCS) !== 0, `UIC 0x${op.toString(16)} completion`);
    this.wr('IS', UFS_INTR.UCCS);
    return { result: this.rd('UCMDARG2') & 0xff, value: this.rd('UCMDARG3') };
  }

  async dmeGet(attr: number, peer = false, sel = 0): Promise<{ result: number; value: number }> {
    return this.uic(peer ? UIC.DME_PEER_GET : UIC.DME_GET, uicArgMib(attr, sel));
  }

  async dmeSet(attr: number, value: number, peer = false, sel = 0): Promise<number> {
    return (await this.uic(peer ? UIC.DME_PEER_SET : UIC.DME_SET, uicArgMib(attr, sel), 0, value)).result;
  }

  async linkStartup(): Promise<void> {
    const r = await this.uic(UIC.DME_LINK_STARTUP);
    if (r.result !== 0 || (this.rd('HCS') & UFS_REGS.bits.HCS.DP) === 0) throw new Error(`link startup failed (result ${r.result})`);
  }

  /** ufshcd_change_power_mode: PA_* then PA_PWRMODE; waits for IS.UPMS; returns HCS.UPMCRS. */
  async changePowerMode(p: { gear?: number; lanes?: number; mode?: number; series?: number } = {}): Promise<number> {
    const gear = p.gear ?? 4, lanes = p.lanes ?? 2, mode = p.mode ?? PWR_MODE.FAST, series = p.series ?? HS_SERIES.B;
    for (const [attr, v] of [[PA.RXGEAR, gear], [PA.ACTIVERXDATALANES, lanes], [PA.RXTERMINATION, 1], [PA.TXGEAR, gear],
      [PA.ACTIVETXDATALANES, lanes], [PA.TXTERMINATION, 1], [PA.HSSERIES, series]] as const) {
      const r = await this.dmeSet(attr, v);
      if (r !== 0) throw new Error(`DME_SET 0x${attr.toString(16)} failed: ${r}`);
    }
    this.wr('IS', UFS_INTR.UPMS);
    const r = await this.dmeSet(PA.PWRMODE, (mode << 4) | mode);
    if (r !== 0) throw new Error(`DME_SET PA_PWRMODE failed: ${r}`);
    await this.until(() => (this.rd('IS') & UFS_INTR.UPMS) !== 0, 'IS.UPMS');
    this.wr('IS', UFS_INTR.UPMS);
    return UFS_REGS.get(this.rd('HCS'), 'HCS', 'UPMCRS');
  }

  /** ufshcd_make_hba_operational: lists allocated and programmed, run/stop set. */
  makeOperational(): void {
    if (this.utrl === 0) {
      this.utrl = this.alloc(UTRD.SIZE * 32, 1024);
      this.utmrl = this.alloc(UTMRD.SIZE * 8, 1024);
      for (let i = 0; i < 32; i++) this.ucd.push(this.alloc(this.layout.prdto + this.layout.maxPrdt * PRDT.SIZE, 128));
    }
    this.wr('IE', UFS_INTR.UTRCS | UFS_INTR.UTMRCS | UFS_INTR.UCCS | UFS_INTR_UIC_PWR | UFS_INTR_ERRORS);
    this.wr('UTRIACR', 0);
    this.wr('UTRLBA', this.utrl);
    this.wr('UTRLBAU', 0);
    this.wr('UTMRLBA', this.utmrl);
    this.wr('UTMRLBAU', 0);
    this.wr('UTMRLRSR', 1);
    this.wr('UTRLRSR', 1);
  }

  /** The whole Linux-like bring-up: enable, link, lists, NOP, fDeviceInit, gear up. */
  async bringUp(opts: { gearUp?: boolean } = {}): Promise<void> {
    this.wr('IS', this.rd('IS'));
    this.wr('IE', 0);
    await this.enable();
    this.wr('IE', UFS_INTR.UCCS | UFS_INTR_UIC_PWR);
    await this.linkStartup();
    this.makeOperational();
    const nop = await this.nop();
    if (nop.ocs !== OCS.SUCCESS) throw new Error(`NOP OUT failed: OCS ${nop.ocs}`);
    await this.deviceInit();
    if (opts.gearUp ?? true) {
      const s = await this.changePowerMode();
      if (s !== UPMCRS.PWR_LOCAL) throw new Error(`power mode change failed: UPMCRS ${s}`);
    }
  }

  /** ufshcd_complete_dev_init: SET fDeviceInit, READ until 0; returns the number of reads. */
  async deviceInit(): Promise<number> {
    const set = await this.query({ opcode: QUERY_OP.SET_FLAG, idn: FLAG_IDN.fDeviceInit });
    if (set.rsp.response !== 0) throw new Error(`SET fDeviceInit failed: ${set.rsp.response}`);
    for (let reads = 1; reads < 1000; reads++) {
      const r = await this.query({ opcode: QUERY_OP.READ_FLAG, idn: FLAG_IDN.fDeviceInit });
      if ((r.rsp.value & 0xff) === 0) return reads;
      const c = this.o.clock;
      if (c instanceof VirtualClock) c.advance(1_000_000); // usleep(1 ms) between polls
    }
    throw new Error('fDeviceInit never cleared');
  }

  // ---- transfer requests --------------------------------------------------------------------

  nextTag(): number {
    this.tag = (this.tag + 1) & 0xff;
    return this.tag;
  }

  /** Writes the UTRD and UCD of `slot` (OCS preset to INVALID_COMMAND_STATUS, response area poisoned). */
  prepare(slot: number, r: SlotRequest): void {
    const L = this.layout, ucd = this.ucd[slot]!, mem = this.o.mem;
    const prdt = r.prdt ?? [];
    const utrd = new DataView(mem.buffer, this.utrl + slot * UTRD.SIZE, UTRD.SIZE);
    const dw0 = ((r.ct ?? UTP_CMD_TYPE_UFS_STORAGE) << UTRD.CT_SHIFT) | (r.dd ?? UTP_DD.NONE) | ((r.intr ?? true) ? UTRD.I : 0);
    utrd.setUint32(UTRD.DW0, dw0 >>> 0, true);
    utrd.setUint32(UTRD.DW2, OCS.INVALID_COMMAND_STATUS, true);
    utrd.setUint32(UTRD.UCDBA, ucd, true);
    utrd.setUint32(UTRD.UCDBAU, 0, true);
    utrd.setUint32(UTRD.DW6, (((L.ruo / 4) << 16) | (L.rul / 4)) >>> 0, true);
    utrd.setUint32(UTRD.DW7, (((L.prdto / 4) << 16) | prdt.length) >>> 0, true);
    mem.view(ucd, L.prdto).fill(0);
    mem.view(ucd + L.ruo, L.rul).fill(0xee);
    mem.view(ucd, r.upiu.length).set(r.upiu);
    const pv = new DataView(mem.buffer, ucd + L.prdto, Math.max(1, prdt.length) * PRDT.SIZE);
    prdt.forEach((s, i) => {
      pv.setUint32(i * PRDT.SIZE + PRDT.DBA, s.addr % 0x1_0000_0000, true);
      pv.setUint32(i * PRDT.SIZE + PRDT.DBAU, Math.floor(s.addr / 0x1_0000_0000), true);
      pv.setUint32(i * PRDT.SIZE + 8, 0, true);
      pv.setUint32(i * PRDT.SIZE + PRDT.DBC, r.rawDbc?.[i] ?? s.len - 1, true);
    });
  }

  ring(mask: number): void {
    this.wr('UTRLDBR', mask);
  }

  /** Waits for the doorbell bits to clear, then acknowledges like ufshcd_intr (IS and UTRLCNR written back). */
  async waitSlots(mask: number): Promise<void> {
    await this.until(() => (this.rd('UTRLDBR') & mask) === 0, `slots 0x${mask.toString(16)}`);
    this.wr('IS', this.rd('IS'));
    this.wr('UTRLCNR', mask);
  }

  ocs(slot: number): number {
    return this.o.mem.view(this.utrl + slot * UTRD.SIZE + UTRD.DW2, 1)[0]!;
  }

  response(slot: number): Uint8Array {
    return this.o.mem.view(this.ucd[slot]! + this.layout.ruo, this.layout.rul).slice();
  }

  async submit(slot: number, r: SlotRequest): Promise<Completion> {
    this.prepare(slot, r);
    this.ring(1 << slot);
    await this.waitSlots(1 << slot);
    return { ocs: this.ocs(slot), response: this.response(slot) };
  }

  async nop(slot = 0): Promise<Completion & { type: number; tag: number }> {
    const tag = this.nextTag();
    const c = await this.submit(slot, { upiu: buildNopOut(tag) });
    const h = decodeHeader(c.response);
    return { ...c, type: h.type, tag: h.tag };
  }

  async query(q: { opcode: number; idn?: number; index?: number; selector?: number; length?: number; value?: number; fn?: number; slot?: number }): Promise<{ ocs: number; rsp: QueryResponse & { type: number } }> {
    const read = [QUERY_OP.READ_DESC, QUERY_OP.READ_ATTR, QUERY_OP.READ_FLAG].includes(q.opcode as 1);
    const fn = q.fn ?? (read ? QUERY_FUNC.STANDARD_READ : QUERY_FUNC.STANDARD_WRITE);
    const length = q.length ?? (q.opcode === QUERY_OP.READ_DESC ? 255 : 0);
    const upiu = buildQueryRequest({ tag: this.nextTag(), fn, opcode: q.opcode, idn: q.idn, index: q.index, selector: q.selector, length, value: q.value });
    const c = await this.submit(q.slot ?? 0, { upiu });
    return { ocs: c.ocs, rsp: decodeQueryResponse(c.response) };
  }

  async readDescriptor(idn: number, index = 0): Promise<Uint8Array> {
    const r = await this.query({ opcode: QUERY_OP.READ_DESC, idn, index });
    if (r.ocs !== OCS.SUCCESS || r.rsp.response !== 0) throw new Error(`READ DESCRIPTOR ${idn}/${index}: OCS ${r.ocs}, response 0x${r.rsp.response.toString(16)}`);
    return r.rsp.data;
  }

  /**
   * Splits `len` bytes at `addr` into about `n` PRDT entries, each a dword multiple of at most
   * 256 KiB; the total is padded to a dword multiple, as Linux pads SCSI buffers
   * (`PRDT_DATA_BYTE_COUNT_PAD`).
   */
  static split(addr: number, len: number, n: number): { addr: number; len: number }[] {
    const total = Math.ceil(len / 4) * 4;
    const unit = Math.min(PRDT.MAX_BYTES, Math.max(4, Math.floor(total / n / 4) * 4));
    const out: { addr: number; len: number }[] = [];
    for (let at = 0; at < total; at += unit) out.push({ addr: addr + at, len: Math.min(unit, total - at) });
    return out;
  }

  /**
   * One SCSI command: `dataIn` bytes to receive or `dataOut` to send, through `segments` PRDT
   * entries of a freshly allocated buffer.
   */
  async scsi(lun: number, cdb: Uint8Array, o: { dataIn?: number; dataOut?: Uint8Array; segments?: number; slot?: number; edtl?: number } = {}): Promise<ScsiResult> {
    const len = o.dataIn ?? o.dataOut?.length ?? 0;
    const dir = o.dataIn !== undefined ? 'from-device' : 'to-device';
    const buf = len > 0 ? this.alloc(len, 4096, dir) : 0;
    try {
      if (o.dataOut !== undefined) this.o.mem.view(buf, len).set(o.dataOut);
      const flags = o.dataIn !== undefined ? UPIU_FLAGS.READ : o.dataOut !== undefined ? UPIU_FLAGS.WRITE : 0;
      const dd = o.dataIn !== undefined ? UTP_DD.DEVICE_TO_HOST : o.dataOut !== undefined ? UTP_DD.HOST_TO_DEVICE : UTP_DD.NONE;
      const upiu = buildCommandUpiu({ lun, tag: this.nextTag(), flags, edtl: o.edtl ?? len, cdb });
      const prdt = len > 0 ? UfsTestDriver.split(buf, len, o.segments ?? 1) : [];
      const c = await this.submit(o.slot ?? 0, { upiu, dd, prdt });
      const data = o.dataIn !== undefined ? this.o.mem.view(buf, len).slice() : new Uint8Array(0);
      return { ocs: c.ocs, rsp: decodeCommandResponse(c.response), data };
    } finally {
      if (buf !== 0) this.free(buf);
    }
  }

  async readBlocks(lun: number, lba: number, count: number, o: { blockSize?: number; segments?: number; sixteen?: boolean } = {}): Promise<ScsiResult> {
    const bs = o.blockSize ?? 4096;
    return this.scsi(lun, o.sixteen ? cdb16(SCSI_OP.READ_16, lba, count) : cdb10(SCSI_OP.READ_10, lba, count), { dataIn: count * bs, segments: o.segments });
  }

  async writeBlocks(lun: number, lba: number, data: Uint8Array, o: { blockSize?: number; segments?: number; fua?: boolean; sixteen?: boolean } = {}): Promise<ScsiResult> {
    const count = data.length / (o.blockSize ?? 4096);
    const cdb = o.sixteen ? cdb16(SCSI_OP.WRITE_16, lba, count) : cdb10(SCSI_OP.WRITE_10, lba, count);
    if (o.fua) cdb[1] = cdb[1]! | 0x08;
    return this.scsi(lun, cdb, { dataOut: data, segments: o.segments });
  }

  /** A TM request in TM slot `slot`; returns OCS and the service response (output param 1). */
  async taskManagement(slot: number, fn: number, lun: number, taskTag: number): Promise<{ ocs: number; service: number; type: number }> {
    const at = this.utmrl + slot * UTMRD.SIZE;
    const d = this.o.mem.view(at, UTMRD.SIZE);
    d.fill(0);
    new DataView(d.buffer, at, UTMRD.SIZE).setUint32(UTMRD.DW0, UTMRD.I, true);
    d[UTMRD.DW2] = OCS.INVALID_COMMAND_STATUS;
    d.set(buildTaskRequest({ lun, tag: this.nextTag(), fn, param1: lun, param2: taskTag }), UTMRD.REQ_UPIU);
    this.wr('UTMRLDBR', 1 << slot);
    await this.until(() => (this.rd('UTMRLDBR') & (1 << slot)) === 0, `TM slot ${slot}`);
    this.wr('IS', this.rd('IS'));
    const rsp = decodeTaskResponse(this.o.mem.view(at + UTMRD.RSP_UPIU, UTMRD.UPIU_SIZE).slice());
    return { ocs: d[UTMRD.DW2]!, service: rsp.param1, type: rsp.type };
  }
}

/** READ(10)/WRITE(10)-shaped CDB (also SYNCHRONIZE CACHE(10)). */
export function cdb10(op: number, lba: number, count: number): Uint8Array {
  const c = new Uint8Array(10);
  c[0] = op;
  new DataView(c.buffer).setUint32(2, lba >>> 0);
  new DataView(c.buffer).setUint16(7, count);
  return c;
}

/** READ(16)/WRITE(16)-shaped CDB. */
export function cdb16(op: number, lba: number | bigint, count: number): Uint8Array {
  const c = new Uint8Array(16);
  c[0] = op;
  new DataView(c.buffer).setBigUint64(2, BigInt(lba));
  new DataView(c.buffer).setUint32(10, count);
  return c;
}

/** A 6-byte CDB with an allocation length in byte 4 (INQUIRY uses bytes 3-4). */
export function cdb6(op: number, b1 = 0, b2 = 0, alloc = 0): Uint8Array {
  const c = Uint8Array.of(op, b1, b2, (alloc >> 8) & 0xff, alloc & 0xff, 0);
  return c;
}

export interface UfsRig {
  readonly clock: VirtualClock;
  readonly sched: Scheduler;
  readonly mem: PhysicalMemory;
  readonly irq: IrqLine;
  readonly model: UfsHostController;
  readonly mmio: MmioRegionSpec;
  readonly driver: UfsTestDriver;
  readonly logs: string[];
}

/** A realized model over virtual time and heap memory, with a driver. */
export function createUfsRig(params: UfsParams, o: { memSize?: number; dma?: (mem: PhysicalMemory) => DmaSpace; layout?: UcdLayout } = {}): UfsRig {
  const clock = new VirtualClock();
  const sched = new Scheduler(clock);
  const mem = new PhysicalMemory({ size: o.memSize ?? 16 << 20, backing: 'heap' });
  const irq = new IrqLine('ufs0');
  const logs: string[] = [];
  const dma = o.dma?.(mem);
  const model = new UfsHostController({ memory: dma ?? mem, scheduler: sched, irq, log: (m) => logs.push(m), params });
  model.realize();
  const mmio = model.regions[0]!;
  const driver = new UfsTestDriver({ mmio, mem, clock, dma, layout: o.layout, nutrs: params.nutrs });
  return { clock, sched, mem, irq, model, mmio, driver, logs };
}
