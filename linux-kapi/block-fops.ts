/**
 * @module block/fops.c + block/ioctl.c
 * The kernel side of a disk's /dev node: the file operations the container serves for it.
 * read/write at a position become bios (split to the queue's limits by blk-mq, several
 * requests in flight); fsync flushes the device cache (REQ_OP_FLUSH); writes on a file opened
 * O_SYNC/O_DSYNC carry REQ_FUA; llseek knows the capacity; ioctls are Linux's block ioctls.
 *
 * | call | result |
 * |---|---|
 * | read at or past the end | 0 bytes (EOF); a read crossing the end is short |
 * | write at or past the end | -ENOSPC; a write crossing the end is short |
 * | write on a read-only disk (BLKROSET, set_disk_ro) | -EPERM |
 * | position or length not a multiple of the logical block size | O_DIRECT: -EINVAL; otherwise the block layer reads the blocks around it (and, for writes, writes them back: read-modify-write, one at a time per disk) |
 * | a failed request | -EIO (O_DIRECT: the status's errno, e.g. -ETIMEDOUT) |
 * | BLKGETSIZE64 / BLKGETSIZE / BLKSSZGET / BLKPBSZGET / BLKBSZGET / BLKIOMIN / BLKIOOPT / BLKALIGNOFF / BLKROGET / BLKROTATIONAL / BLKSECTGET / BLKDISCARDZEROES / BLKRAGET / BLKGETDISKSEQ | the value into the caller's buffer; -EFAULT when there is no buffer or it is too small |
 * | BLKROSET, BLKFLSBUF, BLKRASET, BLKRRPART | need uid 0 (-EACCES); BLKRRPART -EINVAL (no partitions) |
 * | BLKDISCARD / BLKZEROOUT (u64 start, u64 length) | file not open for writing -EBADF; no discard -EOPNOTSUPP; read-only -EPERM; unaligned or empty -EINVAL; past the end -EINVAL |
 * | anything else | the driver's block_device_operations.ioctl, else -ENOTTY |
 *
 * Differs from Linux, and why: there is no page cache. Buffered I/O goes straight to the device
 * (as O_DIRECT would, but with any alignment), so BLKFLSBUF has nothing to drop and fsync only
 * flushes the device's cache. Read-modify-write of partial blocks is serialised per disk, but
 * an aligned write racing with it on the same block may be overwritten by it.
 */
import type { DriverFile, DriverFileOps, UserArg } from '../framework/driver-port.js';
import { Bio, BLK_STS_OK, blk_status_to_errno, REQ_FUA, REQ_OP_READ, REQ_OP_WRITE, REQ_SYNC, SECTOR_SIZE, type blk_status_t } from './blk_types.js';
import { blk_mq_submit_bio } from './blk-mq.js';
import { blkdev_issue_discard, blkdev_issue_flush, blkdev_issue_zeroout, submit_bio_wait } from './blk-lib.js';
import { BLK_FEAT_ROTATIONAL, PAGE_SIZE } from './blkdev.js';
import { _IO, _IOR, _IOW } from './ioctl.js';
import { EACCES, EBADF, EFAULT, EINVAL, EIO, ENOSPC, ENOTTY, ENXIO, EOPNOTSUPP, EPERM } from './errno.js';
import { setDriverEnv } from './kernel.js';
import { UserPtr } from './uaccess.js';
import type { Gendisk, HdGeometry } from './genhd.js';

