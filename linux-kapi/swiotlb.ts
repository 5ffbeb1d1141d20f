/**
 * @module linux/swiotlb.h
 * The bounce-buffer pool behind the streaming DMA API (dma-mapping.ts), and the per-device DMA
 * state it shares with coherent allocations (dma.ts).
 *
 * Why a bounce pool: driver memory (`kmalloc`, any `Uint8Array`) lives in the container's heap,
 * which the device cannot reach; only coherent DMA memory (machine physical pages granted in the
 * device's IOMMU) is device-visible. `dma_map_single` must be synchronous, as on Linux, and
 * allocating device-visible memory is an upcall (async). So every DMA-capable device gets a pool
 * of coherent memory allocated **before its probe** (module.ts), carved into 2 KiB slots
 * (`IO_TLB_SIZE`, as Linux's swiotlb). A streaming mapping takes consecutive slots and copies
 * the driver's bytes in (at map, and at `sync_for_device`) and out (at unmap, and at
 * `sync_for_cpu`), exactly as swiotlb does on Linux for devices that cannot reach all memory.
 *
 * Differs from Linux, and why:
 * - The pool is per device (Linux: one global pool, plus optional restricted pools per device),
 *   because IOMMU grants are per device: the whole pool is granted to its device, bidirectional,
 *   for the life of the binding. Size: the platform file's `swiotlb-size` property in bytes
 *   (`0` disables the pool), default 4 MiB; if the machine cannot give that much, the size is
 *   halved down to 64 KiB before giving up (then only the zero-copy path works).
 * - A mapping copies the driver's buffer into its slots whatever the direction (Linux does the
 *   same since 5.19): a device that writes only part of a `DMA_FROM_DEVICE` buffer must not get
 *   stale bytes of an earlier mapping copied back over the rest at unmap.
 * - Slots are allocated first-fit from a rotating index; a mapping of `n` bytes takes
 *   `ceil(n / 2048)` consecutive slots and starts on a slot boundary (2 KiB aligned), with no
 *   128-slot segment limit: any size up to the pool fits if the pool has room.
 */
import type { DriverEnv } from '../framework/driver-port.js';
import type { Device } from './device.js';

/** Linux IO_TLB_SHIFT / IO_TLB_SIZE: the slot size of the bounce pool. */
export const IO_TLB_SHIFT = 11;
export const IO_TLB_SIZE = 1 << IO_TLB_SHIFT;
/** Default pool per device (bytes); override with the `swiotlb-size` device property. */
export const SWIOTLB_DEFAULT_SIZE = 4 << 20;
/** Smallest pool tried before giving up. */
export const SWIOTLB_MIN_SIZE = 64 << 10;

/** A coherent allocation of the device (dma_alloc_coherent), for the zero-copy path. */
export interface CoherentRecord {
  readonly bytes: Uint8Array;
  readonly dma: number;
  /** 0 bidirectional, 1 to-device, 2 from-device: the IOMMU grant's direction. */
  readonly dir: number;
}

/** One live streaming mapping. */
export interface DmaMapping {
  readonly dma: number;
  readonly size: number;
  readonly dir: number;
  /** The driver's bytes (exactly `size` long). */
  readonly cpu: Uint8Array;
  /** First pool slot, or -1 for a zero-copy mapping of coherent memory. */
  readonly slot: number;
  readonly nslots: number;
  /** Where it was mapped (debug mode only, else ''). */
  readonly site: string;
  /** Mapped through dma_map_sg (for the debug mode's single/sg mismatch check). */
  readonly sg: boolean;
  /** Set while the CPU owns the buffer after a sync_for_cpu (debug mode). */
  cpuOwned: boolean;
  /** Debug mode: the driver's bytes when the device got them (map, sync_for_device). */
  snapshot?: Uint8Array | null;
  /** Debug mode: dma_mapping_error() was called on the address. */
  checked?: boolean;
}

export class IoTlbPool {
  readonly nslots: number;
  /** Owner mapping of each slot (at its first slot only), null when free. */
  readonly owner: (DmaMapping | null)[];
  /** 1 where the slot is used. */
  private readonly used: Uint8Array;
  private index = 0;
  usedSlots = 0;
  maxUsedSlots = 0;
  /** Bytes copied in and out (for stats and docs). */
  bouncedBytes = 0;
  mapErrors = 0;
  /** Rate limit for the "pool full" warning. */
  lastWarn = -Infinity;
  suppressed = 0;

