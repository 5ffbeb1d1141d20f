/**
 * @module linux/dma-mapping.h (streaming DMA)
 * `dma_map_single`/`dma_unmap_single`, `dma_map_page`/`dma_unmap_page`, `dma_mapping_error`,
 * `dma_map_sg`/`dma_unmap_sg`, `dma_map_sgtable`/`dma_unmap_sgtable`, and the syncs
 * (`dma_sync_single_for_cpu`/`_for_device`, `dma_sync_single_range_*`, `dma_sync_sg_*`,
 * `dma_sync_sgtable_*`). All synchronous, as on Linux.
 *
 * ```ts
 * const addr = dma_map_single(dev, skb_data, len, DMA_TO_DEVICE);
 * if (dma_mapping_error(dev, addr)) return NETDEV_TX_BUSY;      // pool full: retry later
 * writel(addr, base, R.TX_ADDR); writel(len, base, R.TX_LEN);
 * ...                                                            // on completion:
 * dma_unmap_single(dev, addr, len, DMA_TO_DEVICE);
 * ```
 *
 * Differs from Linux, and why:
 * - **Heap buffers are bounced** through the device's swiotlb pool (swiotlb.ts): the device
 *   cannot reach the container's heap. Mapping copies the buffer into pool slots; unmapping
 *   (and `dma_sync_*_for_cpu`) copies `DMA_FROM_DEVICE`/`DMA_BIDIRECTIONAL` data back;
 *   `dma_sync_*_for_device` copies `DMA_TO_DEVICE`/`DMA_BIDIRECTIONAL` data in again. The
 *   rules a Linux driver already follows on a swiotlb system are therefore the rules here: the
 *   CPU must not touch a mapped buffer between map and unmap without the syncs, or its writes
 *   are lost and it reads stale data.
 * - **Zero copy for coherent memory**: a buffer that is a view of one of the device's own
 *   `dma_alloc_coherent` buffers maps to its bus address directly (no slot, no copy), provided
 *   the buffer's IOMMU grant allows the direction. Use this for big or hot buffers.
 * - **A full pool is a mapping error, not an exception**: the map returns `DMA_MAPPING_ERROR`,
 *   `dma_mapping_error()` is `-ENOMEM`, and the kernel log gets a rate-limited warning (one
 *   per 5 s per device, with the count suppressed meanwhile). `dma_map_sg` returns 0 and undoes
 *   the entries it had mapped. Drivers back off and retry, as they do on Linux.
 * - `DMA_MAPPING_ERROR` is 0, not `~0`: the machine never hands out bus address 0.
 * - `dma_map_sg` maps each entry on its own (no merging: the returned count equals `nents`).
 * - Unmapping an address that is not mapped, or a length or direction that does not match
 *   the mapping, is reported ("DMA-API: device driver ..."); details in the debug mode docs.
 * - `attrs`: `DMA_ATTR_SKIP_CPU_SYNC` skips the copies at map and unmap (the driver syncs
 *   itself); other attributes are accepted and ignored.
 */
import { Device, dev_warn } from './device.js';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_NONE, DMA_TO_DEVICE } from './dma.js';
import { EINVAL, ENOMEM } from './errno.js';
import { for_each_sg, sg_first, sg_next, sg_virt, type SgList, type SgTable } from './scatterlist.js';
import { addMapping, coherent_lookup, dmaState, IO_TLB_SHIFT, IO_TLB_SIZE, type DmaDeviceState, type DmaMapping, type IoTlbPool } from './swiotlb.js';
import { dmaDebug } from './dma-debug.js';

export const DMA_ATTR_WEAK_ORDERING = 1 << 1, DMA_ATTR_WRITE_COMBINE = 1 << 2, DMA_ATTR_NO_KERNEL_MAPPING = 1 << 4,
  DMA_ATTR_SKIP_CPU_SYNC = 1 << 5, DMA_ATTR_FORCE_CONTIGUOUS = 1 << 6, DMA_ATTR_NO_WARN = 1 << 8;

/** Interval between two "pool full" warnings of one device (ms). */
const WARN_INTERVAL_MS = 5000;

const copiesIn = (dir: number): boolean => dir === DMA_TO_DEVICE || dir === DMA_BIDIRECTIONAL;
const copiesOut = (dir: number): boolean => dir === DMA_FROM_DEVICE || dir === DMA_BIDIRECTIONAL;
const validDir = (dir: number): boolean => dir === DMA_BIDIRECTIONAL || dir === DMA_TO_DEVICE || dir === DMA_FROM_DEVICE;