/** include/uapi/linux/fs.h block ioctls. */
export const BLKROSET = _IO(0x12, 93), BLKROGET = _IO(0x12, 94), BLKRRPART = _IO(0x12, 95), BLKGETSIZE = _IO(0x12, 96),
  BLKFLSBUF = _IO(0x12, 97), BLKRASET = _IO(0x12, 98), BLKRAGET = _IO(0x12, 99), BLKFRASET = _IO(0x12, 100),
  BLKFRAGET = _IO(0x12, 101), BLKSECTGET = _IO(0x12, 103), BLKSSZGET = _IO(0x12, 104),
  BLKBSZGET = _IOR(0x12, 112, 8), BLKBSZSET = _IOW(0x12, 113, 8), BLKGETSIZE64 = _IOR(0x12, 114, 8),
  BLKDISCARD = _IO(0x12, 119), BLKIOMIN = _IO(0x12, 120), BLKIOOPT = _IO(0x12, 121), BLKALIGNOFF = _IO(0x12, 122),
  BLKPBSZGET = _IO(0x12, 123), BLKDISCARDZEROES = _IO(0x12, 124), BLKSECDISCARD = _IO(0x12, 125),
  BLKROTATIONAL = _IO(0x12, 126), BLKZEROOUT = _IO(0x12, 127), BLKGETDISKSEQ = _IOR(0x12, 128, 8);
export const HDIO_GETGEO = 0x0301;

const O_ACCMODE = 3, O_WRONLY = 1, O_RDWR = 2, O_DSYNC = 0o10000, O_DIRECT = 0o40000, O_EXCL = 0o200, O_NDELAY = 0o4000;
const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;

const capacityBytes = (disk: Gendisk): number => disk._capacity * SECTOR_SIZE;
const writable = (f: DriverFile): boolean => (f.flags & O_ACCMODE) === O_WRONLY || (f.flags & O_ACCMODE) === O_RDWR;
const isAdmin = (f: DriverFile): boolean => f.cred.uid === 0;

/** Linux blk_mode_t of an open file. */
function openMode(f: DriverFile): number {
  const acc = f.flags & O_ACCMODE;
  return (acc === O_WRONLY ? 0 : 1) | (acc === O_WRONLY || acc === O_RDWR ? 2 : 0) | (f.flags & O_EXCL ? 4 : 0) | (f.flags & O_NDELAY ? 8 : 0);
}

/** Bio status → what read/write return: -EIO for buffered I/O, the status's errno with O_DIRECT. */
const ioErr = (f: DriverFile, st: blk_status_t): number => (f.flags & O_DIRECT ? blk_status_to_errno(st) : -EIO);

/** Reads `buf.length` bytes at `pos` into `buf`; `done` gets the bio's status. */
function submitRead(disk: Gendisk, pos: number, buf: Uint8Array, done: (st: blk_status_t) => void): void {
  const bio = new Bio(REQ_OP_READ, pos / SECTOR_SIZE, [{ bv_page: buf, bv_offset: 0, bv_len: buf.length }], buf.length);
  bio.bi_end_io = (b) => done(b.bi_status);
  blk_mq_submit_bio(disk.queue, bio);
}

function readBlocks(disk: Gendisk, pos: number, buf: Uint8Array): Promise<blk_status_t> {
  return new Promise((resolve) => submitRead(disk, pos, buf, resolve));
}

/** The aligned read of blkdev_read, with one promise per call (it is the hot path). */
function readAligned(disk: Gendisk, f: DriverFile, pos: number, buf: Uint8Array, ppos: { value: number }): Promise<Uint8Array | number> {
  return new Promise((resolve) => submitRead(disk, pos, buf, (st) => {
    if (st !== BLK_STS_OK) { resolve(ioErr(f, st)); return; }
    ppos.value = pos + buf.length;
    resolve(buf);
  }));
}

function writeBlocks(disk: Gendisk, pos: number, data: Uint8Array, opf: number): Promise<blk_status_t> {
  const bio = new Bio(opf, pos / SECTOR_SIZE, [{ bv_page: data, bv_offset: 0, bv_len: data.length }], data.length);
  return submit_bio_wait(disk.queue, bio);
}

