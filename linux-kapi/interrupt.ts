/**
 * @module linux/interrupt.h
 * request_irq and friends. Lines are level-triggered: when a handler returns, the kernel
 * re-checks the line (EOI) and calls it again if the device still asserts it, so a handler must
 * clear the cause in the device (typically a W1C status write) before returning IRQ_HANDLED.
 * `devm_request_irq`, `devm_request_threaded_irq`, `request_irq`, `request_threaded_irq`,
 * `free_irq`, `devm_free_irq`, `disable_irq`, `disable_irq_nosync`, `enable_irq`,
 * `synchronize_irq`, `irq_set_irq_wake`/`enable_irq_wake`/`disable_irq_wake`.
 *
 * Differs from Linux: handlers run on the container's event loop between other work (there is
 * no preemption), and a threaded handler (IRQ_WAKE_THREAD) runs as an async task right after.
 * `request_irq(irq, ...)` finds the device by the line: the bound device of the driver whose
 * `interrupts` lists it. `disable_irq` masks the line at the interrupt controller (the mask is
 * posted, so one delivery already on its way is dropped by the kapi and re-offered after
 * `enable_irq` if the level is still high). `disable_irq` does not wait (no handler can be
 * running on another CPU); called from the line's own handler it is reported (it deadlocks on
 * Linux: use `disable_irq_nosync`). `synchronize_irq` waits for a running threaded handler.
 * See docs/kapi.md.
 */
import { Device, dev_err, __bound_devices } from './device.js';
import { EINVAL, ENXIO } from './errno.js';
import { currentDriverEnv, setDriverEnv } from './kernel.js';
import { enter_irq, exit_irq, kapiIrqGate, might_sleep } from './preempt.js';
import { debug_site } from './debug.js';
import { kapi_fault, kapi_report } from './bug.js';
import { lockdep_task } from './lockdep.js';

export const IRQ_NONE = 0, IRQ_HANDLED = 1, IRQ_WAKE_THREAD = 2;
export const IRQF_SHARED = 0x80, IRQF_ONESHOT = 0x2000, IRQF_TRIGGER_HIGH = 0x4, IRQF_TRIGGER_NONE = 0,
  IRQF_TRIGGER_RISING = 0x1, IRQF_TRIGGER_FALLING = 0x2, IRQF_TRIGGER_LOW = 0x8, IRQF_NO_SUSPEND = 0x4000,
  IRQF_NO_AUTOEN = 0x80000, IRQF_NO_THREAD = 0x10000;

export type IrqHandler = (irq: number, devId: unknown) => number;
export type IrqThreadFn = (irq: number, devId: unknown) => number | Promise<number>;

/** Per-line counters: handled, unhandled (IRQ_NONE) — a storm of unhandled calls is logged. */
export const irqStats = new Map<number, { handled: number; none: number }>();

interface IrqLine {
  readonly dev: Device;
  readonly name: string;
  /** Requested with devm_* (freed by devres). */
  readonly devm: boolean;
  /** Where it was requested (debug mode). */
  readonly site: string;
  /** disable_irq depth. */
  depth: number;
  /** In the top half now. */
  inHandler: boolean;
  /** Threaded handlers running. */
  readonly threads: Set<Promise<unknown>>;
}

/** Lines requested through the kapi (line numbers are platform-wide). */
const lines = new Map<number, IrqLine>();

/** Lines `dev` still has (the debug mode's unbind check). */
export function requested_irqs(dev: Device): { irq: number; name: string; devm: boolean; site: string }[] {
  return [...lines].filter(([, l]) => l.dev === dev).map(([irq, l]) => ({ irq, name: l.name, devm: l.devm, site: l.site }));
}

async function requestLine(dev: Device, irq: number, handler: IrqHandler | null, threadFn: IrqThreadFn | null,
  flags: number, name: string, devId: unknown, devm: boolean): Promise<number> {
  might_sleep('request_irq()');
  if (irq < 0 || (!handler && !threadFn)) return -EINVAL;
  const stats = { handled: 0, none: 0 };
  const line: IrqLine = { dev, name, devm, site: debug_site(dev.env), depth: flags & IRQF_NO_AUTOEN ? 1 : 0, inHandler: false, threads: new Set() };
  const top: IrqHandler = handler ?? (() => IRQ_WAKE_THREAD);
  const runThread = (n: number): void => {
    if (!threadFn) return;
    setDriverEnv(dev.env);
    let p: Promise<unknown>;
    try {
      p = Promise.resolve(lockdep_task(dev.env, `irq/${n}-${name}`, () => threadFn(n, devId))).catch((e: unknown) => kapi_fault(e, `threaded irq handler ${name}`, dev.env));
    } catch (e) {
      kapi_fault(e, `threaded irq handler ${name}`, dev.env);
      return;
    }
    line.threads.add(p);
    void p.finally(() => line.threads.delete(p));
  };
  // The top half runs in hardirq context (sleeping there is reported as a bug); while the
  // driver has IRQs disabled (spin_lock_irqsave, local_irq_save) its delivery waits in the gate.
  const run = (n: number): void => {
    if (line.depth > 0 || lines.get(n) !== line) return;   // disabled (or freed): the level is offered again later
    setDriverEnv(dev.env);
    enter_irq();
    line.inHandler = true;
    let r: number;
    try { r = top(n, devId); } finally { line.inHandler = false; exit_irq(); }
    if (r === IRQ_NONE) {
      if (++stats.none % 100_000 === 0) dev_err(dev, `irq ${n} (${name}): ${stats.none} unhandled interrupts`);
      return;
    }
    stats.handled++;
    if (r === IRQ_WAKE_THREAD && threadFn) queueMicrotask(() => runThread(n));
  };
  try {
    await dev.env.requestIrq(dev.binding, irq, (n) => kapiIrqGate.deliver(() => run(n), n));
  } catch (e) {
    return (e as { errno?: number }).errno ?? -EINVAL;
  }
  irqStats.set(irq, stats);
  lines.set(irq, line);
  if (line.depth > 0) maskAtController(line, irq, true); // IRQF_NO_AUTOEN
  if (devm) {
    dev.devres.push(async () => {
      if (lines.get(irq) === line) { lines.delete(irq); await dev.env.freeIrq(irq); }
    });
  }
  return 0;
}