function poolFull(dev: Device, pool: IoTlbPool | null, size: number, attrs: number): void {
  if (pool) pool.mapErrors++;
  if (attrs & DMA_ATTR_NO_WARN) return;
  const now = performance.now();
  if (pool && now - pool.lastWarn < WARN_INTERVAL_MS) { pool.suppressed++; return; }
  const extra = pool && pool.suppressed ? ` (${pool.suppressed} more since the last warning)` : '';
  if (pool) { pool.lastWarn = now; pool.suppressed = 0; }
  dev_warn(dev, pool
    ? `swiotlb buffer is full (sz: ${size} bytes, total ${pool.size}, used ${pool.usedSlots * IO_TLB_SIZE})${extra}`
    : `DMA: cannot map ${size} bytes: no swiotlb pool (device without DMA, or swiotlb-size 0) and not coherent memory`);
}

/**
 * Maps the first `size` bytes of `ptr`; returns the bus address or DMA_MAPPING_ERROR.
 * (The one mapping path: single, page and sg entries all come here.)
 */
function mapBytes(dev: Device, ptr: Uint8Array, size: number, dir: number, attrs: number, sg: boolean): number {
  if (!validDir(dir) || !Number.isInteger(size) || size <= 0 || size > ptr.length) {
    dmaDebug.badMap(dev, size, ptr.length, dir);
    return DMA_MAPPING_ERROR;
  }
  const s = dmaState(dev);
  const cpu = ptr.length === size ? ptr : ptr.subarray(0, size);
  const site = dmaDebug.site(dev);
  const direct = coherent_lookup(dev, cpu, dir);
  if (direct > 0) {
    const m: DmaMapping = { dma: direct, size, dir, cpu, slot: -1, nslots: 0, site, sg, cpuOwned: false };
    addMapping(s, m);
    dmaDebug.mapped(dev, m);
    return direct;
  }
  const pool = s.pool;
  const n = Math.ceil(size / IO_TLB_SIZE);
  const slot = pool ? pool.alloc(n) : -1;
  if (slot < 0) { poolFull(dev, pool, size, attrs); return DMA_MAPPING_ERROR; }
  const p = pool!;
  const off = slot << IO_TLB_SHIFT;
  if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC)) {
    p.bytes.set(cpu, off);
    p.bouncedBytes += size;
  }
  const dma = p.base + off;
  const m: DmaMapping = { dma, size, dir, cpu, slot, nslots: n, site, sg, cpuOwned: false };
  p.owner[slot] = m; // found again through its slot: see DmaDeviceState.maps
  dmaDebug.mapped(dev, m);
  return dma;
}

/** Unmaps the mapping at `addr`; copies back for FROM_DEVICE/BIDIRECTIONAL unless SKIP_CPU_SYNC. */
function unmapBytes(dev: Device, addr: number, size: number, dir: number, attrs: number, sg: boolean, fn: string): void {
  const s = dmaState(dev);
  const bounced = s.pool?.mappingStartingAt(addr);
  if (bounced) {
    dmaDebug.unmapCheck(dev, bounced, size, dir, sg, fn);
    unbounce(s, bounced, attrs);
    dmaDebug.unmapped(dev, bounced);
    return;
  }
  const list = s.maps.get(addr);
  if (!list || list.length === 0) { dmaDebug.unmapUnknown(dev, addr, size, fn); return; }
  // Prefer the mapping that matches exactly (repeated zero-copy maps share an address).
  let i = list.length - 1;
  for (let j = 0; j < list.length; j++) if (list[j]!.size === size && list[j]!.dir === dir) { i = j; break; }
  const m = list[i]!;
  dmaDebug.unmapCheck(dev, m, size, dir, sg, fn);
  if (list.length === 1) s.maps.delete(addr);
  else list.splice(i, 1);
  if (m.slot >= 0) unbounce(s, m, attrs);
  dmaDebug.unmapped(dev, m);
}

/** Ends a bounced mapping: copies back for FROM_DEVICE/BIDIRECTIONAL unless SKIP_CPU_SYNC, frees the slots. */
function unbounce(s: DmaDeviceState, m: DmaMapping, attrs: number): void {
  const p = s.pool;
  if (!p) return;
  if (copiesOut(m.dir) && !(attrs & DMA_ATTR_SKIP_CPU_SYNC)) {
    const off = m.slot << IO_TLB_SHIFT;
    m.cpu.set(p.bytes.subarray(off, off + m.size));
    p.bouncedBytes += m.size;
  }
  p.free(m.slot, m.nslots);
}

/** The mapping containing bus address `addr` (a pool slot, or an exact zero-copy address). */
function findMapping(s: DmaDeviceState, addr: number): DmaMapping | null {
  const p = s.pool;
  if (p && p.contains(addr)) return p.mappingAt(p.slotOf(addr));
  const list = s.maps.get(addr);
  if (list?.length) return list[list.length - 1]!;
  for (const l of s.maps.values()) {            // a range inside a zero-copy mapping (rare: no copy needed)
    for (const m of l) if (addr > m.dma && addr < m.dma + m.size) return m;
  }
  return null;
}