function blkdev_read(disk: Gendisk, f: DriverFile, length: number, ppos: { value: number }, into?: Uint8Array): Uint8Array | number | Promise<Uint8Array | number> {
  const pos = ppos.value;
  const size = capacityBytes(disk);
  if (!Number.isInteger(pos) || pos < 0) return -EINVAL;
  if (length <= 0 || pos >= size) return new Uint8Array(0);
  const len = Math.min(length, size - pos);
  const lbs = disk.queue.limits.logical_block_size;
  if (pos % lbs === 0 && len % lbs === 0) {
    // Not zeroed: the driver fills every byte of a successful read (as a page cache page is
    // filled), and a failed read returns no data. In IC0 the bio's page is the caller's buffer
    // (as O_DIRECT reads into user pages): no allocation, and the DMA unmap copy lands there.
    const buf = into && into.length >= len ? (into.length === len ? into : into.subarray(0, len)) : Buffer.allocUnsafe(len);
    return readAligned(disk, f, pos, buf, ppos);
  }
  if (f.flags & O_DIRECT) return -EINVAL;
  const start = pos - (pos % lbs);
  const end = Math.min(size, Math.ceil((pos + len) / lbs) * lbs);
  const buf = new Uint8Array(end - start);
  return readBlocks(disk, start, buf).then((st) => {
    if (st !== BLK_STS_OK) return ioErr(f, st);
    ppos.value = pos + len;
    return buf.subarray(pos - start, pos - start + len);
  });
}

function blkdev_write(disk: Gendisk, f: DriverFile, data: Uint8Array, ppos: { value: number }): number | Promise<number> {
  const pos = ppos.value;
  if (disk._ro) return -EPERM;
  if (!Number.isInteger(pos) || pos < 0) return -EINVAL;
  if (data.length === 0) return 0;
  const size = capacityBytes(disk);
  if (pos >= size) return -ENOSPC;
  const len = Math.min(data.length, size - pos);
  const chunk = len === data.length ? data : data.subarray(0, len);
  const opf = REQ_OP_WRITE | (f.flags & O_DSYNC ? REQ_FUA | REQ_SYNC : 0);
  const lbs = disk.queue.limits.logical_block_size;
  if (pos % lbs === 0 && len % lbs === 0) {
    return writeBlocks(disk, pos, chunk, opf).then((st) => {
      if (st !== BLK_STS_OK) return ioErr(f, st);
      ppos.value = pos + len;
      return len;
    });
  }
  if (f.flags & O_DIRECT) return -EINVAL;
  const run = disk._rmw.then(() => readModifyWrite(disk, pos, chunk, opf, lbs, size));
  disk._rmw = run.catch(() => undefined);
  return run.then((st) => {
    if (st !== BLK_STS_OK) return ioErr(f, st);
    ppos.value = pos + len;
    return len;
  });
}

/** Writes `data` at an unaligned `pos`: the partial blocks at either end are read first. */
async function readModifyWrite(disk: Gendisk, pos: number, data: Uint8Array, opf: number, lbs: number, size: number): Promise<blk_status_t> {
  const start = pos - (pos % lbs);
  const end = Math.min(size, Math.ceil((pos + data.length) / lbs) * lbs);
  const buf = new Uint8Array(end - start);
  if (pos !== start) {
    const st = await readBlocks(disk, start, buf.subarray(0, lbs));
    if (st !== BLK_STS_OK) return st;
  }
  const tail = end - lbs;
  if ((pos + data.length) % lbs !== 0 && (tail > start || pos === start)) {
    const st = await readBlocks(disk, tail, buf.subarray(tail - start, end - start));
    if (st !== BLK_STS_OK) return st;
  }
  buf.set(data, pos - start);
  return writeBlocks(disk, start, buf, opf);
}

/** fixed_size_llseek. */
function blkdev_llseek(disk: Gendisk, offset: number, whence: number, ppos: { value: number }): number {
  const size = capacityBytes(disk);
  let pos: number;
  switch (whence) {
    case SEEK_SET: pos = offset; break;
    case SEEK_CUR: pos = ppos.value + offset; break;
    case SEEK_END: pos = size + offset; break;
    case SEEK_DATA: if (offset >= size) return -ENXIO; pos = offset; break;
    case SEEK_HOLE: if (offset >= size) return -ENXIO; pos = size; break;
    default: return -EINVAL;
  }
  if (!Number.isInteger(pos) || pos < 0 || pos > size) return -EINVAL;
  ppos.value = pos;
  return pos;
}

