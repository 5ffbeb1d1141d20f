/**
 * @module block/genhd.c + block/blk-sysfs.c (disk and queue attributes)
 * The attributes of /sys/block/<disk>/ and /sys/block/<disk>/queue/ (Documentation/ABI/stable/
 * sysfs-block), with Linux's formats. Writable ones check their input like Linux's store
 * functions (-EINVAL on anything else).
 *
 * Differs from Linux: `io-timeout-fail` takes a count of completions to lose (Linux: 0/1 plus
 * debugfs fail_io_timeout/{probability,times}, absent here); `nr_requests` is read-only (no
 * I/O scheduler); `scheduler` is always "[none]".
 */
import type { AttributeSpec } from '../framework/driver-port.js';
import { BLK_FEAT_ADD_RANDOM, BLK_FEAT_FUA, BLK_FEAT_IO_STAT, BLK_FEAT_ROTATIONAL, BLK_FEAT_STABLE_WRITES, BLK_FEAT_WRITE_CACHE,
  BLK_FLAG_WRITE_CACHE_DISABLED, blk_validate_limits, limits_write_cache, PAGE_SIZE } from './blkdev.js';
import { QUEUE_FLAG_NOMERGES } from './blk-mq.js';
import { EINVAL } from './errno.js';
import type { Gendisk } from './genhd.js';

type Show = () => string;
type Store = (v: string) => number;

/** An unsigned decimal as sysfs stores accept it (kstrtoul), or NaN. */
function parseUnsigned(v: string): number {
  const t = v.trim();
  return /^\d{1,15}$/.test(t) ? Number(t) : NaN;
}

