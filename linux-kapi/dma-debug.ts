/**
 * @module DMA API debugging (Linux CONFIG_DMA_API_DEBUG, kernel/dma/debug.c)
 * Checks on the streaming DMA calls of dma-mapping.ts. Reports are Linux's
 * ("DMA-API: device driver frees DMA memory with different size [device address=0x...] ..."),
 * logged with the device's name at KERN_ERR (KERN_WARNING for the map-error check) and the
 * driver's call site, once per kind and site, and counted (`kapiBugs()`).
 *
 * Always on (cheap, and the kapi could not do anything sensible otherwise): mapping an invalid
 * size or direction; unmapping or syncing an address that is not mapped; unmapping with a
 * different size, direction or function (single vs sg) than the mapping.
 *
 * Debug mode only (debug.ts; they capture stacks or copy buffers):
 * - the site of every mapping (named in the reports, and in unbind's "still mapped" list);
 * - "device driver frees DMA memory twice" / "syncs DMA memory after it was unmapped", naming
 *   where it was unmapped;
 * - "device driver failed to check map error" at unmap of a single mapping whose
 *   `dma_mapping_error()` was never called;
 * - "device driver syncs DMA memory with different direction" and "outside the mapped range";
 * - "CPU wrote to a DMA buffer while the device owned it": a bounced buffer the driver changed
 *   between map (or sync_for_device) and unmap (or sync_for_cpu). With swiotlb that write is
 *   lost (TO_DEVICE: the device never sees it) or overwritten (FROM_DEVICE: the unmap copies
 *   the device's data over it); on Linux it is a cache-coherency bug;
 * - "device driver writes an unmapped DMA address to the device": a `writel`/`writew` of
 *   exactly a bus address of the device's bounce pool that was unmapped and not mapped again
 *   (a heuristic: the value is compared, not its meaning).
 */
import type { Device } from './device.js';
import { kapi_report } from './bug.js';
import { debug_site, kapi_debug_enabled } from './debug.js';
import { dmaState, type DmaMapping } from './swiotlb.js';
import { mmioHooks, type IoMem } from './io.js';

const DIR = ['DMA_BIDIRECTIONAL', 'DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_NONE'];
const dirName = (d: number): string => DIR[d] ?? `invalid direction ${d}`;
const hex = (a: number): string => `0x${a.toString(16).padStart(8, '0')}`;
/** Unmapped addresses remembered per device (double unmap, use after unmap). */
const HISTORY = 4096;

function report(dev: Device, kind: string, msg: string, site?: string, level: 3 | 4 = 3): void {
  kapi_report(kind, level, `DMA-API: ${dev.init_name}: ${msg}`, { env: dev.env, binding: dev.binding, ...(site !== undefined ? { site } : {}) });
}

const kind = (m: DmaMapping): string => (m.sg ? 'scatter-gather' : 'single');

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  if (Buffer.from(a.buffer, a.byteOffset, a.length).equals(b)) return -1;   // native compare, then find where
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** The "CPU touched a buffer the device owned" check (bounced mappings, debug mode). */
function checkCpuTouch(dev: Device, m: DmaMapping, when: string): void {
  if (!m.snapshot || m.cpuOwned) return;
  const at = firstDiff(m.cpu, m.snapshot);
  if (at < 0) return;
  const effect = m.dir === 1 ? 'the device never saw the change' : 'the device\'s data overwrites it at unmap';
  report(dev, 'dma-cpu-touch', `CPU wrote to a ${dirName(m.dir)} buffer while the device owned it [device address=${hex(m.dma)}] `
    + `[size=${m.size} bytes] [first changed byte at offset ${at}] (${effect}; sync with dma_sync_single_for_cpu/for_device, `
    + `detected at ${when}; mapped at ${m.site || 'unknown site'})`);
}

function onMmioWrite(io: IoMem, off: number, value: number): void {
  const dev = io.owner;
  if (!dev || !kapi_debug_enabled(dev.env)) return;
  const s = dmaState(dev);
  const p = s.pool;
  if (!p || !p.contains(value) || p.isUsed(p.slotOf(value))) return;
  const old = s.unmapped.get(value);
  if (!old) return;
  report(dev, 'dma-use-after-unmap', `device driver writes an unmapped DMA address to the device (use after dma_unmap) `
    + `[device address=${hex(value)}] [register offset 0x${off.toString(16)}] (unmapped at ${old.site || 'unknown site'})`);
}

