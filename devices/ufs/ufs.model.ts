/**
 * @module devices/ufs/ufs.model
 * UFSHCI 3.0 host controller, legacy single-doorbell mode, with one UFS 3.1 device behind it.
 *
 * hmdrv interface: MMIO window 0 = UFSHCI registers (UFS_REGS, 0x1000 bytes, 32-bit accesses);
 * IRQ 0 = level, (IS & IE & UFS_INTR_MASK) != 0; DMA through one DmaSpace: reads UTRDs,
 * command UPIUs, PRDTs and write buffers, writes response UPIUs, OCS bytes and read buffers.
 *
 * Reference: JESD223 (UFSHCI), JESD220 (UFS), hardware-models.md §1 (QEMU hw/ufs, Renode
 * UFSHostController, Linux ufshcd). Split: ufs.uic.ts (UIC/DME), ufs.utp.ts (UTRD/PRDT/DMA),
 * ufs.tm.ts (task management), ufs.device.ts (the device: query engine + SCSI targets).
 *
 * Behaviour: HCE 0→1 reads back 1 only after `hceEnableNs` (drivers must poll); HCE 1→0 resets
 * the operational state. UIC commands, doorbells and TM requests only record state and schedule
 * work; completion order is response UPIU → OCS → clear UTRLDBR bit → set UTRLCNR bit → IS →
 * updateIrq(). Deliberate differences from hardware are listed in README.md.
 *
 * Per-IO cost: the 32 slots are fixed objects that keep their fetched request (UTRD fields,
 * command UPIU buffer, PRDT arrays) and their PRDT port, so a request allocates no objects; slots
 * that fall due at the same instant share one scheduler event (zero timing: every slot one
 * doorbell write rang), run in slot order and are published together when the event ends, still
 * one by one, each with the full order above. Between two slots the event offers a preemption
 * point (Scheduler.preemptionPoint), where the machine answers register accesses that wait: a
 * handler's read of IS does not wait for the data movement of the batch, and sees it pending.
 */
import { DmaSpace } from '../core/dma.js';
import { DeviceModel } from '../core/device-model.js';
import type { IrqLine } from '../core/irq.js';
import { PhysicalMemory } from '../core/phys-mem.js';
import { RegisterFile } from '../core/register-file.js';
import type { Cancel, Scheduler } from '../core/scheduler.js';
import { DEFAULT_IDENTITY, UfsDevice, type LuParams } from './ufs.device.js';
import type { DeviceIdentity } from './ufs.descriptors.js';
import { OCS, UFS_INTR, UFS_INTR_MASK, UFS_REGS, UIC, UPIU, UPMCRS, UTMRD, UTRD, type UfsRegSpecs } from './ufs.regs.js';
import { runTaskRequest, type HeldTask, type TaskManager } from './ufs.tm.js';
import { MediaTimeline, ns, OwnedTimers, resolveTiming, type UfsTiming, type UfsTimingParam } from './ufs.timing.js';
import { UicLink } from './ufs.uic.js';
import { addr64, FetchedCommand, fetchCommandInto, PrdtPort, readUtrdInto, RESPONSE_BUS_ERROR, writeOcs, writeResponse } from './ufs.utp.js';

// ---- params -----------------------------------------------------------------------------------

export interface UfsParams {
  /** Transfer request slots, 1..32; default 32. */
  readonly nutrs?: number;
  /** Task management slots, 1..8; default 8. */
  readonly nutmrs?: number;
  /** Logical units 0..n-1 (1..32). */
  readonly luns: readonly LuParams[];
  /** Default 'zero'. */
  readonly timing?: UfsTimingParam;
  /** Refuse what real hardware would punish (see README); default true. */
  readonly strict?: boolean;
  readonly identity?: Partial<DeviceIdentity>;
}

export interface UfsHostControllerOptions {
  readonly name?: string;
  /** Physical memory (the device gets a permissive DmaSpace), a DmaSpace, or a factory for one. */
  readonly memory: PhysicalMemory | DmaSpace | ((device: string) => DmaSpace);
  readonly scheduler: Scheduler;
  readonly irq: IrqLine;
  /** Guest errors, unimplemented features, DMA faults: one line each. */
  readonly log?: (msg: string) => void;
  readonly params: UfsParams;
}

