/**
 * @module linux/slab.h (kmem_cache)
 * Object caches: `kmem_cache_create(name, size, align, flags, ctor)`, `kmem_cache_alloc`,
 * `kmem_cache_zalloc`, `kmem_cache_free`, `kmem_cache_destroy`, `kmem_cache_size` (no
 * `KMEM_CACHE` macro: there is no struct type to take the size from).
 *
 * ```ts
 * priv.cmd_cache = kmem_cache_create('hmufs_cmd', 64, 0, 0, null);
 * const cmd = kmem_cache_alloc(priv.cmd_cache, GFP_ATOMIC);
 * ...
 * kmem_cache_free(priv.cmd_cache, cmd);
 * kmem_cache_destroy(priv.cmd_cache);             // remove
 * ```
 *
 * Differs from Linux, and why:
 * - Objects are `Uint8Array`s of `size` bytes. Freed objects are kept (up to 256 per cache)
 *   and handed out again, not zeroed, as a slab does: that is the point of a cache here too
 *   (fewer allocations for the garbage collector). `kmem_cache_zalloc` zeroes. `ctor(obj)` runs
 *   once per new object, as Linux's constructor runs when a slab page is populated.
 * - Misuse is reported, never fatal: freeing an object the cache did not hand out (or freeing
 *   it twice) is "BUG <cache>: Invalid object pointer or double free" and ignored;
 *   destroying a cache with objects still allocated is "BUG <cache>: Objects remaining on
 *   kmem_cache_destroy()" with the count (Linux: "Objects remaining in <cache> on
 *   __kmem_cache_shutdown()"). `align` and SLAB_* flags are accepted and ignored.
 * - kmem_cache_alloc with GFP_KERNEL in atomic context is reported as for kmalloc.
 */
import { kapi_report } from './bug.js';
import { gfp_might_sleep, GFP_KERNEL } from './mm.js';

export const SLAB_HWCACHE_ALIGN = 0x2000, SLAB_PANIC = 0x40000, SLAB_ACCOUNT = 0x4000000, SLAB_RECLAIM_ACCOUNT = 0x20000;
const KEEP = 256;

export class KmemCache {
  /** @internal Objects handed out and not freed. */ readonly _live = new WeakSet<Uint8Array>();
  /** @internal */ _liveCount = 0;
  /** @internal Freed objects for reuse. */ readonly _free: Uint8Array[] = [];
  /** @internal */ _destroyed = false;
  constructor(readonly name: string, readonly size: number, readonly ctor: ((obj: Uint8Array) => void) | null) {}
}
export type kmem_cache = KmemCache;

/** kmem_cache_create(name, size, align, flags, ctor): never fails (returns the cache). */
export function kmem_cache_create(name: string, size: number, _align = 0, _flags = 0,
  ctor: ((obj: Uint8Array) => void) | null = null): KmemCache {
  return new KmemCache(name, Number.isInteger(size) && size > 0 ? size : 0, ctor);
}

export function kmem_cache_alloc(c: KmemCache, flags = GFP_KERNEL): Uint8Array {
  gfp_might_sleep(flags, 'kmem_cache_alloc');
  if (c._destroyed) kapi_report('kmem-cache-destroyed', 3, `BUG ${c.name}: kmem_cache_alloc() on a destroyed cache`);
  let obj = c._free.pop();
  if (!obj) {
    obj = new Uint8Array(c.size);
    c.ctor?.(obj);
  }
  c._live.add(obj);
  c._liveCount++;
  return obj;
}

export function kmem_cache_zalloc(c: KmemCache, flags = GFP_KERNEL): Uint8Array {
  return kmem_cache_alloc(c, flags).fill(0);
}

export function kmem_cache_free(c: KmemCache, obj: Uint8Array | null): void {
  if (!obj) return;
  if (!c._live.has(obj)) {
    kapi_report('kmem-cache-free', 3, `BUG ${c.name}: Invalid object pointer or double free (kmem_cache_free of an object not allocated from it)`);
    return;
  }
  c._live.delete(obj);
  c._liveCount--;
  if (c._free.length < KEEP && !c._destroyed) c._free.push(obj);
}

/** kmem_cache_destroy(cache): reports objects still allocated. */
export function kmem_cache_destroy(c: KmemCache | null): void {
  if (!c || c._destroyed) return;
  if (c._liveCount > 0) {
    kapi_report('kmem-cache-leak', 3, `BUG ${c.name}: Objects remaining on kmem_cache_destroy() (${c._liveCount} still allocated)`);
  }
  c._destroyed = true;
  c._free.length = 0;
}

export const kmem_cache_size = (c: KmemCache): number => c.size;
/** Objects handed out and not freed (for tests and leak checks). */
export const kmem_cache_in_use = (c: KmemCache): number => c._liveCount;
