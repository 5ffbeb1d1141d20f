/**
 * @module device-model
 * The lifecycle vocabulary every device model shares (QEMU `instance_init` / `realize` /
 * `reset` / `unrealize`): the constructor allocates regions and IRQ lines and cannot fail;
 * `realize()` validates the config and may throw; `reset()` puts every register back to its
 * reset value; `updateIrq()` is the one place the IRQ levels are computed from state;
 * `unrealize()` releases what realize acquired (timers, grants) and drops the lines.
 *
 * @example
 * class Uart extends DeviceModel {
 *   readonly regs = new RegisterFile(UART_REGS, { onWrite: { IER: () => this.updateIrq() } });
 *   readonly irq = new IrqLine('uart0');
 *   constructor() { super('uart0'); this.regions.push(this.regs); this.irqs.push(this.irq); }
 *   reset() { this.regs.reset(); this.updateIrq(); }
 *   updateIrq() { this.irq.set((this.regs.value('ISR') & this.regs.value('IER')) !== 0); }
 * }
 */
import type { IrqLine } from './irq.js';

/** An MMIO window as the bus sees it (QEMU `MemoryRegionOps`). Accesses never throw. */
export interface MmioRegionSpec {
  readonly name: string;
  /** Bytes. */
  readonly size: number;
  /** `size` is the access width in bytes; returns the value (0 for bad accesses). */
  read(offset: number, size: number): number;
  /**
   * True when the last read hit a register with write-1-to-clear bits (an interrupt status):
   * its clear and the handler's next reads usually follow at once, and the machine serves
   * them before model work (machine-worker.ts, REGISTER_BURST_MS).
   */
  readonly lastReadW1c?: boolean;
  write(offset: number, size: number, value: number): void;
}

export abstract class DeviceModel {
  /** MMIO windows, in the order the platform file numbers them. */
  readonly regions: MmioRegionSpec[] = [];
  /** IRQ outputs, in the order the platform file numbers them. */
  readonly irqs: IrqLine[] = [];
  private state: 'created' | 'realized' | 'unrealized' = 'created';

  constructor(readonly name: string) {}

  get realized(): boolean {
    return this.state === 'realized';
  }

  /**
   * Validates the config and connects backends (override `onRealize`, which may throw), then
   * resets the device. Realizing twice is a programming error.
   */
  realize(): void {
    if (this.state === 'realized') throw new Error(`${this.name}: already realized`);
    this.onRealize();
    this.state = 'realized';
    this.reset();
  }

  /** Puts the device in its power-on state; ends with `updateIrq()`. */
  abstract reset(): void;

  /** Recomputes every IRQ line's level from state. The only place lines are driven. */
  abstract updateIrq(): void;

  /** Releases what realize acquired (override `onUnrealize`) and lowers every line. Idempotent. */
  unrealize(): void {
    if (this.state !== 'realized') return;
    this.state = 'unrealized';
    this.onUnrealize();
    for (const irq of this.irqs) irq.lower();
  }

  /** Config validation and backend connection; may throw. */
  protected onRealize(): void {}

  /** Cancels timers, revokes grants, closes backends. */
  protected onUnrealize(): void {}
}
