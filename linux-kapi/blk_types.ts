/**
 * @module linux/blk_types.h + linux/bvec.h + linux/bio.h (the parts drivers see)
 * `blk_status_t` and its errno mapping, request operations (`REQ_OP_*`) and flags (`REQ_FUA`,
 * `REQ_PREFLUSH`...), `struct bio_vec`, `struct bvec_iter` and `struct bio`.
 *
 * Differs from Linux, and why:
 * - **A page is a `Uint8Array`** (as in scatterlist.ts): `bv_page` is the memory, `bv_offset`
 *   and `bv_len` select the bytes (`bvec_virt(bv)`). A bvec may span many 4 KiB pages when the
 *   memory is contiguous, as Linux's multi-page bvecs do; `rq_for_each_segment` (blk-mq.ts)
 *   still yields pieces of at most one page.
 * - Bios are built by the block layer from file operations on the disk node (block-fops.ts);
 *   drivers see them only inside requests. `bio_endio` runs `bi_end_io` synchronously.
 */
import { Errno } from '../framework/errors/errno.js';

// ---- blk_status_t ----------------------------------------------------------------------------

export type blk_status_t = number;
export const BLK_STS_OK = 0, BLK_STS_NOTSUPP = 1, BLK_STS_TIMEOUT = 2, BLK_STS_NOSPC = 3, BLK_STS_TRANSPORT = 4,
  BLK_STS_TARGET = 5, BLK_STS_RESV_CONFLICT = 6, BLK_STS_MEDIUM = 7, BLK_STS_PROTECTION = 8, BLK_STS_RESOURCE = 9,
  BLK_STS_IOERR = 10, BLK_STS_DM_REQUEUE = 11, BLK_STS_AGAIN = 12, BLK_STS_DEV_RESOURCE = 13,
  BLK_STS_ZONE_OPEN_RESOURCE = 14, BLK_STS_ZONE_ACTIVE_RESOURCE = 15, BLK_STS_OFFLINE = 16,
  BLK_STS_DURATION_LIMIT = 17, BLK_STS_INVAL = 19;

/** block/blk-core.c `blk_errors[]`: status → (positive) errno and name. */
const BLK_ERRORS: Record<number, [number, string]> = {
  [BLK_STS_OK]: [0, ''],
  [BLK_STS_NOTSUPP]: [Errno.EOPNOTSUPP, 'operation not supported'],
  [BLK_STS_TIMEOUT]: [Errno.ETIMEDOUT, 'timeout'],
  [BLK_STS_NOSPC]: [Errno.ENOSPC, 'critical space allocation'],
  [BLK_STS_TRANSPORT]: [Errno.ENOLINK, 'recoverable transport'],
  [BLK_STS_TARGET]: [Errno.EREMOTEIO, 'critical target'],
  [BLK_STS_RESV_CONFLICT]: [52 /* EBADE */, 'reservation conflict'],
  [BLK_STS_MEDIUM]: [Errno.ENODATA, 'critical medium'],
  [BLK_STS_PROTECTION]: [Errno.EILSEQ, 'protection'],
  [BLK_STS_RESOURCE]: [Errno.ENOMEM, 'kernel resource'],
  [BLK_STS_DEV_RESOURCE]: [Errno.EBUSY, 'device resource'],
  [BLK_STS_AGAIN]: [Errno.EAGAIN, 'nonblocking retry'],
  [BLK_STS_OFFLINE]: [Errno.ENODEV, 'device offline'],
  [BLK_STS_DM_REQUEUE]: [78 /* EREMCHG */, 'dm internal retry'],
  [BLK_STS_ZONE_OPEN_RESOURCE]: [109 /* ETOOMANYREFS */, 'open zones exceeded'],
  [BLK_STS_ZONE_ACTIVE_RESOURCE]: [Errno.EOVERFLOW, 'active zones exceeded'],
  [BLK_STS_DURATION_LIMIT]: [Errno.ETIME, 'duration limit exceeded'],
  [BLK_STS_INVAL]: [Errno.EINVAL, 'invalid'],
  [BLK_STS_IOERR]: [Errno.EIO, 'I/O'],
};

/** blk_status_to_errno: 0 or a negative errno (unknown statuses are -EIO). */
export function blk_status_to_errno(status: blk_status_t): number {
  return status === BLK_STS_OK ? 0 : -(BLK_ERRORS[status]?.[0] ?? Errno.EIO);
}

/** errno_to_blk_status: the status of a (negative) errno; unknown ones are BLK_STS_IOERR. */
export function errno_to_blk_status(errno: number): blk_status_t {
  const e = Math.abs(errno);
  for (const [st, [n]] of Object.entries(BLK_ERRORS)) if (n === e) return Number(st);
  return BLK_STS_IOERR;
}