// ---- ioctl ---------------------------------------------------------------------------------------

/** put_user of an n-byte little-endian integer into the caller's buffer: 0 or -EFAULT. */
function put(arg: UserArg, bytes: 2 | 4 | 8, value: number): number {
  if (!arg.in || arg.in.length < bytes) return -EFAULT;
  const b = new Uint8Array(bytes);
  const dv = new DataView(b.buffer);
  if (bytes === 2) dv.setUint16(0, value, true);
  else if (bytes === 4) dv.setUint32(0, value >>> 0, true);
  else dv.setBigUint64(0, BigInt(value), true);
  arg.out = b;
  return 0;
}

/** get_user of a 32-bit int, or null (EFAULT). */
function getInt(arg: UserArg): number | null {
  return arg.in && arg.in.length >= 4 ? new DataView(arg.in.buffer, arg.in.byteOffset, 4).getInt32(0, true) : null;
}

/** copy_from_user of `uint64_t range[2]`, or null (EFAULT). */
function getRange(arg: UserArg): [number, number] | null {
  if (!arg.in || arg.in.length < 16) return null;
  const dv = new DataView(arg.in.buffer, arg.in.byteOffset, 16);
  const a = dv.getBigUint64(0, true), b = dv.getBigUint64(8, true);
  if (a > BigInt(Number.MAX_SAFE_INTEGER) || b > BigInt(Number.MAX_SAFE_INTEGER)) return [Infinity, Infinity];
  return [Number(a), Number(b)];
}

/** blk_ioctl_discard / blk_ioctl_zeroout. */
async function rangeIoctl(disk: Gendisk, f: DriverFile, arg: UserArg, zero: boolean): Promise<number> {
  const q = disk.queue;
  if (!writable(f)) return -EBADF;
  if (!zero && !q.limits.max_discard_sectors) return -EOPNOTSUPP;
  if (disk._ro) return -EPERM;
  const r = getRange(arg);
  if (!r) return -EFAULT;
  const [start, len] = r;
  const mask = zero ? SECTOR_SIZE : q.limits.logical_block_size;
  if (!len || start % mask !== 0 || len % mask !== 0) return -EINVAL;
  if (start + len > capacityBytes(disk)) return -EINVAL;
  return zero ? blkdev_issue_zeroout(q, start / SECTOR_SIZE, len / SECTOR_SIZE) : blkdev_issue_discard(q, start / SECTOR_SIZE, len / SECTOR_SIZE);
}

