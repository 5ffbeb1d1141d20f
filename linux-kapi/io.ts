/**
 * @module asm/io.h + linux/io.h + linux/iopoll.h
 * ioremap and register access on the machine's MMIO bus. Writes are posted (queued in order,
 * the call returns at once); reads are non-posted (they wait for the device, after every
 * earlier write), so `writel(); readl();` is the usual way to flush a write, as on PCIe.
 *
 * Differs from Linux: an `__iomem` pointer is an `IoMem` window and the register offset is a
 * second argument (`readl(base, REG)` for `readl(base + REG)`); an access outside the window is
 * refused (reported once per call site with the site, counted; reads give all ones) instead of
 * touching whatever lies there. `iounmap` makes a window (and windows `add`ed from it) refuse
 * accesses the same way; on a devm window it does nothing (the grant goes at unbind).
 * `memcpy_fromio`/`memcpy_toio`/`memset_io` use 32-bit accesses where aligned, else bytes, and
 * refuse the whole copy when any part lies outside the window. `readx_poll_timeout` and friends
 * are async (sleeping is awaiting); `timeout_us = 0` polls without a time limit, as in Linux.
 */
import type { MmioAccess } from '../framework/driver-port.js';
import { Device, IORESOURCE_MEM, dev_err, platform_get_resource, type PlatformDevice, type Resource } from './device.js';
import { kapi_report } from './bug.js';
import { EINVAL, ENODEV, ETIMEDOUT } from './errno.js';

/** @internal The state of one ioremap, shared by the windows `add`ed from it. */
export interface IoMapping { devm: boolean; unmapped: boolean }

export class IoMem {
  constructor(readonly bus: MmioAccess, readonly phys: number, readonly size: number, readonly owner?: Device,
    /** @internal */ readonly mapping: IoMapping = { devm: false, unmapped: false }) {}

  /** `base + off` as a narrower window. */
  add(off: number): IoMem {
    return new IoMem(this.bus, this.phys + off, Math.max(0, this.size - off), this.owner, this.mapping);
  }

  /** @internal bounds check; returns the bus address or -1. */
  addr(off: number, width: number): number {
    if (off < 0 || off + width > this.size || off % width !== 0 || this.mapping.unmapped) {
      return this.refuse(`MMIO ${width * 8}-bit access at offset 0x${off.toString(16)}`);
    }
    return this.phys + off;
  }

  /** @internal bounds check of `len` bytes at `off` (memcpy_*io); returns the bus address or -1. */
  range(off: number, len: number, what: string): number {
    if (!Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || off + len > this.size || this.mapping.unmapped) {
      return this.refuse(`MMIO ${what} of ${len} bytes at offset 0x${off.toString(16)}`);
    }
    return this.phys + off;
  }

  private refuse(what: string): number {
    const msg = this.mapping.unmapped
      ? `${what} after iounmap of the window [0x${this.phys.toString(16)}, +0x${this.size.toString(16)})`
      : `${what} outside the mapped window [0x${this.phys.toString(16)}, +0x${this.size.toString(16)})`;
    // Once per call site (then counted), so a bad access in a loop cannot flood the log.
    kapi_report('mmio-outside', 3, msg, this.owner ? { env: this.owner.env, binding: this.owner.binding } : {});
    return -1;
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
  const io = ioremap(dev, res.start, res.end - res.start + 1);
  if (io instanceof IoMem) io.mapping.devm = true;
  return io;
}

/** devm_platform_ioremap_resource(pdev, index): maps the device's `index`th MEM resource. */
export function devm_platform_ioremap_resource(pdev: PlatformDevice, index: number): IoMem | number {
  return devm_ioremap_resource(pdev.dev, platform_get_resource(pdev, IORESOURCE_MEM, index));
}

/** devm_platform_get_and_ioremap_resource(pdev, index): [the mapping or -errno, the resource] (Linux's `**res`). */
export function devm_platform_get_and_ioremap_resource(pdev: PlatformDevice, index: number): [IoMem | number, Resource | null] {
  const res = platform_get_resource(pdev, IORESOURCE_MEM, index);
  return [devm_ioremap_resource(pdev.dev, res), res];
}

/**
 * iounmap(io): accesses through the window (and windows `add`ed from it) are refused from now on.
 * A devm window is left alone (it goes at unbind, as Linux's devm_iounmap would do it); a second
 * iounmap is reported.
 */
export function iounmap(io: IoMem): void {
  if (io.mapping.devm) return;
  if (io.mapping.unmapped) {
    kapi_report('iounmap-twice', 4, `iounmap of an already unmapped window [0x${io.phys.toString(16)}, +0x${io.size.toString(16)})`,
      io.owner ? { env: io.owner.env, binding: io.owner.binding } : {});
    return;
  }
  io.mapping.unmapped = true;
}

/** Checks that `buf` holds `count` bytes (a short buffer is reported, and the copy refused). */
function bufOk(io: IoMem, buf: Uint8Array, count: number, what: string): boolean {
  if (Number.isInteger(count) && count >= 0 && count <= buf.length) return true;
  kapi_report('mmio-copy', 3, `${what}: ${count} bytes with a ${buf.length}-byte buffer`,
    io.owner ? { env: io.owner.env, binding: io.owner.binding } : {});
  return false;
}

/** memcpy_fromio(dst, io, off, count): `count` bytes of the window into `dst` (refused: dst left as it was). */
export function memcpy_fromio(dst: Uint8Array, io: IoMem, off: number, count: number): void {
  if (!bufOk(io, dst, count, 'memcpy_fromio')) return;
  const a = io.range(off, count, 'memcpy_fromio');
  if (a < 0) return;
  for (let i = 0; i < count;) {
    if ((a + i) % 4 === 0 && count - i >= 4) {
      const v = io.bus.read(a + i, 4);
      dst[i] = v; dst[i + 1] = v >>> 8; dst[i + 2] = v >>> 16; dst[i + 3] = v >>> 24;
      i += 4;
    } else { dst[i] = io.bus.read(a + i, 1); i++; }
  }
}

/** memcpy_toio(io, off, src, count): `count` bytes of `src` into the window (posted writes, in order). */
export function memcpy_toio(io: IoMem, off: number, src: Uint8Array, count: number): void {
  if (!bufOk(io, src, count, 'memcpy_toio')) return;
  const a = io.range(off, count, 'memcpy_toio');
  if (a < 0) return;
  for (let i = 0; i < count;) {
    if ((a + i) % 4 === 0 && count - i >= 4) {
      io.bus.write(a + i, (src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24)) >>> 0, 4);
      i += 4;
    } else { io.bus.write(a + i, src[i]!, 1); i++; }
  }
}

