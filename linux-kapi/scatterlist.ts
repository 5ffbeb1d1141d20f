/**
 * @module linux/scatterlist.h
 * `struct scatterlist` and `struct sg_table`: a chain of byte ranges for one DMA transfer.
 * `sg_init_table`, `sg_init_one`, `sg_set_buf`, `sg_set_page`, `sg_next`, `for_each_sg`,
 * `sg_mark_end`, `sg_chain`, `sg_nents`, `sg_dma_address`, `sg_dma_len`,
 * `sg_copy_to_buffer`/`sg_copy_from_buffer` (and the `sg_pcopy_*` variants with a skip),
 * `sg_alloc_table`/`sg_free_table`. Map them with `dma_map_sg` (dma-mapping.ts).
 *
 * ```ts
 * const sgl: Scatterlist[] = [];
 * sg_init_table(sgl, 2);
 * sg_set_buf(sgl[0]!, hdr);                    // a Uint8Array
 * sg_set_buf(sgl[1]!, payload, len);
 * const n = dma_map_sg(dev, sgl, 2, DMA_TO_DEVICE);
 * if (n === 0) return -ENOMEM;
 * for (const sg of for_each_sg(sgl, n)) push_desc(sg_dma_address(sg), sg_dma_len(sg));
 * ```
 *
 * Differs from Linux, and why:
 * - **A page is a `Uint8Array`**: there are no struct pages. An entry's bytes are
 *   `page.subarray(offset, offset + length)` (`sg_virt(sg)`); `sg_set_buf(sg, buf, len)` sets
 *   `page = buf`, `offset = 0`. There is no PAGE_SIZE limit on an entry.
 * - A "pointer to the first entry" (`struct scatterlist *sgl`) may be the first `Scatterlist` or
 *   the array holding the table: every function taking `sgl` accepts both. The entries are
 *   linked (`sg_next`), so chains (`sg_chain`) work as on Linux; a chain link is not an entry
 *   and is skipped by `sg_next`.
 * - `sg_init_table(sgl, nents)` fills the array with fresh entries (a C array of structs exists
 *   already; here the objects must be made). `sg_alloc_table` cannot fail for memory.
 * - `sg_dma_address`/`sg_dma_len` are functions (set `sg.dma_address`/`sg.dma_length`
 *   directly, as the macros' lvalue use does). Lengths are plain byte counts.
 */
import { EINVAL } from './errno.js';

export class Scatterlist {
  /** The memory ("page") the entry points into. */
  page: Uint8Array | null = null;
  offset = 0;
  length = 0;
  /** Set by dma_map_sg: the bus address and length the device uses. */
  dma_address = 0;
  dma_length = 0;
  /** @internal Next entry of the table (or the chain link's target), null after the last. */
  _next: Scatterlist | null = null;
  /** @internal sg_mark_end: this is the last entry. */
  _end = false;
  /** @internal sg_chain: this slot is a link to another table, not an entry. */
  _chain: Scatterlist | null = null;
}
export type scatterlist = Scatterlist;

/** A table, or a pointer to its first entry. */
export type SgList = Scatterlist | readonly Scatterlist[];

/** @internal The first entry of `sgl` (null for an empty array), following a leading chain link. */
export function sg_first(sgl: SgList): Scatterlist | null {
  let sg: Scatterlist | null = Array.isArray(sgl) ? ((sgl as readonly Scatterlist[])[0] ?? null) : (sgl as Scatterlist);
  while (sg?._chain) sg = sg._chain;
  return sg;
}

/** sg_init_table(sgl, nents): `nents` fresh, linked entries in `sgl[0..nents)`, the last marked end. */
export function sg_init_table(sgl: Scatterlist[], nents: number): void {
  for (let i = 0; i < nents; i++) sgl[i] = new Scatterlist();
  for (let i = 0; i + 1 < nents; i++) sgl[i]!._next = sgl[i + 1]!;
  if (nents > 0) sgl[nents - 1]!._end = true;
}

/** sg_set_page(sg, page, len, offset): the entry covers `page[offset, offset + len)`. */
export function sg_set_page(sg: Scatterlist, page: Uint8Array, len: number, offset: number): void {
  sg.page = page;
  sg.offset = offset;
  sg.length = len;
}