function blkdev_ioctl(disk: Gendisk, f: DriverFile, cmd: number, arg: UserArg): number | Promise<number> {
  const lim = disk.queue.limits;
  switch (cmd) {
    case BLKGETSIZE64: return put(arg, 8, capacityBytes(disk));
    case BLKGETSIZE: return put(arg, 8, disk._capacity);
    case BLKSSZGET: return put(arg, 4, lim.logical_block_size);
    case BLKPBSZGET: return put(arg, 4, lim.physical_block_size);
    case BLKBSZGET: return put(arg, 4, Math.max(lim.logical_block_size, Math.min(PAGE_SIZE, disk._blockSize)));
    case BLKIOMIN: return put(arg, 4, lim.io_min);
    case BLKIOOPT: return put(arg, 4, lim.io_opt);
    case BLKALIGNOFF: return put(arg, 4, 0);
    case BLKDISCARDZEROES: return put(arg, 4, 0);
    case BLKROGET: return put(arg, 4, disk._ro ? 1 : 0);
    case BLKROTATIONAL: return put(arg, 2, lim.features & BLK_FEAT_ROTATIONAL ? 1 : 0);
    case BLKSECTGET: return put(arg, 2, Math.min(lim.max_sectors, 0xffff));
    case BLKGETDISKSEQ: return put(arg, 8, disk.diskseq);
    case BLKRAGET: case BLKFRAGET: return put(arg, 8, disk._readAheadKb * 2);
    case BLKRASET: case BLKFRASET:
      if (!isAdmin(f)) return -EACCES;
      disk._readAheadKb = Math.floor(arg.value / 2);
      return 0;
    case BLKBSZSET: {
      const n = getInt(arg);
      if (n === null) return -EFAULT;
      if (n < lim.logical_block_size || n > PAGE_SIZE || (n & (n - 1)) !== 0) return -EINVAL;
      disk._blockSize = n;
      return 0;
    }
    case BLKROSET: {
      if (!isAdmin(f)) return -EACCES;
      const n = getInt(arg);
      if (n === null) return -EFAULT;
      const r = disk.fops.set_read_only?.(disk, n !== 0) ?? 0;
      if (r) return r;
      disk._ro = n !== 0;
      return 0;
    }
    case BLKFLSBUF: return isAdmin(f) ? 0 : -EACCES;
    case BLKRRPART: return isAdmin(f) ? -EINVAL : -EACCES;
    case BLKDISCARD: return rangeIoctl(disk, f, arg, false);
    case BLKZEROOUT: return rangeIoctl(disk, f, arg, true);
    case BLKSECDISCARD: return writable(f) ? -EOPNOTSUPP : -EBADF;
    case HDIO_GETGEO: {
      if (!disk.fops.getgeo) return -ENOTTY;
      if (!arg.in || arg.in.length < 16) return -EFAULT;
      const geo: HdGeometry = { heads: 0, sectors: 0, cylinders: 0, start: 0 };
      const r = disk.fops.getgeo(disk, geo);
      if (r) return r;
      const b = new Uint8Array(16);
      const dv = new DataView(b.buffer);
      dv.setUint8(0, geo.heads); dv.setUint8(1, geo.sectors); dv.setUint16(2, geo.cylinders, true);
      dv.setBigUint64(8, BigInt(geo.start), true);
      arg.out = b;
      return 0;
    }
    default: {
      const drv = disk.fops.ioctl;
      if (!drv) return -ENOTTY;
      const user = arg.in ? new UserPtr(arg.in.slice()) : null;
      const then = (r: number): number => { if (user && user.written > 0) arg.out = user.mem!.subarray(0, user.written); return r; };
      const r = drv(disk, openMode(f), cmd, user ?? arg.value);
      return r instanceof Promise ? r.then(then) : then(r);
    }
  }
}

/** The DriverFileOps of a disk's node (device_add_disk registers them). */
export function blkdev_file_operations(disk: Gendisk): DriverFileOps {
  const enter = (): void => { if (disk._env) setDriverEnv(disk._env); };
  return {
    open(f) {
      enter();
      if (disk._state !== 'added') return -ENXIO;
      const open = disk.fops.open;
      const r = open ? open(disk, openMode(f)) : 0;
      const done = (v: number): number => { if (v === 0) disk._openers++; return v; };
      return r instanceof Promise ? r.then(done) : done(r);
    },
    release(_f) {
      enter();
      disk._openers = Math.max(0, disk._openers - 1);
      return disk.fops.release?.(disk);
    },
    read(f, length, pos, into) { enter(); return blkdev_read(disk, f, length, pos, into); },
    write(f, data, pos) { enter(); return blkdev_write(disk, f, data, pos); },
    llseek(_f, offset, whence, pos) { return blkdev_llseek(disk, offset, whence, pos); },
    async fsync(_f) {
      enter();
      return (await blkdev_issue_flush(disk.queue)) < 0 ? -EIO : 0;
    },
    ioctl(f, cmd, arg) { enter(); return blkdev_ioctl(disk, f, cmd, arg); },
  };
}