/** A configuration the model cannot realize. */
export class UfsConfigError extends Error {
  constructor(device: string, detail: string) {
    super(`${device}: ${detail}`);
    this.name = 'UfsConfigError';
  }
}

// ---- state ------------------------------------------------------------------------------------

/** 'done': executed, its completion not yet published to the registers (end of its batch). */
type SlotState = 'idle' | 'ready' | 'running' | 'done' | 'aborted';

/**
 * Slots that complete at the same instant, run by one scheduler event (with zero timing: every
 * slot one doorbell write rang). A slot leaves `mask` when it runs or is cancelled.
 */
/** Data a completion batch moves before it lets the machine serve register accesses (bytes). */
const BATCH_YIELD_BYTES = 64 << 10;

interface Batch {
  mask: number;
  cancel: Cancel | undefined;
}

/**
 * One transfer request slot. The 32 slots live as long as the controller and are reused for
 * every request (no allocation per IO): the request is fetched into `cmd`, its data moves
 * through `port`.
 */
class Slot {
  state: SlotState = 'idle';
  lun = 0;
  tag = 0;
  /** The completion batch while running. */
  batch: Batch | undefined = undefined;
  /** While 'done': the completion to publish. */
  ocs = 0;
  busError = false;
  readonly cmd = new FetchedCommand();
  readonly port: PrdtPort;

  constructor(dma: DmaSpace, readonly log: (msg: string) => void) {
    this.port = new PrdtPort(dma, this.cmd);
  }

  reset(state: SlotState): void {
    this.state = state;
    this.lun = 0;
    this.tag = 0;
    this.batch = undefined;
  }
}

export interface UfsStats {
  requests: number;
  /** Completions by OCS value. */
  ocs: Record<number, number>;
  busErrors: number;
  ignoredDoorbells: number;
  taskRequests: number;
  uicCommands: number;
}

// ---- the controller ---------------------------------------------------------------------------

export class UfsHostController extends DeviceModel {
  readonly regs: RegisterFile<UfsRegSpecs>;
  readonly dma: DmaSpace;
  readonly irq: IrqLine;
  readonly timing: UfsTiming;
  readonly strict: boolean;
  readonly nutrs: number;
  readonly nutmrs: number;
  readonly stats: UfsStats = { requests: 0, ocs: {}, busErrors: 0, ignoredDoorbells: 0, taskRequests: 0, uicCommands: 0 };
  private device: UfsDevice | undefined;
  private readonly sched: Scheduler;
  private readonly out: (msg: string) => void;
  private readonly uic: UicLink;
  private readonly media: MediaTimeline;
  private readonly timers: OwnedTimers;
  private readonly slots: Slot[];
  /** Register indices for the per-IO path (valueAt / setValueAt: no lookup by name). */
  private readonly reg: { readonly IS: number; readonly IE: number; readonly UTRLDBR: number; readonly UTRLCNR: number; readonly UTRLBA: number; readonly UTRLBAU: number };
  private hce: 'off' | 'enabling' | 'on' = 'off';
  private uicBusy = false;
  private transferKick = false;
  private tmKick = false;
  private aggCount = 0;
  private aggTimer: Cancel | undefined;
  /** dispatchTransfers' batches of the current pass and their due times (reused, empty between passes). */
  private readonly passBatches: Batch[] = [];
  private readonly passDues: bigint[] = [];

