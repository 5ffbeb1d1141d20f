/**
 * @module asm/io.h + linux/io.h + linux/iopoll.h
 * ioremap and register access on the machine's MMIO bus. Writes are posted (queued in order,
 * the call returns at once); reads are non-posted (they wait for the device, after every
 * earlier write), so `writel(); readl();` is the usual way to flush a write, as on PCIe.
 *
 * Differs from Linux: an `__iomem` pointer is an `IoMem` window and the register offset is a
 * second argument (`readl(base, REG)` for `readl(base + REG)`); an access outside the window is
 * refused (reported once per call site with the site, counted; reads give all ones) instead of
 * touching whatever lies there.
 */
import type { MmioAccess } from '../framework/driver-port.js';
import { Device, IORESOURCE_MEM, dev_err, type Resource } from './device.js';
import { kapi_report } from './bug.js';
import { EINVAL, ENODEV, ETIMEDOUT } from './errno.js';

export class IoMem {
  constructor(readonly bus: MmioAccess, readonly phys: number, readonly size: number, readonly owner?: Device) {}

  /** `base + off` as a narrower window. */
  add(off: number): IoMem {
    return new IoMem(this.bus, this.phys + off, Math.max(0, this.size - off), this.owner);
  }

  /** @internal bounds check; returns the bus address or -1. */
  addr(off: number, width: number): number {
    if (off < 0 || off + width > this.size || off % width !== 0) {
      const msg = `MMIO ${width * 8}-bit access at offset 0x${off.toString(16)} outside the mapped window [0x${this.phys.toString(16)}, +0x${this.size.toString(16)})`;
      // Once per call site (then counted), so a bad access in a loop cannot flood the log.
      kapi_report('mmio-outside', 3, msg, this.owner ? { env: this.owner.env, binding: this.owner.binding } : {});
      return -1;
    }
    return this.phys + off;
  }
}

const ALL_ONES = [0, 0xff, 0xffff, 0, 0xffffffff] as const;

function rd(io: IoMem, off: number, w: 1 | 2 | 4): number {
  const a = io.addr(off, w);
  return a < 0 ? ALL_ONES[w] : io.bus.read(a, w);
}
/** @internal Debug-mode observers of register writes (dma-debug.ts installs one); null when unused. */
export const mmioHooks: { write: ((io: IoMem, off: number, value: number) => void) | null } = { write: null };

function wr(v: number, io: IoMem, off: number, w: 1 | 2 | 4): void {
  const a = io.addr(off, w);
  if (a < 0) return;
  if (mmioHooks.write && w !== 1) mmioHooks.write(io, off, v);
  io.bus.write(a, v, w);
}

export const readb = (io: IoMem, off = 0): number => rd(io, off, 1);
export const readw = (io: IoMem, off = 0): number => rd(io, off, 2);
export const readl = (io: IoMem, off = 0): number => rd(io, off, 4);
export const writeb = (v: number, io: IoMem, off = 0): void => wr(v, io, off, 1);
export const writew = (v: number, io: IoMem, off = 0): void => wr(v, io, off, 2);
export const writel = (v: number, io: IoMem, off = 0): void => wr(v, io, off, 4);
/** The _relaxed variants order only against the same device; here every access is ordered. */
export const readl_relaxed = readl;
export const writel_relaxed = writel;
export const ioread32 = readl;
export const iowrite32 = writel;
export const ioread16 = readw;
export const iowrite16 = writew;
export const ioread8 = readb;
export const iowrite8 = writeb;

/** ioremap(phys, size): a window on the bus; returns -ENODEV without a machine. */
export function ioremap(dev: Device, phys: number, size: number): IoMem | number {
  const bus = dev.env.mmio;
  if (!bus) return -ENODEV;
  return new IoMem(bus, phys, size, dev);
}

/** devm_ioremap_resource: maps a MEM resource for the life of the binding (or -errno). */
export function devm_ioremap_resource(dev: Device, res: Resource | null): IoMem | number {
  if (!res || res.flags !== IORESOURCE_MEM) { dev_err(dev, 'invalid resource'); return -EINVAL; }
  return ioremap(dev, res.start, res.end - res.start + 1);
}

/**
 * readl_poll_timeout(addr, off, cond, sleep_us, timeout_us): polls until `cond(value)`.
 * Resolves [0, value] or [-ETIMEDOUT, value]. Sleeps between reads (awaits, not spins).
 */
export async function readl_poll_timeout(io: IoMem, off: number, cond: (v: number) => boolean,
  sleepUs: number, timeoutUs: number): Promise<[number, number]> {
  const end = performance.now() + timeoutUs / 1000;
  for (;;) {
    const v = readl(io, off);
    if (cond(v)) return [0, v];
    if (performance.now() > end) { const last = readl(io, off); return [cond(last) ? 0 : -ETIMEDOUT, last]; }
    await new Promise((r) => setTimeout(r, Math.max(0, sleepUs / 1000)));
  }
}