/** sg_set_buf(sg, buf, buflen = buf.length): the entry covers the first `buflen` bytes of `buf`. */
export function sg_set_buf(sg: Scatterlist, buf: Uint8Array, buflen = buf.length): void {
  sg_set_page(sg, buf, buflen, 0);
}

/** sg_init_one(sg, buf, buflen): a one-entry table. */
export function sg_init_one(sg: Scatterlist, buf: Uint8Array, buflen = buf.length): void {
  sg.page = null; sg.offset = sg.length = sg.dma_address = sg.dma_length = 0;
  sg._next = sg._chain = null;
  sg._end = true;
  sg_set_buf(sg, buf, buflen);
}

export const sg_page = (sg: Scatterlist): Uint8Array | null => sg.page;

/** sg_virt(sg): the entry's bytes (`page.subarray(offset, offset + length)`). */
export function sg_virt(sg: Scatterlist): Uint8Array {
  const page = sg.page;
  if (!page) return new Uint8Array(0);
  return sg.offset === 0 && sg.length === page.length ? page : page.subarray(sg.offset, sg.offset + sg.length);
}

export const sg_is_last = (sg: Scatterlist): boolean => sg._end;
export const sg_is_chain = (sg: Scatterlist): boolean => sg._chain !== null;
export function sg_mark_end(sg: Scatterlist): void { sg._end = true; }
export function sg_unmark_end(sg: Scatterlist): void { sg._end = false; }

/** sg_next(sg): the next entry (following chain links), or null after the last. */
export function sg_next(sg: Scatterlist): Scatterlist | null {
  if (sg._end) return null;
  let n = sg._next;
  while (n?._chain) n = n._chain;
  return n;
}

/**
 * sg_chain(prv, prv_nents, sgl): the last slot of `prv` (index prv_nents - 1) becomes a link to
 * `sgl`, so the table continues there (that slot holds no data, as on Linux).
 */
export function sg_chain(prv: Scatterlist[], prv_nents: number, sgl: SgList): void {
  const link = prv[prv_nents - 1];
  const target = sg_first(sgl);
  if (!link || !target) return;
  link._chain = target;
  link._end = false;
  link.page = null;
  link.length = 0;
  const before = prv[prv_nents - 2];
  if (before) { before._end = false; before._next = link; }
}

/** for_each_sg(sgl, nents): iterates the first `nents` entries (`for (const sg of for_each_sg(...))`). */
export function* for_each_sg(sgl: SgList, nents: number): Generator<Scatterlist> {
  let sg = sg_first(sgl);
  for (let i = 0; i < nents && sg; i++) {
    yield sg;
    sg = sg_next(sg);
  }
}

/** sg_nents(sgl): entries up to the end mark. */
export function sg_nents(sgl: SgList): number {
  let n = 0;
  for (let sg = sg_first(sgl); sg; sg = sg_next(sg)) n++;
  return n;
}

/** sg_nents_for_len(sgl, len): entries needed to cover `len` bytes, or -EINVAL if there are not enough. */
export function sg_nents_for_len(sgl: SgList, len: number): number {
  if (len <= 0) return 0;
  let n = 0;
  for (let sg = sg_first(sgl); sg; sg = sg_next(sg)) {
    n++;
    len -= sg.length;
    if (len <= 0) return n;
  }
  return -EINVAL;
}

/** sg_last(sgl, nents): the last of the first `nents` entries. */
export function sg_last(sgl: SgList, nents: number): Scatterlist | null {
  let last: Scatterlist | null = null;
  for (const sg of for_each_sg(sgl, nents)) last = sg;
  return last;
}

export const sg_dma_address = (sg: Scatterlist): number => sg.dma_address;
export const sg_dma_len = (sg: Scatterlist): number => sg.dma_length;