  constructor(private readonly opts: UfsHostControllerOptions) {
    super(opts.name ?? 'ufs0');
    const p = opts.params;
    this.out = opts.log ?? (() => {});
    this.sched = opts.scheduler;
    this.irq = opts.irq;
    this.strict = p.strict ?? true;
    this.nutrs = p.nutrs ?? 32;
    this.nutmrs = p.nutmrs ?? 8;
    this.timing = resolveTiming(p.timing);
    this.media = new MediaTimeline(this.timing);
    this.timers = new OwnedTimers(this.sched);
    this.uic = new UicLink(this.strict, (m) => this.log(m));
    const m = opts.memory;
    this.dma = m instanceof PhysicalMemory ? new DmaSpace(m, this.name, { permissive: true }) : m instanceof DmaSpace ? m : m(this.name);
    this.slots = Array.from({ length: 32 }, (_, i) => new Slot(this.dma, (msg) => this.log(`slot ${i}: ${msg}`)));
    this.regs = new RegisterFile(UFS_REGS, {
      name: this.name,
      log: this.out,
      onWrite: {
        HCE: (v) => this.onHce(v),
        IS: () => this.updateIrq(),
        IE: () => this.updateIrq(),
        UICCMD: (v) => this.onUicCommand(v & 0xff),
        UTRIACR: (v, old, w) => this.onAggregationControl(v, old, w),
        UTRLDBR: (v, old) => this.onTransferDoorbell(v, old),
        UTRLCLR: (_v, _old, w) => this.onTransferClear(w),
        UTMRLDBR: (v, old) => this.onTaskDoorbell(v, old),
        UTMRLCLR: (_v, _old, w) => this.onTaskClear(w),
        CONFIG: (v) => this.onConfig(v),
      },
    });
    const index = (name: 'IS' | 'IE' | 'UTRLDBR' | 'UTRLCNR' | 'UTRLBA' | 'UTRLBAU'): number => this.regs.map.reg(name).index;
    this.reg = { IS: index('IS'), IE: index('IE'), UTRLDBR: index('UTRLDBR'), UTRLCNR: index('UTRLCNR'), UTRLBA: index('UTRLBA'), UTRLBAU: index('UTRLBAU') };
    this.regions.push(this.regs);
    this.irqs.push(this.irq);
  }

  protected override onRealize(): void {
    const p = this.opts.params;
    const bad = (d: string): never => { throw new UfsConfigError(this.name, d); };
    if (!Number.isInteger(this.nutrs) || this.nutrs < 1 || this.nutrs > 32) bad(`nutrs must be 1..32 (got ${this.nutrs})`);
    if (!Number.isInteger(this.nutmrs) || this.nutmrs < 1 || this.nutmrs > 8) bad(`nutmrs must be 1..8 (got ${this.nutmrs})`);
    if (p.luns.length < 1 || p.luns.length > 32) bad(`luns must list 1..32 logical units (got ${p.luns.length})`);
    p.luns.forEach((lu, i) => {
      const bs = lu.blockSize ?? 4096;
      if (!Number.isInteger(bs) || bs < 512 || bs > 65536 || (bs & (bs - 1)) !== 0) bad(`LU ${i}: blockSize ${bs} must be a power of two in 512..65536`);
      if (!Number.isSafeInteger(lu.sizeBytes) || lu.sizeBytes < bs || lu.sizeBytes % bs !== 0) bad(`LU ${i}: sizeBytes ${lu.sizeBytes} must be a positive multiple of ${bs}`);
    });
    const identity = { ...DEFAULT_IDENTITY, ...p.identity };
    try {
      this.device = new UfsDevice(p.luns, this.nutrs, () => this.sched.now(), ns(this.timing.deviceInitNs), identity);
    } catch (err) {
      bad(`cannot open LU storage: ${(err as Error).message}`);
    }
  }

  /** Power-on state: every register at reset, link down, no request in flight. */
  reset(): void {
    this.cancelTimers();
    this.regs.reset();
    this.regs.setField('CAP', 'NUTRS', this.nutrs - 1);
    this.regs.setField('CAP', 'NUTMRS', this.nutmrs - 1);
    this.resetRuntime();
    this.device?.reset();
    this.updateIrq();
  }

  /** The only place the IRQ line is driven. */
  updateIrq(): void {
    const r = this.regs, x = this.reg;
    this.irq.set((r.valueAt(x.IS) & r.valueAt(x.IE) & UFS_INTR_MASK) !== 0);
  }