/** blk_status_to_str: "I/O", "timeout"... as in Linux's error messages. */
export function blk_status_to_str(status: blk_status_t): string {
  return BLK_ERRORS[status]?.[1] ?? '<null>';
}

// ---- operations and flags --------------------------------------------------------------------

export const REQ_OP_BITS = 8;
export const REQ_OP_MASK = (1 << REQ_OP_BITS) - 1;
export const REQ_OP_READ = 0, REQ_OP_WRITE = 1, REQ_OP_FLUSH = 2, REQ_OP_DISCARD = 3, REQ_OP_SECURE_ERASE = 5,
  REQ_OP_ZONE_APPEND = 7, REQ_OP_WRITE_ZEROES = 9, REQ_OP_DRV_IN = 34, REQ_OP_DRV_OUT = 35;

export const REQ_FAILFAST_DEV = 1 << 8, REQ_FAILFAST_TRANSPORT = 1 << 9, REQ_FAILFAST_DRIVER = 1 << 10,
  REQ_SYNC = 1 << 11, REQ_META = 1 << 12, REQ_PRIO = 1 << 13, REQ_NOMERGE = 1 << 14, REQ_IDLE = 1 << 15,
  REQ_INTEGRITY = 1 << 16, REQ_FUA = 1 << 17, REQ_PREFLUSH = 1 << 18, REQ_RAHEAD = 1 << 19,
  REQ_BACKGROUND = 1 << 20, REQ_NOWAIT = 1 << 21, REQ_POLLED = 1 << 22, REQ_SWAP = 1 << 24, REQ_DRV = 1 << 25,
  REQ_NOUNMAP = 1 << 28;
export const REQ_FAILFAST_MASK = REQ_FAILFAST_DEV | REQ_FAILFAST_TRANSPORT | REQ_FAILFAST_DRIVER;

/** Data direction (rq_data_dir): READ 0, WRITE 1. */
export const READ = 0, WRITE = 1;

/** op_is_write: writes, discards, flushes and zeroing are odd-numbered ("to the device"). */
export const op_is_write = (op: number): boolean => (op & 1) !== 0;
/** op_is_sync: reads, and writes with REQ_SYNC/FUA/PREFLUSH. */
export const op_is_sync = (opf: number): boolean =>
  (opf & REQ_OP_MASK) === REQ_OP_READ || (opf & (REQ_SYNC | REQ_FUA | REQ_PREFLUSH)) !== 0;
export const op_is_flush = (opf: number): boolean => (opf & (REQ_FUA | REQ_PREFLUSH)) !== 0;
export const op_is_discard = (opf: number): boolean => (opf & REQ_OP_MASK) === REQ_OP_DISCARD;

const OP_NAMES: Record<number, string> = {
  [REQ_OP_READ]: 'READ', [REQ_OP_WRITE]: 'WRITE', [REQ_OP_FLUSH]: 'FLUSH', [REQ_OP_DISCARD]: 'DISCARD',
  [REQ_OP_SECURE_ERASE]: 'SECURE_ERASE', [REQ_OP_ZONE_APPEND]: 'ZONE_APPEND', [REQ_OP_WRITE_ZEROES]: 'WRITE_ZEROES',
  [REQ_OP_DRV_IN]: 'DRV_IN', [REQ_OP_DRV_OUT]: 'DRV_OUT',
};
/** blk_op_str: "READ", "WRITE"... */
export const blk_op_str = (op: number): string => OP_NAMES[op & REQ_OP_MASK] ?? 'UNKNOWN';

// ---- sectors -------------------------------------------------------------------------------------

export type sector_t = number;
export const SECTOR_SHIFT = 9;
export const SECTOR_SIZE = 1 << SECTOR_SHIFT;

// ---- bio_vec, bvec_iter, bio -------------------------------------------------------------------

export interface BioVec {
  /** The memory the segment lies in. */
  bv_page: Uint8Array;
  bv_len: number;
  bv_offset: number;
}
export type bio_vec = BioVec;

/** bvec_virt(bv): the segment's bytes. */
export const bvec_virt = (bv: BioVec): Uint8Array => bv.bv_page.subarray(bv.bv_offset, bv.bv_offset + bv.bv_len);

export interface BvecIter {
  /** Device address, 512-byte sectors. */
  bi_sector: sector_t;
  /** Residual byte count. */
  bi_size: number;
  /** Current index into bi_io_vec. */
  bi_idx: number;
  /** Bytes completed in the current bvec. */
  bi_bvec_done: number;
}

export type BioEndIo = (bio: Bio) => void;

export class Bio {
  bi_next: Bio | null = null;
  /** Operation and flags (REQ_OP_* | REQ_*). */
  bi_opf: number;
  bi_status: blk_status_t = BLK_STS_OK;
  bi_iter: BvecIter;
  bi_io_vec: BioVec[];
  bi_end_io: BioEndIo | null = null;
  bi_private: unknown = null;
  /** @internal bio_chain: the parent waits for this many completions (itself included). */
  __bi_remaining = 1;
  /** @internal The parent a split or chained bio completes into. */
  _parent: Bio | null = null;
  /** @internal Issue time (ns), for the flush and accounting figures. */
  _start_ns = 0;

