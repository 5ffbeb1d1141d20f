/**
 * @module irq-controller
 * The interrupt controller: level-triggered lines, each routed to the container of the driver
 * that requested it, with masking and per-line counts for /proc/interrupts. Devices (models)
 * drive a line's level; while it is high and unmasked the owner's handler is invoked once per
 * assertion edge and again after each EOI if the level is still high.
 */
import type { InjectionToken } from 'tsyringe';

export interface IrqOwner {
  container: string;
  device: string;
  deliver(line: number): void;
}

interface Line {
  owner?: IrqOwner;
  level: boolean;
  masked: boolean;
  count: number;
  spurious: number;
  /** Delivered and not yet acknowledged by the handler's return. */
  inService: boolean;
}

export class IrqController {
  private readonly lines = new Map<number, Line>();

  private line(n: number): Line {
    let l = this.lines.get(n);
    if (!l) { l = { level: false, masked: false, count: 0, spurious: 0, inService: false }; this.lines.set(n, l); }
    return l;
  }

  /** Claims a line for a container (request_irq). Returns -EBUSY if owned, 0 otherwise. */
  request(n: number, owner: IrqOwner): number {
    const l = this.line(n);
    if (l.owner && l.owner.container !== owner.container) return -16;
    l.owner = owner;
    l.masked = false;
    this.evaluate(n, l);
    return 0;
  }

  free(n: number, container: string): number {
    const l = this.lines.get(n);
    if (!l?.owner || l.owner.container !== container) return -22;
    l.owner = undefined;
    return 0;
  }

  /** Releases every line a container owns (crash, stop). */
  freeAll(container: string): void {
    for (const l of this.lines.values()) if (l.owner?.container === container) l.owner = undefined;
  }

  /** A device drives its line to `level`. */
  setLevel(n: number, level: boolean): void {
    const l = this.line(n);
    l.level = level;
    if (!level) l.inService = false;
    this.evaluate(n, l);
  }

  /**
   * The handler returned: a line still high is delivered again (level semantics). The check
   * waits one event-loop turn, so level changes the device reported meanwhile (the handler's
   * W1C write lowering it) are seen first: re-delivering at once would loop on a stale level.
   */
  eoi(n: number): void {
    const l = this.lines.get(n);
    if (!l) return;
    setImmediate(() => {
      l.inService = false;
      this.evaluate(n, l);
    });
  }

  mask(n: number): void { this.line(n).masked = true; }
  unmask(n: number): void { const l = this.line(n); l.masked = false; this.evaluate(n, l); }

  private evaluate(n: number, l: Line): void {
    if (!l.level || l.masked || l.inService) return;
    if (!l.owner) { l.spurious++; return; }
    l.count++;
    l.inService = true;
    l.owner.deliver(n);
  }

  /** /proc/interrupts, Linux layout (one CPU column: the kernel's event loop). */
  procInterrupts(names: Map<number, string>): string {
    const rows = [...new Set([...this.lines.keys(), ...names.keys()])].sort((a, b) => a - b);
    let out = '           CPU0\n';
    for (const n of rows) {
      const l = this.lines.get(n);
      const who = l?.owner ? `${l.owner.device}` : (names.get(n) ?? '');
      out += `${String(n).padStart(4)}: ${String(l?.count ?? 0).padStart(10)}  hmdrv-intc ${String(n).padStart(4)}-level  ${who}${l?.masked ? ' (masked)' : ''}\n`;
    }
    const spurious = [...this.lines.values()].reduce((s, l) => s + l.spurious, 0);
    out += ` ERR: ${String(spurious).padStart(10)}\n`;
    return out;
  }

  counts(): Map<number, number> {
    return new Map([...this.lines].map(([n, l]) => [n, l.count]));
  }
}

export const IIrqController: InjectionToken<IrqController> = Symbol('IIrqController');