  constructor(readonly base: number, readonly bytes: Uint8Array) {
    this.nslots = Math.floor(bytes.length / IO_TLB_SIZE);
    this.owner = new Array<DmaMapping | null>(this.nslots).fill(null);
    this.used = new Uint8Array(this.nslots);
  }

  get size(): number { return this.nslots * IO_TLB_SIZE; }

  /** True when `addr` is a bus address inside the pool. */
  contains(addr: number): boolean { return addr >= this.base && addr < this.base + this.size; }

  /** Slot of a bus address inside the pool. */
  slotOf(addr: number): number { return (addr - this.base) >>> IO_TLB_SHIFT; }

  /** First fit from the rotating index; the first slot or -1. */
  alloc(n: number): number {
    if (n <= 0 || n > this.nslots - this.usedSlots) return -1;
    const total = this.nslots;
    let start = this.index;
    for (let scanned = 0; scanned < total;) {
      if (start + n > total) { scanned += total - start; start = 0; continue; }
      let i = 0;
      while (i < n && this.used[start + i] === 0) i++;
      if (i === n) {
        this.used.fill(1, start, start + n);
        this.usedSlots += n;
        if (this.usedSlots > this.maxUsedSlots) this.maxUsedSlots = this.usedSlots;
        this.index = start + n >= total ? 0 : start + n;
        return start;
      }
      scanned += i + 1;
      start += i + 1;
      if (start >= total) start = 0;
    }
    return -1;
  }

  free(slot: number, n: number): void {
    this.used.fill(0, slot, slot + n);
    this.owner[slot] = null;
    this.usedSlots -= n;
  }

  isUsed(slot: number): boolean { return this.used[slot] === 1; }

  /** The bounced mapping starting exactly at bus address `addr`, or null. */
  mappingStartingAt(addr: number): DmaMapping | null {
    if (!this.contains(addr) || ((addr - this.base) & (IO_TLB_SIZE - 1)) !== 0) return null;
    return this.owner[this.slotOf(addr)] ?? null;
  }

  /** Every live bounced mapping. */
  *mappings(): Generator<DmaMapping> {
    for (const m of this.owner) if (m) yield m;
  }

  /** The mapping whose slots contain `slot`, or null. */
  mappingAt(slot: number): DmaMapping | null {
    for (let s = slot; s >= 0 && this.used[s] === 1; s--) {
      const m = this.owner[s];
      if (m) return s + m.nslots > slot ? m : null;
    }
    return null;
  }
}

/** Everything the kapi keeps about one device's DMA. */
export interface DmaDeviceState {
  pool: IoTlbPool | null;
  /** Pool allocation in progress (swiotlb_init_dev). */
  poolPending: Promise<number> | null;
  readonly coherent: CoherentRecord[];
  /** The buffers coherent allocations live in, with how many live in each. */
  readonly coherentBuffers: Map<ArrayBufferLike, number>;
  /**
   * Live zero-copy streaming mappings by bus address (several for repeated maps of the same
   * bytes). Bounced mappings are found through their pool slot (`pool.owner`) instead: no map
   * insert and delete per request.
   */
  readonly maps: Map<number, DmaMapping[]>;
  /** Recently unmapped addresses (debug mode: use after unmap, double unmap). */
  readonly unmapped: Map<number, { size: number; site: string }>;
}

const states = new WeakMap<Device, DmaDeviceState>();

/** @internal The device's DMA state (created on first use). */
export function dmaState(dev: Device): DmaDeviceState {
  let s = states.get(dev);
  if (!s) {
    s = { pool: null, poolPending: null, coherent: [], coherentBuffers: new Map(), maps: new Map(), unmapped: new Map() };
    states.set(dev, s);
  }
  return s;
}

/** @internal Lists a streaming mapping under its bus address in `s.maps` (see DmaDeviceState). */
export function addMapping(s: DmaDeviceState, m: DmaMapping): void {
  const list = s.maps.get(m.dma);
  if (list) list.push(m); else s.maps.set(m.dma, [m]);
}

/** @internal dma.ts: a coherent allocation (for the zero-copy path of dma_map_*). */
export function coherent_added(dev: Device, bytes: Uint8Array, dma: number, dir: number): void {
  const s = dmaState(dev);
  s.coherent.push({ bytes, dma, dir });
  s.coherentBuffers.set(bytes.buffer, (s.coherentBuffers.get(bytes.buffer) ?? 0) + 1);
}

