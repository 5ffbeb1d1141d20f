/**
 * @module demo/tick.model
 * "tick": a periodic timer device for exercising MMIO, IRQ routing and DMA end to end.
 *
 * hmdrv interface: MMIO window 0 = registers (tick.regs.ts, 0x100 bytes); IRQ 0 = level,
 * (IS & IE) != 0. CTRL.EN starts a timer of PERIOD_US µs that bumps COUNT and sets IS.TICK.
 * DMA_GO writes COUNT (u32, little endian) to DMA_ADDR through the device's DMA space: a fault
 * sets IS.DMA_ERR instead. Not modelled on real hardware.
 */
import { DeviceModel } from '../core/device-model.js';
import { RegisterFile } from '../core/register-file.js';
import type { DmaSpace } from '../core/dma.js';
import type { IrqLine } from '../core/irq.js';
import type { Scheduler } from '../core/scheduler.js';
import type { SpecsOf } from '../core/regmap.js';
import { TICK_REGS } from './tick.regs.js';

export interface TickParams { dma: DmaSpace; scheduler: Scheduler; irq: IrqLine; log?: (m: string) => void }

export class TickDevice extends DeviceModel {
  readonly regs: RegisterFile<SpecsOf<typeof TICK_REGS>>;
  private cancelTimer: (() => void) | null = null;
  private dmaPending = false;

  constructor(private readonly p: TickParams) {
    super('tick');
    const bits = TICK_REGS.bits;
    this.regs = new RegisterFile(TICK_REGS, {
      name: 'tick',
      log: p.log,
      onWrite: {
        CTRL: (v: number) => {
          if (v & bits.CTRL.RESET_COUNT) { this.regs.setValue('COUNT', 0); this.regs.setValue('CTRL', v & ~bits.CTRL.RESET_COUNT); }
          this.armTimer();
        },
        PERIOD_US: () => this.armTimer(),
        IS: () => this.updateIrq(),
        IE: () => this.updateIrq(),
        DMA_GO: (v: number) => {
          if (!(v & bits.DMA_GO.GO)) return;
          this.regs.setValue('DMA_GO', 0);
          if (this.dmaPending) return;
          this.dmaPending = true;
          p.scheduler.defer(() => this.runDma()); // record and schedule: no DMA inside the write
        },
      },
    });
    this.regions.push(this.regs);
    this.irqs.push(p.irq);
  }

  reset(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.dmaPending = false;
    this.regs.reset();
    this.updateIrq();
  }

  updateIrq(): void {
    this.p.irq.set((this.regs.value('IS') & this.regs.value('IE')) !== 0);
  }

  private armTimer(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    if (!(this.regs.value('CTRL') & TICK_REGS.bits.CTRL.EN)) return;
    const period = Math.max(10, this.regs.value('PERIOD_US')) * 1000;
    this.cancelTimer = this.p.scheduler.every(period, () => {
      this.regs.setValue('COUNT', (this.regs.value('COUNT') + 1) >>> 0);
      this.regs.setValue('IS', this.regs.value('IS') | TICK_REGS.bits.IS.TICK);
      this.updateIrq();
    });
  }

  private runDma(): void {
    this.dmaPending = false;
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, this.regs.value('COUNT'), true);
    const r = this.p.dma.write(this.regs.value('DMA_ADDR'), b);
    const bit = r === 'ok' ? TICK_REGS.bits.IS.DMA_DONE : TICK_REGS.bits.IS.DMA_ERR;
    this.regs.setValue('IS', this.regs.value('IS') | bit);
    this.updateIrq();
  }

  protected override onUnrealize(): void {
    this.cancelTimer?.();
  }
}