export function blk_sysfs_attributes(disk: Gendisk): AttributeSpec[] {
  const q = disk.queue;
  const lim = () => q.limits;
  const dir = `block/${disk.disk_name}`;
  const qdir = `${dir}/queue`;
  const out: AttributeSpec[] = [];
  const ro = (d: string, name: string, show: Show) => out.push({ name, mode: 0o444, dir: d, show });
  const rw = (d: string, name: string, show: Show, store: Store) => out.push({ name, mode: 0o644, dir: d, show, store });
  const n = (v: number) => `${v}\n`;
  const feature = (f: number) => ((lim().features & f) !== 0 ? 1 : 0);
  const setFeature = (f: number, v: string): number => {
    const x = parseUnsigned(v);
    if (x !== 0 && x !== 1) return -EINVAL;
    if (x) lim().features |= f; else lim().features &= ~f;
    return 0;
  };

  // ---- /sys/block/<disk>/
  ro(dir, 'size', () => n(disk._capacity));
  ro(dir, 'ro', () => n(disk._ro ? 1 : 0));
  ro(dir, 'removable', () => n(disk.flags & 1 ? 1 : 0));
  ro(dir, 'hidden', () => n(disk.flags & 2 ? 1 : 0));
  ro(dir, 'range', () => n(disk.minors));
  ro(dir, 'ext_range', () => n(256));
  ro(dir, 'capability', () => '0\n');
  ro(dir, 'alignment_offset', () => '0\n');
  ro(dir, 'discard_alignment', () => '0\n');
  ro(dir, 'diskseq', () => n(disk.diskseq));
  ro(dir, 'stat', () => q._stats.show());
  ro(dir, 'inflight', () => q._stats.showInflight());
  rw(dir, 'io-timeout-fail', () => n(q._fakeTimeouts), (v) => {
    const x = parseUnsigned(v);
    if (Number.isNaN(x)) return -EINVAL;
    q._fakeTimeouts = x;
    return 0;
  });

  // ---- /sys/block/<disk>/queue/
  ro(qdir, 'logical_block_size', () => n(lim().logical_block_size));
  ro(qdir, 'physical_block_size', () => n(lim().physical_block_size));
  ro(qdir, 'hw_sector_size', () => n(lim().logical_block_size));
  ro(qdir, 'minimum_io_size', () => n(lim().io_min));
  ro(qdir, 'optimal_io_size', () => n(lim().io_opt));
  ro(qdir, 'nr_requests', () => n(q.nr_requests));
  ro(qdir, 'max_hw_sectors_kb', () => n(lim().max_hw_sectors >> 1));
  rw(qdir, 'max_sectors_kb', () => n(lim().max_sectors >> 1), (v) => {
    const kb = parseUnsigned(v);
    if (Number.isNaN(kb)) return -EINVAL;
    const l = { ...lim() };
    if (kb === 0) l.max_user_sectors = 0;
    else if (kb < PAGE_SIZE >> 10 || kb > l.max_hw_sectors >> 1) return -EINVAL;
    else l.max_user_sectors = kb << 1;
    if (blk_validate_limits(l)) return -EINVAL;
    q.limits = l;
    return 0;
  });
  ro(qdir, 'max_segments', () => n(lim().max_segments));
  ro(qdir, 'max_discard_segments', () => n(lim().max_discard_segments));
  ro(qdir, 'max_segment_size', () => n(lim().max_segment_size));
  ro(qdir, 'max_integrity_segments', () => '0\n');
  rw(qdir, 'rotational', () => n(feature(BLK_FEAT_ROTATIONAL)), (v) => setFeature(BLK_FEAT_ROTATIONAL, v));
  rw(qdir, 'add_random', () => n(feature(BLK_FEAT_ADD_RANDOM)), (v) => setFeature(BLK_FEAT_ADD_RANDOM, v));
  rw(qdir, 'iostats', () => n(feature(BLK_FEAT_IO_STAT)), (v) => setFeature(BLK_FEAT_IO_STAT, v));
  ro(qdir, 'stable_writes', () => n(feature(BLK_FEAT_STABLE_WRITES)));
  rw(qdir, 'write_cache', () => (limits_write_cache(lim()) ? 'write back\n' : 'write through\n'), (v) => {
    const t = v.trim();
    if (t === 'write back') {
      if (!(lim().features & BLK_FEAT_WRITE_CACHE)) return -EINVAL;
      lim().flags &= ~BLK_FLAG_WRITE_CACHE_DISABLED;
    } else if (t === 'write through' || t === 'none') {
      lim().flags |= BLK_FLAG_WRITE_CACHE_DISABLED;
    } else {
      return -EINVAL;
    }
    return 0;
  });
  ro(qdir, 'fua', () => n(feature(BLK_FEAT_FUA)));
  ro(qdir, 'discard_granularity', () => n(lim().discard_granularity));
  ro(qdir, 'discard_max_hw_bytes', () => n(lim().max_hw_discard_sectors * 512));
  rw(qdir, 'discard_max_bytes', () => n(lim().max_discard_sectors * 512), (v) => {
    const bytes = parseUnsigned(v);
    if (Number.isNaN(bytes) || bytes % lim().discard_granularity !== 0 && lim().discard_granularity) return -EINVAL;
    const l = { ...lim(), max_user_discard_sectors: Math.floor(bytes / 512) };
    if (blk_validate_limits(l)) return -EINVAL;
    q.limits = l;
    return 0;
  });
  ro(qdir, 'discard_zeroes_data', () => '0\n');
  ro(qdir, 'write_zeroes_max_bytes', () => n(lim().max_write_zeroes_sectors * 512));
  ro(qdir, 'write_same_max_bytes', () => '0\n');
  ro(qdir, 'dma_alignment', () => n(lim().dma_alignment));
  ro(qdir, 'chunk_sectors', () => '0\n');
  ro(qdir, 'zoned', () => 'none\n');
  ro(qdir, 'nr_zones', () => '0\n');
  ro(qdir, 'virt_boundary_mask', () => '0\n');
  rw(qdir, 'read_ahead_kb', () => n(disk._readAheadKb), (v) => {
    const kb = parseUnsigned(v);
    if (Number.isNaN(kb)) return -EINVAL;
    disk._readAheadKb = kb;
    return 0;
  });
  rw(qdir, 'nomerges', () => n(q.queue_flags & QUEUE_FLAG_NOMERGES ? 2 : 0), (v) => {
    const x = parseUnsigned(v);
    if (Number.isNaN(x) || x > 2) return -EINVAL;
    // Requests are never merged; the value is kept for tools that set it.
    if (x) q.queue_flags |= QUEUE_FLAG_NOMERGES; else q.queue_flags &= ~QUEUE_FLAG_NOMERGES;
    return 0;
  });
  rw(qdir, 'rq_affinity', () => n(disk._rqAffinity), (v) => {
    const x = parseUnsigned(v);
    if (Number.isNaN(x) || x > 2) return -EINVAL;
    disk._rqAffinity = x;
    return 0;
  });
  rw(qdir, 'scheduler', () => '[none] \n', (v) => (v.trim() === 'none' ? 0 : -EINVAL));
  rw(qdir, 'io_timeout', () => n(q.rq_timeout), (v) => {
    const ms = parseUnsigned(v);
    if (Number.isNaN(ms) || ms === 0) return -EINVAL;
    q.rq_timeout = ms;
    return 0;
  });
  return out;
}
