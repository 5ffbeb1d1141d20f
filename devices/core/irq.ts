/**
 * @module irq
 * An interrupt output of a device model (QEMU `qemu_irq`, Renode `GPIO`). Lines are
 * level-triggered: the model recomputes the level from `status & enable` in its one
 * `updateIrq()` and calls `set(level)`; listeners (the machine's interrupt controller) hear
 * only real changes, so calling `set` with an unchanged level is free.
 *
 * @example
 * const irq = new IrqLine('ufs0');
 * irq.onChange((high) => controller.setLevel(32, high));
 * irq.set((is & ie) !== 0);
 */

export type IrqListener = (level: boolean) => void;

export class IrqLine {
  private high = false;
  private readonly listeners: IrqListener[] = [];
  /** Rising edges so far (a line raised and lowered N times counts N). */
  raises = 0;

  constructor(readonly name = 'irq') {}

  get level(): boolean {
    return this.high;
  }

  /** Drives the line; listeners run, in subscription order, only when the level changes. */
  set(level: boolean): void {
    if (level === this.high) return;
    this.high = level;
    if (level) this.raises++;
    for (const l of [...this.listeners]) l(level);
  }

  raise(): void {
    this.set(true);
  }

  lower(): void {
    this.set(false);
  }

  /** Raises then lowers (an edge-triggered event, QEMU `qemu_irq_pulse`); the line ends low. */
  pulse(): void {
    this.set(true);
    this.set(false);
  }

  /** Subscribes to level changes; returns the unsubscribe function. */
  onChange(cb: IrqListener): () => void {
    this.listeners.push(cb);
    return () => {
      const i = this.listeners.indexOf(cb);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }
}
