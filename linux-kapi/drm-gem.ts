/**
 * @module drm/drm_gem.h + drm/drm_gem_vram_helper.h (dumb buffers in VRAM) + drm_dumb_buffers.c
 * Buffer objects in the display's VRAM: a first-fit allocator over the VRAM range the driver
 * gives the core (drmm_vram_helper_init), GEM objects with per-file handles, and the dumb-buffer
 * ioctls (CREATE_DUMB, MAP_DUMB, DESTROY_DUMB). mmap of a dumb buffer's fake offset maps the VRAM
 * behind it with vm_iomap_memory: the caller's mapping is the device's memory, no copy.
 *
 * - CREATE_DUMB: pitch = width × ⌈bpp / 8⌉, size = pitch × height rounded up to a page; zero or
 *   overflowing sizes are -EINVAL (drm_mode_create_dumb), more than the free VRAM is -ENOMEM.
 *   The new buffer is cleared (Linux's TTM clears new VRAM buffers too).
 * - MAP_DUMB: the fake offset is DRM_FILE_PAGE_OFFSET_START (4 GiB) plus the object's VRAM
 *   offset; unknown handles are -ENOENT. mmap at any other offset is -EINVAL, longer than the
 *   object -EINVAL, through a file without a handle to the object -EACCES (drm_gem_mmap).
 * - DESTROY_DUMB drops the handle; the VRAM is freed when no handle and no framebuffer refer
 *   to the object any more.
 *
 * Differs from Linux, and why: objects are placed in VRAM when created and stay there (TTM can
 * evict unpinned VRAM objects to system memory; there is no system memory domain here, so a
 * dumb buffer that does not fit in VRAM fails at once with -ENOMEM). drmm_vram_helper_init
 * takes the driver's CPU view of the range too (Linux ioremaps it itself).
 */
import { EACCES, EINVAL, ENOENT, ENOMEM } from './errno.js';
import type { VmAreaStruct } from './fs.js';
import { vm_iomap_memory } from './memremap.js';
import type { DrmFile } from './drm-file.js';
import type { DrmDevice } from './drm-device.js';
import { drm_mode_create_dumb, drm_mode_destroy_dumb, drm_mode_map_dumb, StructView } from './drm-uapi.js';

const PAGE_SIZE = 4096;
/** DRM_FILE_PAGE_OFFSET_START on 64-bit: ((0xFFFFFFFF >> PAGE_SHIFT) + 1) pages, i.e. 4 GiB. */
export const DRM_FILE_PAGE_OFFSET_START = 0x100000;

const PAGE_ALIGN = (n: number): number => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

/** The VRAM range the core manages: first-fit, page-granular. */
export class DrmVramMm {
  /** Allocated [offset, size), sorted by offset. */
  private readonly used: { offset: number; size: number }[] = [];
  constructor(readonly base: number, readonly size: number, readonly vmap: Uint8Array) {}

  /** A free range of `size` bytes (page-aligned), or -ENOMEM. */
  alloc(size: number): number {
    let at = 0;
    let i = 0;
    for (; i <= this.used.length; i++) {
      const next = this.used[i]?.offset ?? this.size;
      if (next - at >= size) break;
      if (i < this.used.length) at = this.used[i]!.offset + this.used[i]!.size;
    }
    if (i > this.used.length || at + size > this.size) return -ENOMEM;
    this.used.splice(i, 0, { offset: at, size });
    return at;
  }

  free(offset: number): void {
    const i = this.used.findIndex((u) => u.offset === offset);
    if (i >= 0) this.used.splice(i, 1);
  }

  /** Bytes in use (for the tests and debugfs-style reporting). */
  get used_bytes(): number { return this.used.reduce((s, u) => s + u.size, 0); }
}

/** struct drm_gem_vram_object: a buffer at `offset` in the device's VRAM range. */
export class DrmGemObject {
  /** Handles plus framebuffers that refer to it. */
  refcount = 1;
  handle_count = 0;
  /** Files holding a handle (drm_vma_node_allow). */
  readonly allowed = new Set<DrmFile>();
  constructor(readonly dev: DrmDevice, readonly size: number, readonly offset: number) {}
  /** The fake mmap offset, in pages (drm_vma_node_start). */
  get vma_pgoff(): number { return DRM_FILE_PAGE_OFFSET_START + this.offset / PAGE_SIZE; }
  /** Bus address of the buffer (the driver programs the display with it). */
  get gpu_addr(): number { return (this.dev.vram?.base ?? 0) + this.offset; }
}

/** drmm_vram_helper_init(dev, base, size, vmap): VRAM at bus address `base` becomes the dumb-buffer pool. */
export function drmm_vram_helper_init(dev: DrmDevice, base: number, size: number, vmap: Uint8Array): number {
  if (size <= 0 || size % PAGE_SIZE || vmap.length < size) return -EINVAL;
  dev.vram = new DrmVramMm(base, size, vmap);
  return 0;
}

