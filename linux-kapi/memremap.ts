/**
 * @module linux/io.h (memremap, devm_memremap, devm_ioremap_wc) + linux/mm.h (vm_iomap_memory)
 * Device memory that is plain RAM on the device's side of the bus (a display's VRAM BAR): the
 * CPU reads and writes it directly instead of through register accesses, and a driver's mmap
 * hands it on to the caller. The bytes are the device's own, in every isolation class: what the
 * driver or the mapping process writes is what the device model sees, with no copy in between.
 *
 * ```ts
 * const vram = await devm_memremap(dev, res.start, size, MEMREMAP_WC);   // Uint8Array or -errno
 * if (IS_ERR(vram)) return vram;
 * vram.fill(0);                                                         // the device sees it
 * // in fb_mmap / file mmap:
 * return vm_iomap_memory(vma, res.start, size);
 * ```
 *
 * Differs from Linux, and why:
 * - Mapping is an upcall (the kernel checks the window and maps the device's memfd into the
 *   container), so memremap is async. Only memory inside one of the device's `reg` windows that
 *   the machine backs with RAM can be mapped, and its offset there must be page-aligned
 *   (-EINVAL otherwise; -ENODEV without a machine). Registers stay behind ioremap + readl/writel.
 * - The "pointer" is a Uint8Array over exactly the mapped bytes. `devm_ioremap_wc` returns the
 *   same (Linux returns an `__iomem` pointer used with memcpy_toio; here the window is RAM).
 * - vm_iomap_memory maps memory this driver memremapped (there is no PFN space in which to remap
 *   an arbitrary physical address); anything else is -EINVAL.
 */
import type { DriverEnv, SharedRegion } from '../framework/driver-port.js';
import { Device, dev_err } from './device.js';
import { EINVAL, ENODEV } from './errno.js';
import type { VmAreaStruct } from './fs.js';
import { currentDriverEnv } from './kernel.js';

export const MEMREMAP_WB = 1, MEMREMAP_WT = 2, MEMREMAP_WC = 4, MEMREMAP_ENC = 8, MEMREMAP_DEC = 16;

const PAGE_SIZE = 4096;

interface Mapping { env: DriverEnv; phys: number; size: number; bytes: Uint8Array; region: SharedRegion }

/** Live memremaps, by CPU view (memunmap) and for vm_iomap_memory's lookup by address. */
const mappings = new Map<Uint8Array, Mapping>();

/** memremap(offset, size, flags): the CPU view of device RAM at bus address `offset`, or -errno. */
export async function memremap(dev: Device, offset: number, size: number, _flags = MEMREMAP_WB): Promise<Uint8Array | number> {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size <= 0) return -EINVAL;
  try {
    const region = await dev.env.mapDeviceMemory(dev.binding, offset, size);
    const bytes = new Uint8Array(region.buffer, region.offset, size);
    mappings.set(bytes, { env: dev.env, phys: offset, size, bytes, region });
    return bytes;
  } catch (e) {
    const err = (e as { errno?: number }).errno ?? -ENODEV;
    dev_err(dev, `memremap(0x${offset.toString(16)}, 0x${size.toString(16)}) failed: ${err}`);
    return err;
  }
}

/** memunmap(addr): releases a memremap (the device memory itself stays). */
export async function memunmap(addr: Uint8Array): Promise<void> {
  const m = mappings.get(addr);
  if (!m) return;
  mappings.delete(addr);
  await m.env.freeShared(m.region.region);
}

/** devm_memremap: memremap released with the binding (or the failed probe). */
export async function devm_memremap(dev: Device, offset: number, size: number, flags = MEMREMAP_WB): Promise<Uint8Array | number> {
  const r = await memremap(dev, offset, size, flags);
  if (typeof r !== 'number') dev.devres.push(() => memunmap(r));
  return r;
}

/** devm_ioremap_wc(dev, offset, size): write-combined device RAM; the same bytes as devm_memremap. */
export async function devm_ioremap_wc(dev: Device, offset: number, size: number): Promise<Uint8Array | number> {
  return devm_memremap(dev, offset, size, MEMREMAP_WC);
}

/**
 * vm_iomap_memory(vma, start, len): maps device memory [start, start + len) into the caller's
 * vma, `vm_pgoff` pages in. -EINVAL when the vma does not fit (Linux's checks) or the range is
 * not memory this driver memremapped.
 */
export function vm_iomap_memory(vma: VmAreaStruct, start: number, len: number): number {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(len) || start < 0 || len < 0) return -EINVAL;
  // Linux: len grows by start's offset in its page; pages covers it; the vma starts vm_pgoff pages in.
  const first = start - (start % PAGE_SIZE);
  const pages = Math.ceil((len + (start % PAGE_SIZE)) / PAGE_SIZE);
  if (vma.vm_pgoff > pages) return -EINVAL;
  const vmLen = vma.vm_end - vma.vm_start;
  if (Math.ceil(vmLen / PAGE_SIZE) > pages - vma.vm_pgoff) return -EINVAL;
  const from = first + vma.vm_pgoff * PAGE_SIZE;
  const env = currentDriverEnv();
  for (const m of mappings.values()) {
    if (m.env !== env || from < m.phys || from + vmLen > m.phys + m.size) continue;
    vma.region = { region: m.region.region, offset: m.region.offset + (from - m.phys), length: vmLen };
    return 0;
  }
  return -EINVAL;
}