  // ---- MMIO hooks: record state and schedule, never complete work here ------------------------

  private onHce(v: number): void {
    if (!this.realized) {
      this.regs.setField('HCE', 'HCE', 0);
      return this.guestError('HCE written while not realized: ignored');
    }
    const want = (v & UFS_REGS.bits.HCE.HCE) !== 0;
    if (want && this.hce === 'off') {
      this.hce = 'enabling';
      this.timers.after(this.timing.hceEnableNs, () => this.enableDone());
    } else if (!want && this.hce !== 'off') {
      this.controllerReset();
    }
    if (want && this.hce !== 'on') this.regs.setField('HCE', 'HCE', 0); // reads 0 until enabled
  }

  private onUicCommand(op: number): void {
    if (this.hce !== 'on') return this.guestError(`UIC command 0x${op.toString(16)} while the controller is disabled: ignored`);
    if (this.uicBusy) return this.guestError(`UIC command 0x${op.toString(16)} while HCS.UCRDY = 0: ignored`);
    this.uicBusy = true;
    this.regs.setField('HCS', 'UCRDY', 0);
    const args = [this.regs.value('UCMDARG1'), this.regs.value('UCMDARG2'), this.regs.value('UCMDARG3')] as const;
    const delay = op === UIC.DME_LINK_STARTUP ? this.timing.linkStartupNs : this.timing.dmeNs;
    this.timers.after(delay, () => this.uicDone(op, ...args));
  }

  private onAggregationControl(v: number, old: number, written: number): void {
    const b = UFS_REGS.bits.UTRIACR;
    let next = v & ~(b.CTR | b.IAPWEN);
    if ((written & b.IAPWEN) === 0) next = (next & ~(b.IACTH | b.IATOVAL)) | (old & (b.IACTH | b.IATOVAL));
    this.regs.setValue('UTRIACR', next);
    if ((written & b.CTR) !== 0 || (next & b.IAEN) === 0) this.resetAggregation();
  }

  private onTransferDoorbell(v: number, old: number): void {
    const mask = slotMask(this.nutrs);
    if ((v & ~mask) !== 0) this.guestError(`UTRLDBR bits 0x${((v & ~mask) >>> 0).toString(16)} beyond NUTRS ignored`);
    const rung = (v & ~old & mask) >>> 0;
    if (!this.listAccepts('UTRLRSR', 'UTRLRDY', 'transfer')) {
      this.regs.setValue('UTRLDBR', old);
      if (rung !== 0) this.stats.ignoredDoorbells++;
      return;
    }
    this.regs.setValueAt(this.reg.UTRLDBR, (old | rung) >>> 0);
    for (let i = 0; i < 32; i++) if ((rung >>> i) & 1) this.slots[i]!.reset('ready');
    if (rung !== 0) this.kickTransfers();
  }

  private onTransferClear(written: number): void {
    const clear = (~written & this.regs.value('UTRLDBR') & slotMask(this.nutrs)) >>> 0;
    forEachBit(clear, (i) => {
      this.unschedule(i);
      this.slots[i]!.reset('idle');
    });
    this.regs.setValue('UTRLDBR', this.regs.value('UTRLDBR') & ~clear);
  }

  private onTaskDoorbell(v: number, old: number): void {
    const mask = slotMask(this.nutmrs);
    const rung = (v & ~old & mask) >>> 0;
    if (!this.listAccepts('UTMRLRSR', 'UTMRLRDY', 'task management')) {
      this.regs.setValue('UTMRLDBR', old);
      if (rung !== 0) this.stats.ignoredDoorbells++;
      return;
    }
    this.regs.setValue('UTMRLDBR', (old | rung) & mask);
    if (rung !== 0) this.kickTasks();
  }

  private onTaskClear(written: number): void {
    const clear = (~written & this.regs.value('UTMRLDBR') & slotMask(this.nutmrs)) >>> 0;
    this.regs.setValue('UTMRLDBR', this.regs.value('UTMRLDBR') & ~clear);
  }