  constructor(opf: number, sector: sector_t, vecs: BioVec[] = [], size = vecs.reduce((n, v) => n + v.bv_len, 0)) {
    this.bi_opf = opf;
    this.bi_io_vec = vecs;
    this.bi_iter = { bi_sector: sector, bi_size: size, bi_idx: 0, bi_bvec_done: 0 };
  }

  get bi_vcnt(): number { return this.bi_io_vec.length; }
}
export type bio = Bio;

export const bio_op = (b: Bio): number => b.bi_opf & REQ_OP_MASK;
export const bio_data_dir = (b: Bio): number => (op_is_write(bio_op(b)) ? WRITE : READ);
export const bio_sectors = (b: Bio): number => Math.floor(b.bi_iter.bi_size / SECTOR_SIZE);
export const bio_has_data = (b: Bio): boolean =>
  b.bi_iter.bi_size > 0 && bio_op(b) !== REQ_OP_DISCARD && bio_op(b) !== REQ_OP_SECURE_ERASE && bio_op(b) !== REQ_OP_WRITE_ZEROES;

/** bio_chain(bio, parent): `parent` completes only after `bio` has (its error propagates up). */
export function bio_chain(b: Bio, parent: Bio): void {
  b._parent = parent;
  parent.__bi_remaining++;
}

/** bio_endio: the bio is done (`bi_status` says how); chained parents complete when all are done. */
export function bio_endio(b: Bio): void {
  if (--b.__bi_remaining > 0) return;
  const parent = b._parent;
  if (parent) {
    if (b.bi_status !== BLK_STS_OK && parent.bi_status === BLK_STS_OK) parent.bi_status = b.bi_status;
    b._parent = null;
    bio_endio(parent);
    return;
  }
  b.bi_end_io?.(b);
}

/** bio_io_error: ends the bio with BLK_STS_IOERR. */
export function bio_io_error(b: Bio): void {
  b.bi_status = BLK_STS_IOERR;
  bio_endio(b);
}

/**
 * Iterates the bio's data from its iterator on, in pieces of at most `maxLen` bytes that never
 * cross a `maxLen` boundary of the memory (maxLen = PAGE_SIZE gives bio_for_each_segment's
 * single-page pieces; Infinity gives bio_for_each_bvec's whole bvecs).
 */
export function bio_for_each_piece(b: Bio, maxLen: number, fn: (bv: BioVec) => void): void {
  let left = b.bi_iter.bi_size;
  let done = b.bi_iter.bi_bvec_done;
  for (let i = b.bi_iter.bi_idx; i < b.bi_io_vec.length && left > 0; i++) {
    const v = b.bi_io_vec[i]!;
    let off = v.bv_offset + done;
    let len = Math.min(v.bv_len - done, left);
    done = 0;
    while (len > 0) {
      const room = maxLen === Infinity ? len : maxLen - (off % maxLen);
      const n = Math.min(len, room);
      fn({ bv_page: v.bv_page, bv_offset: off, bv_len: n });
      off += n;
      len -= n;
      left -= n;
    }
  }
}

/**
 * bio_advance(bio, bytes): moves the iterator `bytes` forward (what bio_split leaves in the
 * remainder).
 */
export function bio_advance(b: Bio, bytes: number): void {
  const it = b.bi_iter;
  it.bi_sector += Math.floor(bytes / SECTOR_SIZE);
  it.bi_size -= bytes;
  let left = bytes;
  while (left > 0 && it.bi_idx < b.bi_io_vec.length) {
    const v = b.bi_io_vec[it.bi_idx]!;
    const n = Math.min(left, v.bv_len - it.bi_bvec_done);
    left -= n;
    it.bi_bvec_done += n;
    if (it.bi_bvec_done === v.bv_len) { it.bi_idx++; it.bi_bvec_done = 0; }
  }
}

/**
 * bio_split(bio, sectors): a new bio for the first `sectors` of `bio` (chained into it, so the
 * original completes after both); `bio` is advanced past them.
 */
export function bio_split(b: Bio, sectors: number): Bio {
  const bytes = sectors * SECTOR_SIZE;
  const split = new Bio(b.bi_opf, b.bi_iter.bi_sector, b.bi_io_vec, bytes);
  split.bi_iter.bi_idx = b.bi_iter.bi_idx;
  split.bi_iter.bi_bvec_done = b.bi_iter.bi_bvec_done;
  split._start_ns = b._start_ns;
  bio_chain(split, b);
  if (bio_has_data(b)) bio_advance(b, bytes);
  else { b.bi_iter.bi_sector += sectors; b.bi_iter.bi_size -= bytes; }
  return split;
}