function syncRange(dev: Device, addr: number, size: number, dir: number, forCpu: boolean, fn: string): void {
  const s = dmaState(dev);
  const m = findMapping(s, addr);
  if (!m) { dmaDebug.syncUnknown(dev, addr, size, fn); return; }
  const off = addr - m.dma;
  if (!dmaDebug.syncCheck(dev, m, off, size, dir, forCpu, fn)) return;
  const n = Math.max(0, Math.min(size, m.size - off));
  if (m.slot < 0 || !s.pool || n === 0) return;
  const poolOff = (m.slot << IO_TLB_SHIFT) + off;
  if (forCpu && copiesOut(m.dir)) {
    m.cpu.set(s.pool.bytes.subarray(poolOff, poolOff + n), off);
    s.pool.bouncedBytes += n;
  } else if (!forCpu && copiesIn(m.dir)) {
    s.pool.bytes.set(m.cpu.subarray(off, off + n), poolOff);
    s.pool.bouncedBytes += n;
  }
}

// ---- single buffers -------------------------------------------------------------------------------

/** dma_map_single(dev, ptr, size, dir): the bus address of the first `size` bytes of `ptr`, or DMA_MAPPING_ERROR. */
export function dma_map_single(dev: Device, ptr: Uint8Array, size: number, dir: number): number {
  return mapBytes(dev, ptr, size, dir, 0, false);
}

export function dma_map_single_attrs(dev: Device, ptr: Uint8Array, size: number, dir: number, attrs: number): number {
  return mapBytes(dev, ptr, size, dir, attrs, false);
}

/** dma_unmap_single(dev, addr, size, dir): ends the mapping; FROM_DEVICE/BIDIRECTIONAL data reaches `ptr`. */
export function dma_unmap_single(dev: Device, addr: number, size: number, dir: number): void {
  unmapBytes(dev, addr, size, dir, 0, false, 'dma_unmap_single');
}

export function dma_unmap_single_attrs(dev: Device, addr: number, size: number, dir: number, attrs: number): void {
  unmapBytes(dev, addr, size, dir, attrs, false, 'dma_unmap_single');
}

/** dma_map_page(dev, page, offset, size, dir): maps `page[offset, offset + size)`. */
export function dma_map_page(dev: Device, page: Uint8Array, offset: number, size: number, dir: number): number {
  if (offset < 0 || offset > page.length) { dmaDebug.badMap(dev, size, page.length - offset, dir); return DMA_MAPPING_ERROR; }
  return mapBytes(dev, page.subarray(offset), size, dir, 0, false);
}

export function dma_map_page_attrs(dev: Device, page: Uint8Array, offset: number, size: number, dir: number, attrs: number): number {
  if (offset < 0 || offset > page.length) { dmaDebug.badMap(dev, size, page.length - offset, dir); return DMA_MAPPING_ERROR; }
  return mapBytes(dev, page.subarray(offset), size, dir, attrs, false);
}

export function dma_unmap_page(dev: Device, addr: number, size: number, dir: number): void {
  unmapBytes(dev, addr, size, dir, 0, false, 'dma_unmap_page');
}

export function dma_unmap_page_attrs(dev: Device, addr: number, size: number, dir: number, attrs: number): void {
  unmapBytes(dev, addr, size, dir, attrs, false, 'dma_unmap_page');
}

/** dma_mapping_error(dev, addr): -ENOMEM when `addr` is DMA_MAPPING_ERROR, else 0. */
export function dma_mapping_error(dev: Device, addr: number): number {
  dmaDebug.checked(dev, addr);
  return addr === DMA_MAPPING_ERROR ? -ENOMEM : 0;
}

// ---- syncs ----------------------------------------------------------------------------------------

/** dma_sync_single_for_cpu(dev, addr, size, dir): the CPU may now read what the device wrote. */
export function dma_sync_single_for_cpu(dev: Device, addr: number, size: number, dir: number): void {
  syncRange(dev, addr, size, dir, true, 'dma_sync_single_for_cpu');
}

/** dma_sync_single_for_device(dev, addr, size, dir): hands the buffer (and the CPU's writes) back to the device. */
export function dma_sync_single_for_device(dev: Device, addr: number, size: number, dir: number): void {
  syncRange(dev, addr, size, dir, false, 'dma_sync_single_for_device');
}

export function dma_sync_single_range_for_cpu(dev: Device, addr: number, offset: number, size: number, dir: number): void {
  syncRange(dev, addr + offset, size, dir, true, 'dma_sync_single_range_for_cpu');
}

