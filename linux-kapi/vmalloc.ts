/**
 * @module linux/vmalloc.h + kvmalloc (linux/mm.h)
 * `vmalloc`, `vzalloc`, `vfree`, `vmalloc_array`, `vcalloc`, and `kvmalloc`, `kvzalloc`,
 * `kvcalloc`, `kvmalloc_array`, `kvfree`, `kvrealloc`.
 *
 * Differs from Linux, and why: there is one heap, so vmalloc memory is a zeroed `Uint8Array`
 * like kmalloc's (garbage-collected; `vfree` only drops the reference, and is fine in any
 * context). What stays is the rule that matters for portable drivers: **vmalloc may sleep**,
 * so calling it in atomic context is reported ("BUG: sleeping function called from invalid
 * context"), whatever the flags. kvmalloc follows its GFP flags, as kmalloc does. vmalloc
 * memory is not device-visible: map it with `dma_map_single` (bounced) or use
 * `dma_alloc_coherent`. Memory user space must mmap comes from `alloc_shared_pages`.
 */
import { gfp_might_sleep, GFP_KERNEL, krealloc } from './mm.js';
import { might_sleep } from './preempt.js';

const bytes = (size: number): Uint8Array => new Uint8Array(Number.isInteger(size) && size > 0 ? size : 0);

export function vmalloc(size: number): Uint8Array { might_sleep('vmalloc()'); return bytes(size); }
export function vzalloc(size: number): Uint8Array { might_sleep('vzalloc()'); return bytes(size); }
export function vmalloc_array(n: number, size: number): Uint8Array { might_sleep('vmalloc_array()'); return bytes(n * size); }
export function vcalloc(n: number, size: number): Uint8Array { might_sleep('vcalloc()'); return bytes(n * size); }
export function vfree(_p: unknown): void { /* GC-managed */ }

export function kvmalloc(size: number, flags = GFP_KERNEL): Uint8Array { gfp_might_sleep(flags, 'kvmalloc'); return bytes(size); }
export function kvzalloc(size: number, flags = GFP_KERNEL): Uint8Array { gfp_might_sleep(flags, 'kvzalloc'); return bytes(size); }
export function kvcalloc(n: number, size: number, flags = GFP_KERNEL): Uint8Array { gfp_might_sleep(flags, 'kvcalloc'); return bytes(n * size); }
export function kvmalloc_array(n: number, size: number, flags = GFP_KERNEL): Uint8Array { gfp_might_sleep(flags, 'kvmalloc_array'); return bytes(n * size); }
export function kvfree(_p: unknown): void { /* GC-managed */ }
/** kvrealloc(p, new_size, flags) (Linux 6.12 argument order). */
export const kvrealloc = (p: Uint8Array | null, newSize: number, flags = GFP_KERNEL): Uint8Array => krealloc(p, newSize, flags);