/** Copies between the table's bytes (from `skip` on) and `buf`; returns the bytes copied. */
function sgCopy(sgl: SgList, nents: number, buf: Uint8Array, buflen: number, skip: number, toBuffer: boolean): number {
  let done = 0;
  const len = Math.min(buflen, buf.length);
  for (const sg of for_each_sg(sgl, nents)) {
    if (done >= len) break;
    const bytes = sg_virt(sg);
    if (skip >= bytes.length) { skip -= bytes.length; continue; }
    const n = Math.min(bytes.length - skip, len - done);
    if (toBuffer) buf.set(bytes.subarray(skip, skip + n), done);
    else bytes.set(buf.subarray(done, done + n), skip);
    done += n;
    skip = 0;
  }
  return done;
}

/** sg_copy_to_buffer(sgl, nents, buf, buflen): gathers the table into `buf`; returns bytes copied. */
export const sg_copy_to_buffer = (sgl: SgList, nents: number, buf: Uint8Array, buflen = buf.length): number =>
  sgCopy(sgl, nents, buf, buflen, 0, true);
/** sg_copy_from_buffer(sgl, nents, buf, buflen): scatters `buf` into the table; returns bytes copied. */
export const sg_copy_from_buffer = (sgl: SgList, nents: number, buf: Uint8Array, buflen = buf.length): number =>
  sgCopy(sgl, nents, buf, buflen, 0, false);
/** sg_pcopy_to_buffer(sgl, nents, buf, buflen, skip): as sg_copy_to_buffer, from byte `skip` of the table. */
export const sg_pcopy_to_buffer = (sgl: SgList, nents: number, buf: Uint8Array, buflen: number, skip: number): number =>
  sgCopy(sgl, nents, buf, buflen, skip, true);
export const sg_pcopy_from_buffer = (sgl: SgList, nents: number, buf: Uint8Array, buflen: number, skip: number): number =>
  sgCopy(sgl, nents, buf, buflen, skip, false);

/** sg_zero_buffer(sgl, nents, buflen, skip): zeroes `buflen` bytes from `skip`; returns bytes zeroed. */
export function sg_zero_buffer(sgl: SgList, nents: number, buflen: number, skip = 0): number {
  let done = 0;
  for (const sg of for_each_sg(sgl, nents)) {
    if (done >= buflen) break;
    const bytes = sg_virt(sg);
    if (skip >= bytes.length) { skip -= bytes.length; continue; }
    const n = Math.min(bytes.length - skip, buflen - done);
    bytes.fill(0, skip, skip + n);
    done += n;
    skip = 0;
  }
  return done;
}

// ---- struct sg_table -----------------------------------------------------------------------------

export class SgTable {
  /** The entries (sgl[0] is Linux's `sgt->sgl`). */
  sgl: Scatterlist[] = [];
  /** Entries mapped by dma_map_sgtable (Linux: nents). */
  nents = 0;
  /** Entries in the table (Linux: orig_nents). */
  orig_nents = 0;
}
export type sg_table = SgTable;

/** sg_alloc_table(table, nents, gfp?): 0, or -EINVAL for nents <= 0. */
export function sg_alloc_table(table: SgTable, nents: number, _gfp = 0): number {
  if (!Number.isInteger(nents) || nents <= 0) return -EINVAL;
  table.sgl = [];
  sg_init_table(table.sgl, nents);
  table.nents = table.orig_nents = nents;
  return 0;
}

export function sg_free_table(table: SgTable): void {
  table.sgl = [];
  table.nents = table.orig_nents = 0;
}

/**
 * sg_alloc_table_from_pages(table, pages, n_pages, offset, size): one entry per page (no merging
 * needed: a "page" is any Uint8Array); the first starts at `offset`, the total is `size` bytes.
 */
export function sg_alloc_table_from_pages(table: SgTable, pages: readonly Uint8Array[], n_pages: number, offset: number,
  size: number, _gfp = 0): number {
  const r = sg_alloc_table(table, n_pages);
  if (r) return r;
  let left = size;
  for (let i = 0; i < n_pages; i++) {
    const p = pages[i]!;
    const off = i === 0 ? offset : 0;
    const len = Math.max(0, Math.min(p.length - off, left));
    sg_set_page(table.sgl[i]!, p, len, off);
    left -= len;
  }
  return 0;
}