export const dmaDebug = {
  site(dev: Device): string { return debug_site(dev.env); },

  badMap(dev: Device, size: number, avail: number, dir: number): void {
    report(dev, 'dma-bad-map', `device driver maps invalid memory [size=${size} bytes] [buffer=${avail} bytes] [${dirName(dir)}]`);
  },

  mapped(dev: Device, m: DmaMapping): void {
    if (!kapi_debug_enabled(dev.env)) return;
    mmioHooks.write ??= onMmioWrite;
    dmaState(dev).unmapped.delete(m.dma);
    m.checked = false;
    if (m.slot >= 0) m.snapshot = m.cpu.slice();
  },

  checked(dev: Device, addr: number): void {
    const s = dmaState(dev);
    const bounced = s.pool?.mappingStartingAt(addr);
    if (bounced) bounced.checked = true;
    const list = s.maps.get(addr);
    if (list) for (const m of list) m.checked = true;
  },

  unmapUnknown(dev: Device, addr: number, size: number, fn: string): void {
    const old = kapi_debug_enabled(dev.env) ? dmaState(dev).unmapped.get(addr) : undefined;
    if (old) {
      report(dev, 'dma-double-unmap', `device driver frees DMA memory twice [device address=${hex(addr)}] [size=${size} bytes] `
        + `(${fn}; first unmapped at ${old.site || 'unknown site'})`);
    } else {
      report(dev, 'dma-unmap-unknown', `device driver tries to free DMA memory it has not allocated [device address=${hex(addr)}] `
        + `[size=${size} bytes] (${fn})`);
    }
  },

  unmapCheck(dev: Device, m: DmaMapping, size: number, dir: number, sg: boolean, fn: string): void {
    if (m.size !== size) {
      report(dev, 'dma-unmap-size', `device driver frees DMA memory with different size [device address=${hex(m.dma)}] `
        + `[map size=${m.size} bytes] [unmap size=${size} bytes] (${fn})`);
    }
    if (m.dir !== dir) {
      report(dev, 'dma-unmap-dir', `device driver frees DMA memory with different direction [device address=${hex(m.dma)}] `
        + `[size=${m.size} bytes] [mapped with ${dirName(m.dir)}] [unmapped with ${dirName(dir)}] (${fn})`);
    }
    if (m.sg !== sg) {
      report(dev, 'dma-unmap-fn', `device driver frees DMA memory with wrong function [device address=${hex(m.dma)}] `
        + `[size=${m.size} bytes] [mapped as ${kind(m)}] [unmapped as ${sg ? 'scatter-gather' : 'single'}] (${fn})`);
    }
    if (!kapi_debug_enabled(dev.env)) return;
    if (!m.sg && m.checked === false) {
      report(dev, 'dma-map-error-unchecked', `device driver failed to check map error [device address=${hex(m.dma)}] `
        + `[size=${m.size} bytes] [mapped as single] (mapped at ${m.site || 'unknown site'})`, m.site, 4);
    }
    if (fn !== 'dma_map_sg') checkCpuTouch(dev, m, fn);
  },

  unmapped(dev: Device, m: DmaMapping): void {
    if (!kapi_debug_enabled(dev.env)) return;
    const h = dmaState(dev).unmapped;
    if (h.size >= HISTORY) h.delete(h.keys().next().value!);
    h.set(m.dma, { size: m.size, site: debug_site(dev.env) });
  },

  syncUnknown(dev: Device, addr: number, size: number, fn: string): void {
    const old = kapi_debug_enabled(dev.env) ? dmaState(dev).unmapped.get(addr) : undefined;
    report(dev, old ? 'dma-sync-after-unmap' : 'dma-sync-unknown', old
      ? `device driver syncs DMA memory after it was unmapped [device address=${hex(addr)}] [size=${size} bytes] (${fn}; unmapped at ${old.site || 'unknown site'})`
      : `device driver tries to sync DMA memory it has not allocated [device address=${hex(addr)}] [size=${size} bytes] (${fn})`);
  },

  /** Returns false when the sync must not copy (nothing of it lies in the mapping). */
  syncCheck(dev: Device, m: DmaMapping, off: number, size: number, dir: number, forCpu: boolean, fn: string): boolean {
    if (!kapi_debug_enabled(dev.env)) return off < m.size;
    if (off + size > m.size) {
      report(dev, 'dma-sync-range', `device driver syncs DMA memory outside allocated range [device address=${hex(m.dma)}] `
        + `[allocation size=${m.size} bytes] [sync offset+size=${off + size}] (${fn})`);
    }
    if (m.dir !== 0 && dir !== m.dir) {
      report(dev, 'dma-sync-dir', `device driver syncs DMA memory with different direction [device address=${hex(m.dma)}] `
        + `[size=${m.size} bytes] [mapped with ${dirName(m.dir)}] [synced with ${dirName(dir)}] (${fn})`);
    }
    if (forCpu) {
      checkCpuTouch(dev, m, fn);
      m.cpuOwned = true;
    } else if (m.slot >= 0) {
      // The CPU hands the buffer back: what it holds now is what the device gets.
      m.cpuOwned = false;
      m.snapshot = m.cpu.slice();
    }
    return off < m.size;
  },
};

/** Streaming mappings still live on `dev` (the debug mode's unbind check). */
export function live_dma_mappings(dev: Device): { dma: number; size: number; dir: string; site: string; bounced: boolean }[] {
  const out: { dma: number; size: number; dir: string; site: string; bounced: boolean }[] = [];
  const s = dmaState(dev);
  const all = [...(s.pool?.mappings() ?? []), ...[...s.maps.values()].flat()].sort((a, b) => a.dma - b.dma);
  for (const m of all) out.push({ dma: m.dma, size: m.size, dir: dirName(m.dir), site: m.site, bounced: m.slot >= 0 });
  return out;
}
