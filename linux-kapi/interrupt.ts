/**
 * @module linux/interrupt.h
 * request_irq and friends. Lines are level-triggered: when a handler returns, the kernel
 * re-checks the line (EOI) and calls it again if the device still asserts it, so a handler must
 * clear the cause in the device (typically a W1C status write) before returning IRQ_HANDLED.
 *
 * Differs from Linux: handlers run on the container's event loop between other work (there is
 * no preemption), and a threaded handler (IRQ_WAKE_THREAD) runs as an async task right after.
 */
import { Device, dev_err } from './device.js';
import { EINVAL } from './errno.js';
import { setDriverEnv } from './kernel.js';
import { enter_irq, exit_irq, kapiIrqGate } from './preempt.js';

export const IRQ_NONE = 0, IRQ_HANDLED = 1, IRQ_WAKE_THREAD = 2;
export const IRQF_SHARED = 0x80, IRQF_ONESHOT = 0x2000, IRQF_TRIGGER_HIGH = 0x4;

export type IrqHandler = (irq: number, devId: unknown) => number;
export type IrqThreadFn = (irq: number, devId: unknown) => number | Promise<number>;

/** Per-line counters: handled, unhandled (IRQ_NONE) — a storm of unhandled calls is logged. */
export const irqStats = new Map<number, { handled: number; none: number }>();

export async function devm_request_threaded_irq(dev: Device, irq: number, handler: IrqHandler | null,
  threadFn: IrqThreadFn | null, _flags: number, name: string, devId: unknown): Promise<number> {
  if (irq < 0 || (!handler && !threadFn)) return -EINVAL;
  const stats = { handled: 0, none: 0 };
  irqStats.set(irq, stats);
  const top: IrqHandler = handler ?? (() => IRQ_WAKE_THREAD);
  try {
    // The top half runs in hardirq context (sleeping there is reported as a bug); while the
    // driver has IRQs disabled (spin_lock_irqsave, local_irq_save) its delivery waits in the gate.
    const run = (line: number): void => {
      setDriverEnv(dev.env);
      enter_irq();
      let r: number;
      try { r = top(line, devId); } finally { exit_irq(); }
      if (r === IRQ_NONE) {
        if (++stats.none % 100_000 === 0) dev_err(dev, `irq ${line} (${name}): ${stats.none} unhandled interrupts`);
        return;
      }
      stats.handled++;
      if (r === IRQ_WAKE_THREAD && threadFn) queueMicrotask(() => void threadFn(line, devId));
    };
    await dev.env.requestIrq(dev.binding, irq, (line) => kapiIrqGate.deliver(() => run(line), line));
  } catch (e) {
    return (e as { errno?: number }).errno ?? -EINVAL;
  }
  dev.devres.push(() => dev.env.freeIrq(irq));
  return 0;
}

export function devm_request_irq(dev: Device, irq: number, handler: IrqHandler, flags: number, name: string,
  devId: unknown): Promise<number> {
  return devm_request_threaded_irq(dev, irq, handler, null, flags, name, devId);
}

export async function free_irq(dev: Device, irq: number): Promise<void> {
  await dev.env.freeIrq(irq);
}