/** @internal dma.ts: a coherent allocation was freed. */
export function coherent_removed(dev: Device, dma: number): void {
  const s = dmaState(dev);
  const c = s.coherent;
  const i = c.findIndex((r) => r.dma === dma);
  if (i < 0) return;
  const buf = c[i]!.bytes.buffer;
  c.splice(i, 1);
  const n = (s.coherentBuffers.get(buf) ?? 1) - 1;
  if (n > 0) s.coherentBuffers.set(buf, n); else s.coherentBuffers.delete(buf);
}

/**
 * The bus address of `bytes` when they lie inside one of the device's coherent allocations
 * whose IOMMU grant allows `dir`, else -1.
 */
export function coherent_lookup(dev: Device, bytes: Uint8Array, dir: number): number {
  // A buffer no coherent allocation lives in (a heap buffer: the usual streaming case) is turned
  // away without walking the list.
  const buf = bytes.buffer;
  const s = states.get(dev);
  if (!s || !s.coherentBuffers.has(buf)) return -1;
  for (const r of s.coherent) {
    if (r.bytes.buffer !== buf) continue;
    const off = bytes.byteOffset - r.bytes.byteOffset;
    if (off < 0 || off + bytes.length > r.bytes.length) continue;
    if (r.dir !== 0 && r.dir !== dir) continue;
    return r.dma + off;
  }
  return -1;
}

function poolSizeOf(dev: Device): number {
  const v = dev.handle.spec.properties['swiotlb-size'];
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : SWIOTLB_DEFAULT_SIZE;
}

/** True when the device can do DMA: it has a model and MMIO windows, and the platform a machine. */
export function dev_can_dma(dev: Device): boolean {
  const spec = dev.handle.spec;
  return spec.reg.length > 0 && typeof spec.model === 'string' && dev.env.mmio !== null;
}

async function allocPool(env: DriverEnv, dev: Device, want: number): Promise<IoTlbPool | null> {
  for (let size = Math.ceil(want / 4096) * 4096; size >= SWIOTLB_MIN_SIZE; size = Math.floor(size / 2 / 4096) * 4096) {
    try {
      const b = await env.dmaAlloc(dev.binding, size, 'bidirectional');
      return new IoTlbPool(b.addr, b.bytes.subarray(0, size));
    } catch { /* try smaller */ }
  }
  return null;
}

/**
 * Allocates the device's bounce pool (module.ts calls it before probe for DMA-capable devices).
 * `size` defaults to the `swiotlb-size` property or 4 MiB. Resolves the pool size in bytes, 0
 * when disabled or when no memory could be had (logged). The pool is freed with the binding.
 */
export function swiotlb_init_dev(dev: Device, size = poolSizeOf(dev)): Promise<number> {
  const s = dmaState(dev);
  if (s.pool) return Promise.resolve(s.pool.size);
  if (s.poolPending) return s.poolPending;
  if (size === 0) return Promise.resolve(0);
  s.poolPending = (async () => {
    const pool = await allocPool(dev.env, dev, size);
    s.poolPending = null;
    if (!pool) {
      dev.env.log(4, `swiotlb: no memory for a bounce pool (wanted ${size} bytes); streaming DMA of heap buffers will fail`, dev.binding);
      return 0;
    }
    s.pool = pool;
    // Freed last (devres runs newest first and this is registered before probe).
    dev.devres.push(async () => {
      // Mappings the driver left behind stay listed for the unbind check (debug mode's leak report).
      for (const m of pool.mappings()) addMapping(s, m);
      if (s.pool === pool) s.pool = null;
      await dev.env.dmaFree(dev.binding, pool.base).catch(() => undefined);
    });
    return pool.size;
  })();
  return s.poolPending;
}

/** The bounce pool's figures (null without a pool): slots, used, high-water mark, bytes copied. */
export function swiotlb_stats(dev: Device): { size: number; slots: number; used: number; maxUsed: number; bounced: number; mapErrors: number } | null {
  const p = states.get(dev)?.pool;
  return p ? { size: p.size, slots: p.nslots, used: p.usedSlots, maxUsed: p.maxUsedSlots, bounced: p.bouncedBytes, mapErrors: p.mapErrors } : null;
}

export const is_swiotlb_active = (dev: Device): boolean => (states.get(dev)?.pool ?? null) !== null;