export function dma_sync_single_range_for_device(dev: Device, addr: number, offset: number, size: number, dir: number): void {
  syncRange(dev, addr + offset, size, dir, false, 'dma_sync_single_range_for_device');
}

/** dma_need_sync(dev, addr): true when syncs copy (a bounced mapping). */
export function dma_need_sync(dev: Device, addr: number): boolean {
  const p = dmaState(dev).pool;
  return !!p && p.contains(addr);
}

// ---- scatterlists ---------------------------------------------------------------------------------

/**
 * dma_map_sg(dev, sgl, nents, dir): maps every entry (sets `dma_address`/`dma_length`);
 * returns the number of mapped entries, or 0 on failure (nothing stays mapped).
 */
export function dma_map_sg(dev: Device, sgl: SgList, nents: number, dir: number): number {
  return dma_map_sg_attrs(dev, sgl, nents, dir, 0);
}

export function dma_map_sg_attrs(dev: Device, sgl: SgList, nents: number, dir: number, attrs: number): number {
  // Plain loops over the chain (no iterator objects): this runs for every block request.
  let n = 0;
  for (let sg = sg_first(sgl); sg !== null && n < nents; sg = sg_next(sg), n++) {
    const bytes = sg_virt(sg);
    const addr = bytes.length === sg.length ? mapBytes(dev, bytes, sg.length, dir, attrs, true) : DMA_MAPPING_ERROR;
    if (addr === DMA_MAPPING_ERROR) {
      if (bytes.length !== sg.length) dmaDebug.badMap(dev, sg.length, bytes.length, dir);
      let undo = sg_first(sgl);
      for (let i = 0; i < n && undo !== null; i++, undo = sg_next(undo)) {
        unmapBytes(dev, undo.dma_address, undo.dma_length, dir, DMA_ATTR_SKIP_CPU_SYNC, true, 'dma_map_sg');
        undo.dma_length = 0;
      }
      return 0;
    }
    sg.dma_address = addr;
    sg.dma_length = sg.length;
  }
  return n;
}

/** dma_unmap_sg(dev, sgl, nents, dir): `nents` is the count passed to dma_map_sg (not its result). */
export function dma_unmap_sg(dev: Device, sgl: SgList, nents: number, dir: number): void {
  dma_unmap_sg_attrs(dev, sgl, nents, dir, 0);
}

export function dma_unmap_sg_attrs(dev: Device, sgl: SgList, nents: number, dir: number, attrs: number): void {
  let i = 0;
  for (let sg = sg_first(sgl); sg !== null && i < nents; sg = sg_next(sg), i++) {
    if (sg.dma_length !== 0) unmapBytes(dev, sg.dma_address, sg.dma_length, dir, attrs, true, 'dma_unmap_sg');
  }
}

export function dma_sync_sg_for_cpu(dev: Device, sgl: SgList, nents: number, dir: number): void {
  for (const sg of for_each_sg(sgl, nents)) if (sg.dma_length) syncRange(dev, sg.dma_address, sg.dma_length, dir, true, 'dma_sync_sg_for_cpu');
}

export function dma_sync_sg_for_device(dev: Device, sgl: SgList, nents: number, dir: number): void {
  for (const sg of for_each_sg(sgl, nents)) if (sg.dma_length) syncRange(dev, sg.dma_address, sg.dma_length, dir, false, 'dma_sync_sg_for_device');
}

/** dma_map_sgtable(dev, sgt, dir, attrs): 0 (sets `sgt.nents`) or -ENOMEM / -EINVAL. */
export function dma_map_sgtable(dev: Device, sgt: SgTable, dir: number, attrs = 0): number {
  if (!validDir(dir) || dir === DMA_NONE) return -EINVAL;
  const n = dma_map_sg_attrs(dev, sgt.sgl, sgt.orig_nents, dir, attrs);
  if (n === 0) return -ENOMEM;
  sgt.nents = n;
  return 0;
}

export function dma_unmap_sgtable(dev: Device, sgt: SgTable, dir: number, attrs = 0): void {
  dma_unmap_sg_attrs(dev, sgt.sgl, sgt.orig_nents, dir, attrs);
}

export const dma_sync_sgtable_for_cpu = (dev: Device, sgt: SgTable, dir: number): void =>
  dma_sync_sg_for_cpu(dev, sgt.sgl, sgt.orig_nents, dir);
export const dma_sync_sgtable_for_device = (dev: Device, sgt: SgTable, dir: number): void =>
  dma_sync_sg_for_device(dev, sgt.sgl, sgt.orig_nents, dir);

/** dma_max_mapping_size(dev): the largest single mapping (the bounce pool's size; 0 without one). */
export function dma_max_mapping_size(dev: Device): number {
  return dmaState(dev).pool?.size ?? 0;
}