  private onConfig(v: number): void {
    if ((v & UFS_REGS.bits.CONFIG.QT) === 0) return;
    this.out(`${this.name}: unimplemented: MCQ (CONFIG.QT = 1); staying in legacy doorbell mode`);
    this.regs.setField('CONFIG', 'QT', 0);
  }

  /** May a doorbell of this list be accepted? Logs why not. */
  private listAccepts(runStop: 'UTRLRSR' | 'UTMRLRSR', ready: 'UTRLRDY' | 'UTMRLRDY', what: string): boolean {
    if (this.hce !== 'on') {
      this.guestError(`${what} doorbell while the controller is disabled: ignored`);
      return false;
    }
    const running = this.regs.value(runStop) & 1;
    if (running && this.regs.getField('HCS', ready) === 1) return true;
    const why = running ? `HCS.${ready} = 0 (no link)` : `${runStop} = 0 (list stopped)`;
    if (this.strict) {
      this.guestError(`${what} doorbell while ${why}: ignored`);
      return false;
    }
    this.guestError(`${what} doorbell while ${why}: processed (not strict)`);
    return true;
  }

  // ---- bottom halves ----------------------------------------------------------------------------

  private enableDone(): void {
    this.hce = 'on';
    this.regs.setField('HCE', 'HCE', 1);
    this.regs.setField('HCS', 'UCRDY', 1);
    this.updateIrq();
  }

  private uicDone(op: number, arg1: number, arg2: number, arg3: number): void {
    this.stats.uicCommands++;
    const r = this.uic.execute(op, arg1, arg2, arg3);
    this.regs.setValue('UCMDARG2', (arg2 & ~0xff) | r.result);
    if (r.value !== undefined) this.regs.setValue('UCMDARG3', r.value);
    if (r.linkUp || r.linkDown) {
      const up = r.linkUp ? 1 : 0;
      for (const f of ['DP', 'UTRLRDY', 'UTMRLRDY'] as const) this.regs.setField('HCS', f, up);
      if (r.linkUp) this.raise(UFS_INTR.ULSS);
    }
    if (r.endpointReset) this.device?.reset();
    if (r.powerChange !== undefined) {
      const status = r.powerChange;
      this.regs.setField('HCS', 'UPMCRS', UPMCRS.PWR_OK);
      this.timers.after(this.timing.powerModeChangeNs, () => this.powerEvent(status, UFS_INTR.UPMS));
    }
    if (r.hibernate !== undefined) {
      const enter = r.hibernate === 'enter';
      this.timers.after(this.timing.hibernateNs, () => this.powerEvent(UPMCRS.PWR_LOCAL, enter ? UFS_INTR.UHES : UFS_INTR.UHXS));
    }
    this.uicBusy = false;
    this.regs.setField('HCS', 'UCRDY', 1);
    this.raise(UFS_INTR.UCCS);
    this.updateIrq();
  }

  private powerEvent(upmcrs: number, bit: number): void {
    this.regs.setField('HCS', 'UPMCRS', upmcrs);
    this.raise(bit);
    if (bit === UFS_INTR.UHXS) this.kickTransfers();
    this.updateIrq();
  }

  private kickTransfers(): void {
    if (this.transferKick) return;
    this.transferKick = true;
    this.timers.defer(this.transferBh);
  }

  private readonly transferBh = (): void => {
    this.transferKick = false;
    this.dispatchTransfers();
  };

