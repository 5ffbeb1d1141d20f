/**
 * @module linux/blkdev.h (queue limits) + block/blk-settings.c
 * `struct queue_limits`, the `BLK_FEAT_*` features, their validation (`blk_validate_limits`)
 * and the accessors drivers use (`queue_logical_block_size`...). Queues and requests are in
 * blk-mq.ts, disks in genhd.ts, the disk node's file operations in block-fops.ts.
 *
 * Differs from Linux, and why:
 * - Timeouts are milliseconds, not jiffies.
 * - Logical blocks are 512 B .. 64 KiB (Linux 6.15+ allows up to 64 KiB too); there is no
 *   `seg_boundary_mask`/`virt_boundary_mask` (device memory is reached through the bounce
 *   pool or coherent buffers, which have no such boundaries).
 */
import { EINVAL } from './errno.js';

export const PAGE_SIZE = 4096;
export const PAGE_SECTORS = PAGE_SIZE >> 9;

/** Linux defaults (blkdev.h). */
export const BLK_SAFE_MAX_SECTORS = 255;
export const BLK_DEF_MAX_SECTORS_CAP = 2560;
export const BLK_MAX_SEGMENTS = 128;
export const BLK_MAX_SEGMENT_SIZE = 65536;
export const BLK_MAX_BLOCK_SIZE = 65536;
/** Default request timeout (Linux: 30 * HZ). */
export const BLK_DEFAULT_TIMEOUT_MS = 30_000;
/** Linux BLKDEV_DEFAULT_RQ. */
export const BLKDEV_DEFAULT_RQ = 128;

export const BLK_FEAT_WRITE_CACHE = 1 << 0, BLK_FEAT_FUA = 1 << 1, BLK_FEAT_ROTATIONAL = 1 << 2,
  BLK_FEAT_ADD_RANDOM = 1 << 3, BLK_FEAT_IO_STAT = 1 << 4, BLK_FEAT_STABLE_WRITES = 1 << 5,
  BLK_FEAT_SYNCHRONOUS = 1 << 6, BLK_FEAT_NOWAIT = 1 << 7, BLK_FEAT_POLL = 1 << 9;
/** Flags the block layer (or the user, through sysfs) sets on top of the features. */
export const BLK_FLAG_WRITE_CACHE_DISABLED = 1 << 0, BLK_FLAG_MISALIGNED = 1 << 1;

/** `struct queue_limits`: what the driver's hardware can take in one request. Sizes in bytes unless named *_sectors. */
export interface QueueLimits {
  features: number;
  flags: number;
  logical_block_size: number;
  physical_block_size: number;
  io_min: number;
  io_opt: number;
  /** Largest request the hardware takes (512-byte sectors). */
  max_hw_sectors: number;
  /** Largest request the block layer builds (<= max_hw_sectors; /sys/.../queue/max_sectors_kb). */
  max_sectors: number;
  /** User cap from max_sectors_kb (sectors), 0 = none. */
  max_user_sectors: number;
  max_segments: number;
  max_segment_size: number;
  max_hw_discard_sectors: number;
  max_user_discard_sectors: number;
  max_discard_sectors: number;
  discard_granularity: number;
  max_write_zeroes_sectors: number;
  max_discard_segments: number;
  dma_alignment: number;
}
export type queue_limits = QueueLimits;

/** Limits with every field at Linux's default (what `blk_set_stacking_limits`-free drivers start from). */
export function blk_default_limits(): QueueLimits {
  return {
    features: 0, flags: 0, logical_block_size: 0, physical_block_size: 0, io_min: 0, io_opt: 0,
    max_hw_sectors: 0, max_sectors: 0, max_user_sectors: 0, max_segments: 0, max_segment_size: 0,
    max_hw_discard_sectors: 0, max_user_discard_sectors: 0, max_discard_sectors: 0, discard_granularity: 0,
    max_write_zeroes_sectors: 0, max_discard_segments: 0, dma_alignment: 0,
  };
}

const isPow2 = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/**
 * blk_validate_limits: fills unset fields with Linux's defaults and rejects impossible ones.
 * Returns 0 or -EINVAL (the limits are then unchanged in meaning, but may be partly filled).
 */
export function blk_validate_limits(lim: QueueLimits): number {
  if (!lim.logical_block_size) lim.logical_block_size = 512;
  if (!isPow2(lim.logical_block_size) || lim.logical_block_size < 512 || lim.logical_block_size > BLK_MAX_BLOCK_SIZE) return -EINVAL;
  if (lim.physical_block_size < lim.logical_block_size) lim.physical_block_size = lim.logical_block_size;
  if (!isPow2(lim.physical_block_size)) return -EINVAL;
  if (lim.io_min < lim.physical_block_size) lim.io_min = lim.physical_block_size;
  if (lim.io_opt < 0 || !Number.isInteger(lim.io_opt)) return -EINVAL;
  const lbsSectors = lim.logical_block_size >> 9;
  if (!lim.max_hw_sectors) lim.max_hw_sectors = BLK_SAFE_MAX_SECTORS;
  if (!Number.isInteger(lim.max_hw_sectors) || lim.max_hw_sectors < PAGE_SECTORS) return -EINVAL;
  lim.max_hw_sectors -= lim.max_hw_sectors % lbsSectors;
  let max = Math.min(lim.max_hw_sectors, BLK_DEF_MAX_SECTORS_CAP);
  if (lim.max_user_sectors) {
    if (lim.max_user_sectors < PAGE_SECTORS) return -EINVAL;
    max = Math.min(lim.max_hw_sectors, lim.max_user_sectors);
  }
  lim.max_sectors = max - (max % lbsSectors);
  if (!lim.max_segments) lim.max_segments = BLK_MAX_SEGMENTS;
  if (!lim.max_segment_size) lim.max_segment_size = BLK_MAX_SEGMENT_SIZE;
  if (lim.max_segment_size < PAGE_SIZE || !Number.isInteger(lim.max_segments) || lim.max_segments < 1) return -EINVAL;
  if (!lim.max_discard_segments) lim.max_discard_segments = 1;
  lim.max_discard_sectors = lim.max_user_discard_sectors
    ? Math.min(lim.max_hw_discard_sectors, lim.max_user_discard_sectors) : lim.max_hw_discard_sectors;
  if (lim.max_hw_discard_sectors && !lim.discard_granularity) lim.discard_granularity = lim.logical_block_size;
  if (!lim.dma_alignment) lim.dma_alignment = 511;
  // FUA is meaningless without a volatile write cache (Linux strips it the same way).
  if (!(lim.features & BLK_FEAT_WRITE_CACHE)) lim.features &= ~BLK_FEAT_FUA;
  return 0;
}

/** The write cache is present and not disabled through sysfs (Linux blk_queue_write_cache). */
export const limits_write_cache = (lim: QueueLimits): boolean =>
  (lim.features & BLK_FEAT_WRITE_CACHE) !== 0 && (lim.flags & BLK_FLAG_WRITE_CACHE_DISABLED) === 0;
export const limits_fua = (lim: QueueLimits): boolean => limits_write_cache(lim) && (lim.features & BLK_FEAT_FUA) !== 0;
