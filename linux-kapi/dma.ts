/**
 * @module linux/dma-mapping.h
 * Coherent DMA memory. The kernel allocates pages of the machine's physical memory, grants the
 * device access to them in its IOMMU, and maps exactly those pages into the container: the
 * device sees `dma_handle`, the CPU sees `cpu_addr`, and they are the same bytes.
 *
 * Differs from Linux: allocation is an upcall, so it is async (`await dma_alloc_coherent(...)`);
 * drivers allocate their rings and buffers in probe, as Linux drivers do anyway. The IOMMU is
 * always on: a device touching memory it was not given faults (logged), never corrupts.
 */
import type { DmaDirection } from '../framework/driver-port.js';
import { Device, dev_err } from './device.js';
import { EIO } from './errno.js';
import { coherent_added, coherent_removed } from './swiotlb.js';
import { might_sleep } from './preempt.js';

export const DMA_BIDIRECTIONAL = 0, DMA_TO_DEVICE = 1, DMA_FROM_DEVICE = 2, DMA_NONE = 3;
export const DMA_MAPPING_ERROR = 0;
const DIR_NAMES: Record<number, DmaDirection> = { 0: 'bidirectional', 1: 'to-device', 2: 'from-device' };

export const DMA_BIT_MASK = (n: number): number => (n >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** n - 1);

/** The physical memory is below 4 GiB: any mask of 32 bits or more works. */
export function dma_set_mask(_dev: Device, mask: number): number {
  return mask >= DMA_BIT_MASK(32) ? 0 : -EIO;
}
export const dma_set_mask_and_coherent = dma_set_mask;

export interface CoherentBuffer {
  /** What the CPU reads and writes. */
  cpu_addr: Uint8Array;
  /** What the device is given (dma_addr_t). */
  dma_handle: number;
}

/** dma_alloc_coherent: zeroed, page-granular, both directions. Resolves null on failure. */
export async function dma_alloc_coherent(dev: Device, size: number, dir = DMA_BIDIRECTIONAL): Promise<CoherentBuffer | null> {
  might_sleep('dma_alloc_coherent()');
  try {
    const b = await dev.env.dmaAlloc(dev.binding, size, DIR_NAMES[dir] ?? 'bidirectional');
    const cpu = b.bytes.subarray(0, size);
    coherent_added(dev, cpu, b.addr, DIR_NAMES[dir] ? dir : DMA_BIDIRECTIONAL);   // zero-copy dma_map_* of views of it
    return { cpu_addr: cpu, dma_handle: b.addr };
  } catch (e) {
    dev_err(dev, `dma_alloc_coherent(${size}) failed: ${(e as Error).message}`);
    return null;
  }
}

export async function dma_free_coherent(dev: Device, _size: number, _cpu: Uint8Array, handle: number): Promise<void> {
  coherent_removed(dev, handle);
  await dev.env.dmaFree(dev.binding, handle);
}

/** Managed variant: freed with the binding (the kernel releases DMA with the binding anyway). */
export async function dmam_alloc_coherent(dev: Device, size: number): Promise<CoherentBuffer | null> {
  const b = await dma_alloc_coherent(dev, size);
  if (b) dev.devres.push(() => dma_free_coherent(dev, size, b.cpu_addr, b.dma_handle));
  return b;
}