  /**
   * Fetches every READY slot's descriptors and schedules its execution at its modelled time.
   * Slots due at the same instant share one event (a Batch); they run in slot order, as their
   * separate events did. The pass reads the clock once: the requests arrive together.
   */
  private dispatchTransfers(): void {
    if (this.uic.hibernated) return this.log('transfer requests wait: the link is in hibernate');
    const base = addr64(this.regs.valueAt(this.reg.UTRLBA), this.regs.valueAt(this.reg.UTRLBAU));
    const now = this.sched.now();
    const batches = this.passBatches;
    const dues = this.passDues;
    batches.length = dues.length = 0;
    let fetched = 0;
    for (let i = 0; i < 32; i++) {
      const slot = this.slots[i]!;
      if (slot.state !== 'ready') continue;
      // Between fetches, too, the machine may answer waiting accesses (a slot cleared there is
      // no longer 'ready'; a reset leaves none).
      if (fetched++ > 0) {
        this.sched.preemptionPoint();
        if (slot.state !== 'ready') continue;
      }
      this.stats.requests++;
      const cmd = slot.cmd;
      if (!readUtrdInto(this.dma, base + i * UTRD.SIZE, cmd.utrd)) {
        this.completeTransfer(i, undefined, true, `slot ${i}: UTRD unreachable`);
        continue;
      }
      if (!this.uic.up) {
        this.completeTransfer(i, OCS.PEER_COMM_FAILURE, false, `slot ${i}: link is down`);
        continue;
      }
      const failure = fetchCommandInto(this.dma, cmd, this.strict, slot.log);
      if (failure !== undefined) {
        this.completeTransfer(i, failure.ocs, failure.busError, `slot ${i}: ${failure.why}`, cmd.utrd.addr);
        continue;
      }
      const req = cmd.request;
      slot.state = 'running';
      slot.lun = req[UPIU.LUN]!;
      slot.tag = req[UPIU.TAG]!;
      const due = this.media.reserve(now, this.device!.cost(req));
      let k = dues.length - 1;
      while (k >= 0 && dues[k] !== due) k--;
      let batch: Batch;
      if (k >= 0) {
        batch = batches[k]!;
      } else {
        const b: Batch = { mask: 0, cancel: undefined };
        b.cancel = this.timers.at(due, () => this.runBatch(b));
        batches.push(b);
        dues.push(due);
        batch = b;
      }
      batch.mask = (batch.mask | (1 << i)) >>> 0;
      slot.batch = batch;
    }
    batches.length = dues.length = 0;
  }

  /**
   * Runs the slots still in `b`, lowest first, and publishes their completions at the end. Between
   * two slots is a preemption point, where the machine answers waiting register accesses
   * (silicon answers a read of IS while its DMA engine is busy) and a slot may leave the batch.
   * After about BATCH_YIELD_BYTES of data the batch publishes what ran and the rest continues in
   * a bottom half, so other model work and timers run too.
   */
  private runBatch(b: Batch): void {
    b.cancel = undefined;
    let bytes = 0;
    let done = 0;
    for (let i = 0; i < 32 && b.mask !== 0; i++) {
      const bit = (1 << i) >>> 0;
      if ((b.mask & bit) === 0) continue;
      if (bytes >= BATCH_YIELD_BYTES) {
        this.publish(done);
        b.cancel = this.timers.defer(() => this.runBatch(b));
        return;
      }
      if (bytes > 0) {
        // Between requests the machine may answer register accesses waiting meanwhile (the
        // handler's read of IS); they see the batch's completions only when it ends (publish),
        // so one interrupt still reports the whole batch. They may clear or abort slots of this
        // batch (b.mask, slot states change) or reset the controller (resetRuntime empties
        // every batch).
        this.sched.preemptionPoint();
        if ((b.mask & bit) === 0) continue;
      }
      b.mask = (b.mask & ~bit) >>> 0;
      const req = this.slots[i]!.cmd.request;
      bytes += ((req[UPIU.EDTL]! << 24) | (req[UPIU.EDTL + 1]! << 16) | (req[UPIU.EDTL + 2]! << 8) | req[UPIU.EDTL + 3]!) >>> 0;
      this.slots[i]!.batch = undefined;
      this.executeTransfer(i);
      done = (done | bit) >>> 0;
    }
    this.publish(done);
  }