/** memset_io(io, off, value, count): `count` bytes of the window set to the byte `value`. */
export function memset_io(io: IoMem, off: number, value: number, count: number): void {
  const a = io.range(off, count, 'memset_io');
  if (a < 0) return;
  const b = value & 0xff, word = (b * 0x01010101) >>> 0;
  for (let i = 0; i < count;) {
    if ((a + i) % 4 === 0 && count - i >= 4) { io.bus.write(a + i, word, 4); i += 4; } else { io.bus.write(a + i, b, 1); i++; }
  }
}

/**
 * readx_poll_timeout(op, io, off, cond, sleep_us, timeout_us): reads with `op` until `cond(value)`.
 * Resolves [0, value] or [-ETIMEDOUT, value] (the value of one last read after the time ran
 * out). Sleeps between reads (awaits, not spins); `timeout_us = 0` means no time limit.
 */
export async function readx_poll_timeout(op: (io: IoMem, off: number) => number, io: IoMem, off: number,
  cond: (v: number) => boolean, sleepUs: number, timeoutUs: number): Promise<[number, number]> {
  const end = performance.now() + timeoutUs / 1000;
  for (;;) {
    const v = op(io, off);
    if (cond(v)) return [0, v];
    if (timeoutUs > 0 && performance.now() > end) { const last = op(io, off); return [cond(last) ? 0 : -ETIMEDOUT, last]; }
    await new Promise((r) => setTimeout(r, Math.max(0, sleepUs / 1000)));
  }
}

/** readl_poll_timeout(io, off, cond, sleep_us, timeout_us): readx_poll_timeout with readl. */
export const readl_poll_timeout = (io: IoMem, off: number, cond: (v: number) => boolean, sleepUs: number,
  timeoutUs: number): Promise<[number, number]> => readx_poll_timeout(readl, io, off, cond, sleepUs, timeoutUs);
export const readw_poll_timeout = (io: IoMem, off: number, cond: (v: number) => boolean, sleepUs: number,
  timeoutUs: number): Promise<[number, number]> => readx_poll_timeout(readw, io, off, cond, sleepUs, timeoutUs);
export const readb_poll_timeout = (io: IoMem, off: number, cond: (v: number) => boolean, sleepUs: number,
  timeoutUs: number): Promise<[number, number]> => readx_poll_timeout(readb, io, off, cond, sleepUs, timeoutUs);

/**
 * readx_poll_timeout_atomic(op, io, off, cond, delay_us, timeout_us): the busy-waiting form for
 * atomic context (IRQ handlers, spinlocks held). Synchronous: it blocks the container, so keep
 * `timeout_us` short; `timeout_us = 0` is capped at 1 s here (a spin without limit would hang it).
 */
export function readx_poll_timeout_atomic(op: (io: IoMem, off: number) => number, io: IoMem, off: number,
  cond: (v: number) => boolean, delayUs: number, timeoutUs: number): [number, number] {
  const end = performance.now() + (timeoutUs > 0 ? timeoutUs / 1000 : 1000);
  for (;;) {
    const v = op(io, off);
    if (cond(v)) return [0, v];
    if (performance.now() > end) { const last = op(io, off); return [cond(last) ? 0 : -ETIMEDOUT, last]; }
    const until = performance.now() + delayUs / 1000;
    while (performance.now() < until) { /* udelay */ }
  }
}
export const readl_poll_timeout_atomic = (io: IoMem, off: number, cond: (v: number) => boolean, delayUs: number,
  timeoutUs: number): [number, number] => readx_poll_timeout_atomic(readl, io, off, cond, delayUs, timeoutUs);
