/**
 * @module page-allocator
 * First-fit allocator over a range of physical addresses, page-granular, with a sorted free
 * list that coalesces on free. It hands out address ranges only; PhysicalMemory owns the bytes.
 * Running out is not an error: `alloc` returns null (like `dma_alloc_coherent`).
 */

export const PAGE_SIZE = 4096;

/** One live allocation. `size` is the requested size rounded up to whole pages. */
export interface DmaAllocation {
  readonly addr: number;
  readonly size: number;
  readonly owner: string;
}

export interface AllocatorStats {
  /** Bytes the allocator manages. */
  readonly total: number;
  readonly used: number;
  readonly free: number;
  /** The largest request (page-aligned) that can currently succeed. */
  readonly largestFree: number;
  readonly allocations: number;
}

interface Span {
  addr: number;
  size: number;
}

const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;

export class PageAllocator {
  /** Free spans sorted by address; never adjacent (coalesced). */
  private readonly freeList: Span[];
  private readonly live = new Map<number, DmaAllocation>();

  /** Manages [base, limit); both must be page-aligned. */
  constructor(private readonly base: number, private readonly limit: number) {
    if (base % PAGE_SIZE !== 0 || limit % PAGE_SIZE !== 0 || limit <= base) {
      throw new RangeError(`page allocator range 0x${base.toString(16)}..0x${limit.toString(16)} is not page-aligned and non-empty`);
    }
    this.freeList = [{ addr: base, size: limit - base }];
  }

  /**
   * Reserves `size` bytes (rounded up to pages) at an `align`-aligned address (a power of two;
   * smaller than a page means a page). Returns null when no free span fits.
   * Throws RangeError for a non-positive size or a bad alignment (caller bugs).
   */
  alloc(size: number, align = PAGE_SIZE, owner = 'anonymous'): DmaAllocation | null {
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`alloc: size ${size} is not a positive integer`);
    if (!Number.isSafeInteger(align) || align <= 0 || (align & (align - 1)) !== 0) {
      throw new RangeError(`alloc: alignment ${align} is not a power of two`);
    }
    const bytes = alignUp(size, PAGE_SIZE);
    const a = Math.max(align, PAGE_SIZE);
    for (let i = 0; i < this.freeList.length; i++) {
      const span = this.freeList[i]!;
      const start = alignUp(span.addr, a);
      const end = span.addr + span.size;
      if (start + bytes > end) continue;
      // Split the span into [span.addr, start) and [start + bytes, end), dropping empty parts.
      const parts: Span[] = [];
      if (start > span.addr) parts.push({ addr: span.addr, size: start - span.addr });
      if (start + bytes < end) parts.push({ addr: start + bytes, size: end - start - bytes });
      this.freeList.splice(i, 1, ...parts);
      const allocation = Object.freeze({ addr: start, size: bytes, owner });
      this.live.set(start, allocation);
      return allocation;
    }
    return null;
  }

  /** Releases the allocation starting at `addr`; false if there is none (double free). */
  free(addr: number): boolean {
    const a = this.live.get(addr);
    if (a === undefined) return false;
    this.live.delete(addr);
    this.insertFree({ addr: a.addr, size: a.size });
    return true;
  }

  /** Live allocations sorted by address. */
  allocations(): DmaAllocation[] {
    return [...this.live.values()].sort((x, y) => x.addr - y.addr);
  }

  stats(): AllocatorStats {
    const free = this.freeList.reduce((s, f) => s + f.size, 0);
    const largestFree = this.freeList.reduce((m, f) => Math.max(m, f.size), 0);
    const total = this.limit - this.base;
    return { total, used: total - free, free, largestFree, allocations: this.live.size };
  }

  /** Inserts a span in address order and merges it with touching neighbours. */
  private insertFree(span: Span): void {
    const list = this.freeList;
    let lo = 0, hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.addr < span.addr) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, span);
    const next = list[lo + 1];
    if (next !== undefined && span.addr + span.size === next.addr) {
      span.size += next.size;
      list.splice(lo + 1, 1);
    }
    const prev = list[lo - 1];
    if (prev !== undefined && prev.addr + prev.size === span.addr) {
      prev.size += span.size;
      list.splice(lo, 1);
    }
  }
}