  /** Completes the slots of `mask` still 'done' (a clear or reset at a preemption point drops one). */
  private publish(mask: number): void {
    for (let i = 0; i < 32 && mask !== 0; i++) {
      const bit = (1 << i) >>> 0;
      if ((mask & bit) === 0) continue;
      mask = (mask & ~bit) >>> 0;
      const slot = this.slots[i]!;
      if (slot.state !== 'done') continue;
      const { ocs, busError } = slot;
      const why = ocs === OCS.SUCCESS ? undefined : `slot ${i}: OCS 0x${ocs.toString(16)}${busError ? ' (DMA fault)' : ''}`;
      this.completeTransfer(i, ocs, busError, why, slot.cmd.utrd.addr, slot.cmd.utrd.intr);
    }
  }

  /** Takes slot `i` out of its completion batch (UTRLCLR, TM abort): it will not complete. */
  private unschedule(i: number): void {
    const slot = this.slots[i]!;
    const b = slot.batch;
    if (b === undefined) return;
    slot.batch = undefined;
    b.mask = (b.mask & ~(1 << i)) >>> 0;
    if (b.mask === 0) {
      b.cancel?.();
      b.cancel = undefined;
    }
  }

  /**
   * The device runs the request: data moves through the PRDT, the response UPIU is written; the
   * slot is 'done' and completes (OCS, doorbell, IS) when its batch publishes.
   */
  private executeTransfer(i: number): void {
    const slot = this.slots[i]!;
    const utrd = slot.cmd.utrd;
    slot.port.faulted = false;
    const reply = this.device!.execute(slot.cmd.request, slot.port);
    let ocs: number = OCS.SUCCESS;
    let bus = false;
    if (reply.rejected) ocs = OCS.INVALID_CMD_TABLE_ATTR;
    else if (reply.hostError === 'mismatch') ocs = OCS.MISMATCH_DATA_BUF_SIZE;
    else if (reply.hostError === 'fault') {
      ocs = OCS.INVALID_PRDT_ATTR;
      bus = true;
    }
    const w = writeResponse(this.dma, utrd, reply.response);
    if (w === RESPONSE_BUS_ERROR) {
      ocs = OCS.INVALID_CMD_TABLE_ATTR;
      bus = true;
    } else if (ocs === OCS.SUCCESS) {
      ocs = w;
    }
    slot.state = 'done';
    slot.ocs = ocs;
    slot.busError = bus;
  }

  /** OCS → doorbell bit cleared → UTRLCNR bit set → IS.UTRCS (I bit, error or aggregation) → IRQ. */
  private completeTransfer(i: number, ocs: number | undefined, busError: boolean, why?: string, utrdAddr?: number, intr = true): void {
    if (why !== undefined) this.log(why);
    let bus = busError;
    if (ocs !== undefined && utrdAddr !== undefined && !writeOcs(this.dma, utrdAddr, ocs)) bus = true;
    const key = ocs ?? -1;
    this.stats.ocs[key] = (this.stats.ocs[key] ?? 0) + 1;
    this.slots[i]!.reset('idle');
    const bit = (1 << i) >>> 0;
    const r = this.regs, x = this.reg;
    r.setValueAt(x.UTRLDBR, r.valueAt(x.UTRLDBR) & ~bit);
    r.setValueAt(x.UTRLCNR, r.valueAt(x.UTRLCNR) | bit);
    if (bus) {
      this.stats.busErrors++;
      this.raise(UFS_INTR.SBFES);
    }
    if (intr || ocs !== OCS.SUCCESS) this.raise(UFS_INTR.UTRCS);
    else this.aggregate();
    this.updateIrq();
  }

  /** UTRIACR: hold completions without the I bit until IACTH of them or IATOVAL × 40 µs. */
  private aggregate(): void {
    const r = this.regs;
    if (r.getField('UTRIACR', 'IAEN') === 0) return; // no aggregation and no I bit: no interrupt (as QEMU)
    this.aggCount++;
    r.setField('UTRIACR', 'IASB', 1);
    const threshold = r.getField('UTRIACR', 'IACTH'), timeout = r.getField('UTRIACR', 'IATOVAL');
    if (this.aggCount >= Math.max(threshold, 1) && (threshold > 0 || timeout === 0)) return this.aggregationFires();
    if (timeout > 0 && this.aggTimer === undefined) this.aggTimer = this.timers.after(timeout * 40_000, () => this.aggregationFires());
  }