export function devm_request_threaded_irq(dev: Device, irq: number, handler: IrqHandler | null,
  threadFn: IrqThreadFn | null, flags: number, name: string, devId: unknown): Promise<number> {
  return requestLine(dev, irq, handler, threadFn, flags, name, devId, true);
}

export function devm_request_irq(dev: Device, irq: number, handler: IrqHandler, flags: number, name: string,
  devId: unknown): Promise<number> {
  return requestLine(dev, irq, handler, null, flags, name, devId, true);
}

/** The bound device (of the current driver) whose `interrupts` lists `irq`. */
function deviceOfLine(irq: number): Device | null {
  const env = currentDriverEnv();
  if (!env) return null;
  return __bound_devices(env).find((d) => d.handle.spec.interrupts.includes(irq)) ?? null;
}

/**
 * request_threaded_irq(irq, handler, thread_fn, flags, name, dev_id): not managed — free it
 * with free_irq in remove (the kernel frees it at unbind anyway; the debug mode reports it).
 * -ENXIO when no bound device of the driver has the line.
 */
export async function request_threaded_irq(irq: number, handler: IrqHandler | null, threadFn: IrqThreadFn | null,
  flags: number, name: string, devId: unknown): Promise<number> {
  const dev = deviceOfLine(irq);
  if (!dev) return -ENXIO;
  return requestLine(dev, irq, handler, threadFn, flags, name, devId, false);
}

export function request_irq(irq: number, handler: IrqHandler, flags: number, name: string, devId: unknown): Promise<number> {
  return request_threaded_irq(irq, handler, null, flags, name, devId);
}

/**
 * free_irq(irq, dev_id) as on Linux, or free_irq(dev, irq) (the kapi's older form). Releases the
 * line; a running threaded handler finishes on its own.
 */
export async function free_irq(a: Device | number, b?: unknown): Promise<void> {
  const irq = a instanceof Device ? (b as number) : a;
  const line = lines.get(irq);
  const dev = a instanceof Device ? a : line?.dev;
  if (!dev) {
    kapi_report('free-irq-unknown', 4, `WARNING: Trying to free already-free IRQ ${irq}`);
    return;
  }
  if (line?.inHandler) kapi_report('free-irq-in-handler', 3, `BUG: free_irq(${irq}) called from its own handler (deadlocks on Linux)`, { env: dev.env });
  lines.delete(irq);
  await dev.env.freeIrq(irq);
}

/** devm_free_irq(dev, irq, dev_id): frees a devm-requested line early. */
export function devm_free_irq(dev: Device, irq: number, _devId?: unknown): Promise<void> {
  return free_irq(dev, irq);
}

function lineOf(irq: number, fn: string): IrqLine | null {
  const l = lines.get(irq);
  if (!l) kapi_report('irq-unknown', 4, `WARNING: ${fn}(${irq}) of a line this driver has not requested`);
  return l ?? null;
}

/** disable_irq_nosync(irq): masks the line (nests). */
export function disable_irq_nosync(irq: number): void {
  const l = lineOf(irq, 'disable_irq_nosync');
  if (l) disableLine(irq, l);
}

/** The first disable masks the line at the interrupt controller; the last enable unmasks it. */
function disableLine(irq: number, l: IrqLine): void {
  if (l.depth++ === 0) maskAtController(l, irq, true);
}

function maskAtController(l: IrqLine, irq: number, masked: boolean): void {
  l.dev.env.maskIrq(irq, masked);
}

/** disable_irq(irq): masks the line (nests); from the line's own handler it is reported (Linux deadlocks). */
export function disable_irq(irq: number): void {
  const l = lineOf(irq, 'disable_irq');
  if (!l) return;
  if (l.inHandler) {
    kapi_report('disable-irq-in-handler', 3, `BUG: disable_irq(${irq}) called from its own handler: it waits for the handler to finish `
      + 'and deadlocks on Linux (use disable_irq_nosync)', { env: l.dev.env });
  }
  disableLine(irq, l);
}

/** enable_irq(irq): undoes one disable; unbalanced enables are reported (Linux: "Unbalanced enable for IRQ"). */
export function enable_irq(irq: number): void {
  const l = lineOf(irq, 'enable_irq');
  if (!l) return;
  if (l.depth === 0) {
    kapi_report('irq-unbalanced-enable', 4, `WARNING: Unbalanced enable for IRQ ${irq}`, { env: l.dev.env });
    return;
  }
  if (--l.depth === 0) maskAtController(l, irq, false);
}

/** synchronize_irq(irq): waits until no threaded handler of the line runs. */
export async function synchronize_irq(irq: number): Promise<void> {
  const l = lines.get(irq);
  while (l && l.threads.size > 0) await Promise.allSettled([...l.threads]);
}

/** irq_set_irq_wake(irq, on): wake-up sources do not exist (no suspend); 0. */
export const irq_set_irq_wake = (_irq: number, _on: number): number => 0;
export const enable_irq_wake = (_irq: number): number => 0;
export const disable_irq_wake = (_irq: number): number => 0;
