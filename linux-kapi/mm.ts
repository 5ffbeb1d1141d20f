/**
 * @module linux/slab.h + shared memory for mmap
 * kmalloc/kzalloc/kfree return plain byte arrays (the heap is garbage-collected; kfree only
 * drops the reference). Memory that user space must map comes from `alloc_shared_pages`, the
 * container's shared regions, and is handed to mmap through `remap_shared`.
 */
import type { DriverEnv, SharedRegion } from '../framework/driver-port.js';
import type { VmAreaStruct } from './fs.js';
import { driverEnv } from './kernel.js';
import { EINVAL } from './errno.js';

export const GFP_KERNEL = 0xcc0, GFP_ATOMIC = 0x820, __GFP_ZERO = 0x100;

export function kmalloc(size: number, _flags = GFP_KERNEL): Uint8Array { return new Uint8Array(size); }
export function kzalloc(size: number, _flags = GFP_KERNEL): Uint8Array { return new Uint8Array(size); }
export function kcalloc(n: number, size: number, _flags = GFP_KERNEL): Uint8Array { return new Uint8Array(n * size); }
export function kfree(_p: unknown): void { /* GC-managed */ }

/**
 * Memory shared with the kernel, mappable by callers (vmalloc_user + remap_vmalloc_range).
 * Pass the file (or device) it is for, so the right container gets it even after an await.
 */
export function alloc_shared_pages(size: number, owner?: { env: DriverEnv }): Promise<SharedRegion> {
  return (owner?.env ?? driverEnv()).allocShared(Math.ceil(size / 4096) * 4096);
}

/** Maps `region` into the caller's vma (remap_pfn_range's role). */
export function remap_shared(vma: VmAreaStruct, region: SharedRegion): number {
  const off = vma.vm_pgoff * 4096;
  const len = vma.vm_end - vma.vm_start;
  if (off + len > region.length) return -EINVAL;
  vma.region = { region: region.region, offset: region.offset + off, length: len };
  return 0;
}