  private aggregationFires(): void {
    this.resetAggregation();
    this.raise(UFS_INTR.UTRCS);
    this.updateIrq();
  }

  private kickTasks(): void {
    if (this.tmKick) return;
    this.tmKick = true;
    this.timers.after(this.timing.ctrlLatencyNs, () => {
      this.tmKick = false;
      this.runTasks();
    });
  }

  private runTasks(): void {
    const base = addr64(this.regs.value('UTMRLBA'), this.regs.value('UTMRLBAU'));
    forEachBit(this.regs.value('UTMRLDBR') & slotMask(this.nutmrs), (i) => {
      this.stats.taskRequests++;
      const r = runTaskRequest(this.dma, base + i * UTMRD.SIZE, this.taskManager);
      if (r.busError) {
        this.log(`TM slot ${i}: DMA fault`);
        this.stats.busErrors++;
        this.raise(UFS_INTR.SBFES);
      }
      this.regs.setValue('UTMRLDBR', this.regs.value('UTMRLDBR') & ~(1 << i));
      if (r.intr || r.ocs !== OCS.SUCCESS) this.raise(UFS_INTR.UTMRCS);
    });
    this.updateIrq();
  }

  private readonly taskManager: TaskManager = {
    hasLun: (lun) => this.device?.hasLun(lun) ?? false,
    held: () => this.slots.flatMap((s, slot): HeldTask[] => (s.state === 'running' ? [{ slot, lun: s.lun, tag: s.tag }] : [])),
    abort: (slot) => {
      this.unschedule(slot);
      this.slots[slot]!.state = 'aborted'; // the doorbell bit stays set until the driver clears the slot (UTRLCLR)
    },
  };

  // ---- helpers ----------------------------------------------------------------------------------

  /** HCE 1→0: the operational state resets; configuration (IE, list bases, UTRIACR, AHIT) stays. */
  private controllerReset(): void {
    this.cancelTimers();
    this.resetRuntime();
    for (const r of ['HCS', 'IS', 'UTRLDBR', 'UTRLCLR', 'UTRLRSR', 'UTRLCNR', 'UTMRLDBR', 'UTMRLCLR', 'UTMRLRSR', 'UICCMD', 'UCMDARG1', 'UCMDARG2', 'UCMDARG3'] as const) {
      this.regs.setValue(r, 0);
    }
    this.regs.setField('HCE', 'HCE', 0);
    this.updateIrq();
  }

  private resetRuntime(): void {
    this.hce = 'off';
    this.uicBusy = false;
    this.transferKick = this.tmKick = false;
    for (let i = 0; i < this.slots.length; i++) {
      this.unschedule(i); // a batch running now (a reset from a preemption point) stops
      this.slots[i]!.reset('idle');
    }
    this.uic.reset();
    this.media.reset();
    this.resetAggregation();
  }

  private resetAggregation(): void {
    this.aggCount = 0;
    this.aggTimer?.();
    this.aggTimer = undefined;
    this.regs.setField('UTRIACR', 'IASB', 0);
  }

  private raise(bit: number): void {
    this.regs.setValueAt(this.reg.IS, this.regs.valueAt(this.reg.IS) | bit);
  }

  private log(msg: string): void {
    this.out(`${this.name}: ${msg}`);
  }

  private guestError(msg: string): void {
    this.regs.stats.guestErrors++;
    this.log(`guest error: ${msg}`);
  }

  protected override onUnrealize(): void {
    this.cancelTimers();
    this.resetRuntime();
    this.device?.close();
    this.device = undefined;
  }

  private cancelTimers(): void {
    this.timers.cancelAll();
    this.aggTimer = undefined;
  }
}

const slotMask = (n: number): number => (n >= 32 ? 0xffffffff : (1 << n) - 1) >>> 0;

function forEachBit(mask: number, fn: (i: number) => void): void {
  for (let i = 0; i < 32; i++) if ((mask >>> i) & 1) fn(i);
}
