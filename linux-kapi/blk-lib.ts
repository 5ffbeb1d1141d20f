/**
 * @module block/bio.c submit_bio_wait + block/blk-flush.c + block/blk-lib.c
 * Submitting a bio and waiting for it, with the cache-flush policy applied on the way
 * (`REQ_PREFLUSH` becomes a flush request before the data, `REQ_FUA` stays on the write when the
 * device does FUA and becomes a flush after it when it does not, and both vanish on a device
 * without a volatile write cache), and the helpers built on it: `blkdev_issue_flush`,
 * `blkdev_issue_discard`, `blkdev_issue_zeroout`.
 */
import {
  Bio, bio_op, BLK_STS_NOTSUPP, BLK_STS_OK, blk_status_to_errno, REQ_FUA, REQ_OP_DISCARD, REQ_OP_FLUSH, REQ_OP_WRITE,
  REQ_OP_WRITE_ZEROES, REQ_PREFLUSH, SECTOR_SIZE, type blk_status_t,
} from './blk_types.js';
import { blk_mq_submit_bio, type RequestQueue } from './blk-mq.js';
import { BLK_FEAT_FUA, BLK_FEAT_IO_STAT, limits_write_cache } from './blkdev.js';

function submitOnce(q: RequestQueue, bio: Bio): Promise<blk_status_t> {
  return new Promise((resolve) => {
    bio.bi_end_io = (b) => resolve(b.bi_status);
    blk_mq_submit_bio(q, bio);
  });
}

/** One REQ_OP_FLUSH request to the driver, counted in the disk's flush statistics. */
function flushRequest(q: RequestQueue): Promise<blk_status_t> {
  const start = performance.now();
  return submitOnce(q, new Bio(REQ_OP_FLUSH | REQ_PREFLUSH, 0)).then((st) => {
    if (q.limits.features & BLK_FEAT_IO_STAT) q._stats.flush(start, performance.now());
    return st;
  });
}

async function flushSequence(q: RequestQueue, bio: Bio): Promise<blk_status_t> {
  const op = bio_op(bio);
  if (!limits_write_cache(q.limits)) {
    // Write-through: data is stable when the write completes; a flush has nothing to do.
    bio.bi_opf &= ~(REQ_PREFLUSH | REQ_FUA);
    return op === REQ_OP_FLUSH ? BLK_STS_OK : submitOnce(q, bio);
  }
  if (op === REQ_OP_FLUSH) return flushRequest(q);
  if (bio.bi_opf & REQ_PREFLUSH) {
    bio.bi_opf &= ~REQ_PREFLUSH;
    const st = await flushRequest(q);
    if (st !== BLK_STS_OK) return st;
  }
  let postflush = false;
  if (bio.bi_opf & REQ_FUA && !(q.limits.features & BLK_FEAT_FUA)) {
    bio.bi_opf &= ~REQ_FUA;
    postflush = true;
  }
  const st = await submitOnce(q, bio);
  return st !== BLK_STS_OK || !postflush ? st : flushRequest(q);
}

/** submit_bio_wait(q, bio): submits and resolves the bio's status (its bi_end_io is taken over). */
export function submit_bio_wait(q: RequestQueue, bio: Bio): Promise<blk_status_t> {
  if (!(bio.bi_opf & (REQ_PREFLUSH | REQ_FUA)) && bio_op(bio) !== REQ_OP_FLUSH) return submitOnce(q, bio);
  return flushSequence(q, bio);
}

/** blkdev_issue_flush: flushes the device's volatile cache (0 at once without one), 0 or -errno. */
export async function blkdev_issue_flush(q: RequestQueue): Promise<number> {
  return blk_status_to_errno(await submit_bio_wait(q, new Bio(REQ_OP_FLUSH | REQ_PREFLUSH, 0)));
}

/** blkdev_issue_discard(q, sector, nr_sects): 0, -EOPNOTSUPP without discard support, or -errno. */
export async function blkdev_issue_discard(q: RequestQueue, sector: number, nr_sects: number): Promise<number> {
  if (!q.limits.max_discard_sectors) return blk_status_to_errno(BLK_STS_NOTSUPP);
  if (nr_sects <= 0) return 0;
  return blk_status_to_errno(await submit_bio_wait(q, new Bio(REQ_OP_DISCARD, sector, [], nr_sects * SECTOR_SIZE)));
}

/** Zeroes written per request when the device has no WRITE ZEROES. */
const ZERO_CHUNK = 128 << 10;
let zeroPage: Uint8Array | null = null;

/**
 * blkdev_issue_zeroout(q, sector, nr_sects): REQ_OP_WRITE_ZEROES when the device has it, else
 * writes of zeroes (four in flight). 0 or -errno.
 */
export async function blkdev_issue_zeroout(q: RequestQueue, sector: number, nr_sects: number): Promise<number> {
  if (nr_sects <= 0) return 0;
  if (q.limits.max_write_zeroes_sectors) {
    const st = await submit_bio_wait(q, new Bio(REQ_OP_WRITE_ZEROES, sector, [], nr_sects * SECTOR_SIZE));
    if (st !== BLK_STS_NOTSUPP) return blk_status_to_errno(st);
  }
  zeroPage ??= new Uint8Array(ZERO_CHUNK);
  const zeros = zeroPage;
  const end = sector + nr_sects;
  let next = sector;
  let err = 0;
  const worker = async (): Promise<void> => {
    while (next < end && err === 0) {
      const s = next;
      const n = Math.min(end - s, ZERO_CHUNK / SECTOR_SIZE);
      next += n;
      const st = await submit_bio_wait(q, new Bio(REQ_OP_WRITE, s, [{ bv_page: zeros, bv_offset: 0, bv_len: n * SECTOR_SIZE }]));
      if (st !== BLK_STS_OK && err === 0) err = blk_status_to_errno(st);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return err;
}

