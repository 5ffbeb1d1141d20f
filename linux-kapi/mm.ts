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
import { might_sleep } from './preempt.js';

export const GFP_KERNEL = 0xcc0, GFP_ATOMIC = 0x820, __GFP_ZERO = 0x100, GFP_NOWAIT = 0x800, GFP_NOIO = 0x400,
  GFP_NOFS = 0x440, GFP_DMA = 0x01, GFP_DMA32 = 0x04, __GFP_NOWARN = 0x2000, __GFP_DIRECT_RECLAIM = 0x400;

/**
 * A GFP_KERNEL (any __GFP_DIRECT_RECLAIM) allocation may sleep: in atomic context it is
 * reported, as Linux's might_sleep_if(gfpflags_allow_blocking(flags)) does; use GFP_ATOMIC there.
 */
export function gfp_might_sleep(flags: number, what: string): void {
  if (flags & __GFP_DIRECT_RECLAIM) might_sleep(`${what}(GFP_KERNEL)`);
}

/** Sizes are byte counts; a negative or non-integer size is a bug (a zero-length array is returned). */
const bytes = (size: number): Uint8Array => new Uint8Array(Number.isInteger(size) && size > 0 ? size : 0);

export function kmalloc(size: number, flags = GFP_KERNEL): Uint8Array { gfp_might_sleep(flags, 'kmalloc'); return bytes(size); }
export function kzalloc(size: number, flags = GFP_KERNEL): Uint8Array { gfp_might_sleep(flags, 'kzalloc'); return bytes(size); }
export function kcalloc(n: number, size: number, flags = GFP_KERNEL): Uint8Array { gfp_might_sleep(flags, 'kcalloc'); return bytes(n * size); }
export function kmalloc_array(n: number, size: number, flags = GFP_KERNEL): Uint8Array { gfp_might_sleep(flags, 'kmalloc_array'); return bytes(n * size); }
export function kfree(_p: unknown): void { /* GC-managed */ }
export const kfree_sensitive = (p: Uint8Array | null | undefined): void => { p?.fill(0); };

/**
 * krealloc(p, new_size, flags): `p`'s bytes in an array of `new_size` (the rest zeroed). Returns
 * `p` itself when the size is unchanged; a smaller size gives a copy (not a view), so later
 * growth never shares memory with the old array.
 */
export function krealloc(p: Uint8Array | null, newSize: number, flags = GFP_KERNEL): Uint8Array {
  gfp_might_sleep(flags, 'krealloc');
  if (p && p.length === newSize) return p;
  const out = bytes(newSize);
  if (p) out.set(p.subarray(0, Math.min(p.length, out.length)));
  return out;
}

/** kmemdup(src, len, flags): a copy of the first `len` bytes. */
export function kmemdup(src: Uint8Array, len = src.length, flags = GFP_KERNEL): Uint8Array {
  gfp_might_sleep(flags, 'kmemdup');
  return src.slice(0, len);
}

/**
 * kstrdup(s, flags) / kstrndup(s, max, flags): a copy of the string. JS strings are immutable
 * values, so the "copy" is the string itself (null stays null, as Linux's kstrdup(NULL)).
 */
export function kstrdup(s: string | null, flags = GFP_KERNEL): string | null {
  gfp_might_sleep(flags, 'kstrdup');
  return s;
}
export function kstrndup(s: string | null, max: number, flags = GFP_KERNEL): string | null {
  gfp_might_sleep(flags, 'kstrndup');
  return s === null ? null : s.slice(0, Math.max(0, max));
}
export const kstrdup_const = kstrdup;
export const kfree_const = kfree;

/** ksize(p): the usable size (exactly what was asked: there are no size classes). */
export const ksize = (p: Uint8Array): number => p.length;

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
