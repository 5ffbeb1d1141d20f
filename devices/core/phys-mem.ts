/**
 * @module phys-mem
 * The machine's physical memory: one shared region in which DMA addresses are byte offsets.
 * It is backed by a native memfd by default, so an IC2 driver process can map the very same
 * bytes (pass `fd` to the child; `native().mapFd(fd, size)` there, then
 * `PhysicalMemory.attach(buffer)`). The owning side also allocates DMA memory
 * (`dma_alloc_coherent`): page-granular first fit, address 0 never handed out, so 0 can mean
 * "no DMA address". Devices never touch this directly: they go through a DmaSpace (dma.ts).
 *
 * @example
 * const mem = new PhysicalMemory({ size: 16 << 20 });
 * const buf = mem.alloc(8192, 4096, 'ufs0')!;     // { addr: 0x1000, size: 0x2000, owner }
 * mem.view(buf.addr, buf.size).fill(0xff);        // the CPU side of the buffer
 * mem.free(buf.addr);
 */
import { closeSync } from 'node:fs';
import { native } from '../native/index.js';
import { PAGE_SIZE, PageAllocator, type AllocatorStats, type DmaAllocation } from './page-allocator.js';

export interface PhysicalMemoryOptions {
  /** Bytes; a multiple of 4 KiB, at least two pages. Default 64 MiB. */
  readonly size?: number;
  /** `memfd` (default): shareable across processes; `heap`: a plain SharedArrayBuffer (threads only). */
  readonly backing?: 'memfd' | 'heap';
  /** memfd name, visible in /proc/<pid>/maps. */
  readonly name?: string;
  /** Map an existing region instead of creating one (the remote side): no allocator. */
  readonly buffer?: SharedArrayBuffer;
}

export const DEFAULT_PHYS_MEM_SIZE = 64 << 20;

export class PhysicalMemory {
  readonly size: number;
  readonly buffer: SharedArrayBuffer;
  /** The whole region as bytes. */
  readonly bytes: Uint8Array;
  private readonly allocator: PageAllocator | null;
  private memfd: number | null;

  constructor(options: PhysicalMemoryOptions = {}) {
    const size = options.size ?? options.buffer?.byteLength ?? DEFAULT_PHYS_MEM_SIZE;
    if (!Number.isSafeInteger(size) || size < 2 * PAGE_SIZE || size % PAGE_SIZE !== 0) {
      throw new RangeError(`physical memory size ${size} must be a multiple of ${PAGE_SIZE} and at least two pages`);
    }
    if (options.buffer !== undefined) {
      if (options.buffer.byteLength < size) throw new RangeError(`buffer of ${options.buffer.byteLength} bytes is smaller than ${size}`);
      this.buffer = options.buffer;
      this.memfd = null;
      this.allocator = null;
    } else if ((options.backing ?? 'memfd') === 'memfd') {
      const n = native();
      this.memfd = n.memfdCreate(options.name ?? 'hmdrv-physmem', size);
      this.buffer = n.mapFd(this.memfd, size);
      this.allocator = new PageAllocator(PAGE_SIZE, size);
    } else {
      this.buffer = new SharedArrayBuffer(size);
      this.memfd = null;
      this.allocator = new PageAllocator(PAGE_SIZE, size);
    }
    this.size = size;
    this.bytes = new Uint8Array(this.buffer, 0, size);
  }

  /** Views memory created elsewhere (an IC2 child mapping the owner's memfd). Cannot allocate. */
  static attach(buffer: SharedArrayBuffer, size = buffer.byteLength): PhysicalMemory {
    return new PhysicalMemory({ buffer, size });
  }

  /** The memfd behind `buffer` (hand it to an IC2 process), or null: heap-backed, attached or closed. */
  get fd(): number | null {
    return this.memfd;
  }

  /** True on the side that owns the allocator. */
  get canAllocate(): boolean {
    return this.allocator !== null;
  }

  /**
   * Allocates zeroed DMA memory: `size` rounded up to pages, `align` a power of two (at least a
   * page). Returns null when memory is exhausted. Throws on an attached region (no allocator).
   */
  alloc(size: number, align = PAGE_SIZE, owner = 'anonymous'): DmaAllocation | null {
    const a = this.requireAllocator().alloc(size, align, owner);
    if (a !== null) this.bytes.fill(0, a.addr, a.addr + a.size);
    return a;
  }

  /** Frees the allocation at `addr`; false if nothing is allocated there. */
  free(addr: number): boolean {
    return this.requireAllocator().free(addr);
  }

  /** Live allocations sorted by address (diagnostics, leak checks). */
  allocations(): DmaAllocation[] {
    return this.requireAllocator().allocations();
  }

  stats(): AllocatorStats {
    return this.requireAllocator().stats();
  }

  /**
   * The CPU side's view of [addr, addr + len) (the kernel mapping a DMA buffer). Unchecked
   * against grants: devices must use a DmaSpace. Throws RangeError outside memory.
   */
  view(addr: number, len: number): Uint8Array {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(len) || addr < 0 || len < 0 || addr > this.size - len) {
      throw new RangeError(`physical range 0x${addr.toString(16)}+${len} is outside memory (0x${this.size.toString(16)} bytes)`);
    }
    return new Uint8Array(this.buffer, addr, len);
  }

  /** Closes the memfd (existing mappings stay valid until collected). */
  close(): void {
    if (this.memfd !== null) {
      closeSync(this.memfd);
      this.memfd = null;
    }
  }

  private requireAllocator(): PageAllocator {
    if (this.allocator === null) throw new Error('this physical memory is attached (remote side): it has no allocator');
    return this.allocator;
  }
}