/** drm_gem_vram_create: a cleared VRAM object of `size` bytes (page-aligned), or -errno. */
export function drm_gem_vram_create(dev: DrmDevice, size: number): DrmGemObject | number {
  const mm = dev.vram;
  if (!mm) return -EINVAL;
  size = PAGE_ALIGN(size);
  const off = mm.alloc(size);
  if (off < 0) return off;
  mm.vmap.fill(0, off, off + size);
  const obj = new DrmGemObject(dev, size, off);
  dev.vma_objects.set(obj.vma_pgoff, obj);
  return obj;
}

export function drm_gem_object_get(obj: DrmGemObject): void { obj.refcount++; }

/** drm_gem_object_put: the last reference frees the VRAM and the fake offset. */
export function drm_gem_object_put(obj: DrmGemObject): void {
  if (--obj.refcount > 0) return;
  obj.dev.vma_objects.delete(obj.vma_pgoff);
  obj.dev.vram?.free(obj.offset);
}

/** drm_gem_handle_create: the lowest free handle (from 1) of `file` for `obj`. */
export function drm_gem_handle_create(file: DrmFile, obj: DrmGemObject): number {
  let h = 1;
  while (file.object_idr.has(h)) h++;
  file.object_idr.set(h, obj);
  obj.handle_count++;
  obj.allowed.add(file);
  drm_gem_object_get(obj);
  return h;
}

/** drm_gem_object_lookup: the object behind a handle, or null. */
export const drm_gem_object_lookup = (file: DrmFile, handle: number): DrmGemObject | null => file.object_idr.get(handle) ?? null;

/** drm_gem_handle_delete: 0 or -EINVAL for an unknown handle (as Linux's GEM_CLOSE). */
export function drm_gem_handle_delete(file: DrmFile, handle: number): number {
  const obj = file.object_idr.get(handle);
  if (!obj) return -EINVAL;
  file.object_idr.delete(handle);
  obj.handle_count--;
  if (![...file.object_idr.values()].includes(obj)) obj.allowed.delete(file);
  drm_gem_object_put(obj);
  return 0;
}

/** drm_gem_release: a closing file's handles. */
export function drm_gem_release(file: DrmFile): void {
  for (const h of [...file.object_idr.keys()]) drm_gem_handle_delete(file, h);
}

// ---- dumb buffers ----------------------------------------------------------------------------------

/** DRM_IOCTL_MODE_CREATE_DUMB. */
export function drm_mode_create_dumb_ioctl(dev: DrmDevice, data: Uint8Array, file: DrmFile): number {
  const a = new StructView(drm_mode_create_dumb, data);
  const width = a.u32('width'), height = a.u32('height'), bpp = a.u32('bpp');
  if (!dev.vram) return -EINVAL; // no dumb buffer support (DRM_CAP_DUMB_BUFFER 0)
  if (!width || !height || !bpp) return -EINVAL;
  const cpp = Math.ceil(bpp / 8);
  if (cpp > Math.floor(0xffffffff / width)) return -EINVAL;
  const stride = cpp * width;
  if (height > Math.floor(0xffffffff / stride)) return -EINVAL;
  const size = PAGE_ALIGN(stride * height);
  if (size > 0xffffffff) return -EINVAL;
  const obj = drm_gem_vram_create(dev, size);
  if (typeof obj === 'number') return obj;
  const handle = drm_gem_handle_create(file, obj);
  drm_gem_object_put(obj); // the handle holds it now
  a.set('handle', handle).set('pitch', stride).set('size', size);
  return 0;
}

/** DRM_IOCTL_MODE_MAP_DUMB: the fake offset to mmap the buffer at. */
export function drm_mode_map_dumb_ioctl(_dev: DrmDevice, data: Uint8Array, file: DrmFile): number {
  const a = new StructView(drm_mode_map_dumb, data);
  const obj = drm_gem_object_lookup(file, a.u32('handle'));
  if (!obj) return -ENOENT;
  a.set('offset', obj.vma_pgoff * PAGE_SIZE);
  return 0;
}

/** DRM_IOCTL_MODE_DESTROY_DUMB. */
export function drm_mode_destroy_dumb_ioctl(_dev: DrmDevice, data: Uint8Array, file: DrmFile): number {
  const a = new StructView(drm_mode_destroy_dumb, data);
  return drm_gem_handle_delete(file, a.u32('handle'));
}

/** drm_gem_mmap: the object whose fake offset starts at vm_pgoff, mapped zero-copy from VRAM. */
export function drm_gem_mmap(dev: DrmDevice, file: DrmFile, vma: VmAreaStruct): number {
  const obj = dev.vma_objects.get(vma.vm_pgoff);
  if (!obj || !dev.vram) return -EINVAL;
  if (!obj.allowed.has(file)) return -EACCES;
  if (vma.vm_end - vma.vm_start > obj.size) return -EINVAL;
  const inner: VmAreaStruct = { vm_start: vma.vm_start, vm_end: vma.vm_end, vm_pgoff: 0 };
  const r = vm_iomap_memory(inner, obj.gpu_addr, obj.size);
  if (r) return r;
  vma.region = inner.region;
  return 0;
}
