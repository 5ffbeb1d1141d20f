/**
 * @module linux/blkdev.h (gendisk) + block/genhd.c
 * `struct gendisk`: `blk_mq_alloc_disk`, `set_capacity`/`get_capacity`, `set_disk_ro`,
 * `device_add_disk`/`add_disk` (the /dev node, kind 'blk', class "block", plus
 * /sys/block/<disk>/... and its queue/ directory), `del_gendisk`, `put_disk`.
 *
 * ```ts
 * const disk = blk_mq_alloc_disk(set, { logical_block_size: 4096, max_hw_sectors: 2048,
 *   features: BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA }, lu);
 * if (IS_ERR(disk)) return disk;
 * disk.major = SCSI_DISK0_MAJOR; disk.first_minor = 16 * index; disk.minors = 16;
 * disk.disk_name = 'sda'; disk.fops = sd_fops;
 * set_capacity(disk, blocks * 8);
 * const err = await device_add_disk(&pdev.dev, disk, null);   // /dev/sda is live
 * ...
 * await del_gendisk(disk); put_disk(disk);                     // remove (or left to devres)
 * ```
 *
 * Differs from Linux, and why:
 * - **Every disk has a parent device** (the disk's directory is
 *   /sys/devices/platform/<dev>/block/<disk>, reached as /sys/block/<disk>): use
 *   `device_add_disk(dev, disk, groups)`; `add_disk(disk)` works when `disk.parent` is set, and
 *   fails with -EINVAL otherwise (there is no /sys/devices/virtual here).
 * - `device_add_disk`, `del_gendisk` are async (they register the node and attributes with the
 *   kernel). `device_add_disk` also registers a devres action, so a disk the driver did not
 *   delete goes away when its parent is unbound.
 * - The capacity the kernel reports (stat, NBD) is the one at `device_add_disk`; a later
 *   `set_capacity` changes what the block layer checks, not the node's size.
 * - No partitions (`minors` only reserves the numbers; BLKRRPART gives -EINVAL).
 */
import type { AttributeSpec, DriverEnv } from '../framework/driver-port.js';
import { SECTOR_SIZE } from './blk_types.js';
import { blk_mq_alloc_queue, blk_mq_destroy_queue, blk_mq_freeze_queue_wait_timeout, failWaiting, QUEUE_FLAG_DYING, type BlkMqTagSet, type RequestQueue } from './blk-mq.js';
import type { QueueLimits } from './blkdev.js';
import { BLK_STS_IOERR } from './blk_types.js';
import { blk_sysfs_attributes } from './blk-sysfs.js';
import { blkdev_file_operations } from './block-fops.js';
import type { UserPtr } from './uaccess.js';
import { Device, dev_err } from './device.js';
import { EINVAL, EEXIST } from './errno.js';
import { currentDriverEnv } from './kernel.js';

export const GENHD_FL_REMOVABLE = 1 << 0, GENHD_FL_HIDDEN = 1 << 1, GENHD_FL_NO_PART = 1 << 2;
/** Block majors (include/uapi/linux/major.h). */
export const SCSI_DISK0_MAJOR = 8, LOOP_MAJOR = 7, MMC_BLOCK_MAJOR = 179, BLOCK_EXT_MAJOR = 259;
/** blk_mode_t bits (the open mode drivers' open/ioctl see). */
export const BLK_OPEN_READ = 1 << 0, BLK_OPEN_WRITE = 1 << 1, BLK_OPEN_EXCL = 1 << 2, BLK_OPEN_NDELAY = 1 << 3;

/** `struct hd_geometry` (HDIO_GETGEO). */
export interface HdGeometry { heads: number; sectors: number; cylinders: number; start: number }

/** `struct block_device_operations`: the driver's hooks on its disks (all optional). */
export interface BlockDeviceOperations {
  open?(disk: Gendisk, mode: number): number | Promise<number>;
  release?(disk: Gendisk): void | Promise<void>;
  /** Commands the block layer does not handle itself (Linux: sd_ioctl for SG_IO...). */
  ioctl?(disk: Gendisk, mode: number, cmd: number, arg: UserPtr | number): number | Promise<number>;
  getgeo?(disk: Gendisk, geo: HdGeometry): number;
  set_read_only?(disk: Gendisk, ro: boolean): number;
}
export type block_device_operations = BlockDeviceOperations;

/** A disk attribute of a driver's groups (`struct attribute_group` of device attributes). */
export interface DiskAttribute {
  name: string;
  mode: number;
  show?: (disk: Gendisk) => string | Promise<string>;
  store?: (disk: Gendisk, value: string) => number | void | Promise<number | void>;
}

export class Gendisk {
  major = 0;
  first_minor = 0;
  minors = 1;
  disk_name = '';
  flags = 0;
  fops: BlockDeviceOperations = {};
  private_data: unknown = null;
  /** The parent device (device_add_disk sets it; add_disk needs it set). */
  parent: Device | null = null;
  /** /sys/block/<disk>/diskseq. */
  diskseq = 0;
  /** @internal capacity, 512-byte sectors */
  _capacity = 0;
  /** @internal */
  _ro = false;
  /** @internal */
  _state: 'allocated' | 'added' | 'deleted' | 'released' = 'allocated';
  /** @internal */
  _node: number | null = null;
  /** @internal */
  _attrs: number[] = [];
  /** @internal */
  _env: DriverEnv | null;
  /** @internal open files */
  _openers = 0;
  /** @internal /sys/block/<disk>/queue/read_ahead_kb and rq_affinity (kept, not used). */
  _readAheadKb = 128;
  /** @internal BLKBSZGET/BLKBSZSET soft block size. */
  _blockSize = 4096;
  _rqAffinity = 1;
  /** @internal unaligned writes run one at a time (read-modify-write). */
  _rmw: Promise<unknown> = Promise.resolve();

  constructor(readonly queue: RequestQueue) {
    this._env = currentDriverEnv();
  }
}
export type gendisk = Gendisk;

let nextDiskseq = 1;

/**
 * blk_mq_alloc_disk(set, lim, queuedata): a disk with its own request queue over `set`.
 * Returns the disk or a negative errno (IS_ERR).
 */
export function blk_mq_alloc_disk(set: BlkMqTagSet, lim: Partial<QueueLimits> | null, queuedata: unknown): Gendisk | number {
  const q = blk_mq_alloc_queue(set, lim, queuedata);
  if (typeof q === 'number') return q;
  const disk = new Gendisk(q);
  q.disk = disk;
  return disk;
}

/** set_capacity(disk, sectors): the size in 512-byte sectors. */
export function set_capacity(disk: Gendisk, sectors: number): void {
  disk._capacity = Math.max(0, Math.floor(sectors));
}
export const get_capacity = (disk: Gendisk): number => disk._capacity;
/** bdev_nr_bytes of the whole disk. */
export const get_capacity_bytes = (disk: Gendisk): number => disk._capacity * SECTOR_SIZE;

export function set_disk_ro(disk: Gendisk, ro: boolean): void { disk._ro = ro; }
export const get_disk_ro = (disk: Gendisk): boolean => disk._ro;
export const disk_live = (disk: Gendisk): boolean => disk._state === 'added';

const NAME_RE = /^[a-z][a-z0-9]{0,30}$/;

function attrSpec(disk: Gendisk, a: DiskAttribute): AttributeSpec {
  return {
    name: a.name, mode: a.mode, dir: `block/${disk.disk_name}`,
    show: a.show ? () => a.show!(disk) : undefined,
    store: a.store ? (v) => a.store!(disk, v) : undefined,
  };
}

/**
 * device_add_disk(parent, disk, groups): makes the disk live: /dev/<disk_name> (block, major
 * `disk.major` or a dynamic one when 0, minor `first_minor`), /sys/block/<disk>/ with size, ro,
 * removable, stat, inflight, queue/... and the driver's `groups`. 0 or a negative errno.
 */
export async function device_add_disk(parent: Device, disk: Gendisk, groups: readonly DiskAttribute[] | null): Promise<number> {
  if (disk._state !== 'allocated') return disk._state === 'added' ? -EEXIST : -EINVAL;
  if (!NAME_RE.test(disk.disk_name)) { dev_err(parent, `add_disk: invalid disk name "${disk.disk_name}"`); return -EINVAL; }
  disk.parent = parent;
  const env = parent.env;
  disk._env = env;
  disk.queue._env = env;
  disk.diskseq = nextDiskseq++;
  const binding = parent.binding;
  try {
    const r = await env.registerNode(binding, {
      path: `/dev/${disk.disk_name}`, kind: 'blk', mode: 0o660, major: disk.major, minor: disk.first_minor,
      className: 'block', size: get_capacity_bytes(disk),
    }, blkdev_file_operations(disk));
    disk._node = r.node;
    disk.major = r.major;
    disk.first_minor = r.minor;
  } catch (e) {
    dev_err(parent, `add_disk ${disk.disk_name}: ${(e as Error).message}`);
    return (e as { errno?: number }).errno ?? -EINVAL;
  }
  disk._state = 'added';
  const specs = [...blk_sysfs_attributes(disk), ...(groups ?? []).map((a) => attrSpec(disk, a))];
  try {
    disk._attrs = await Promise.all(specs.map((s) => env.addAttribute(binding, s)));
  } catch (e) {
    dev_err(parent, `add_disk ${disk.disk_name}: sysfs: ${(e as Error).message}`);
    await del_gendisk(disk);
    return (e as { errno?: number }).errno ?? -EINVAL;
  }
  parent.devres.push(async () => { if (disk._state === 'added') await del_gendisk(disk); });
  return 0;
}

/** add_disk(disk): device_add_disk(disk.parent, disk, null); -EINVAL without a parent (see the module notes). */
export async function add_disk(disk: Gendisk): Promise<number> {
  if (!disk.parent) {
    currentDriverEnv()?.log(3, `add_disk ${disk.disk_name}: no parent device; use device_add_disk(&pdev.dev, disk, null)`);
    return -EINVAL;
  }
  return device_add_disk(disk.parent, disk, null);
}

/** How long del_gendisk waits for requests in the driver before going ahead. */
const DEL_GENDISK_DRAIN_MS = 5_000;

/**
 * del_gendisk(disk): the node and sysfs entries go (open files get ENODEV), bios waiting for a
 * tag fail with an I/O error, and requests in the driver are waited for (bounded).
 */
export async function del_gendisk(disk: Gendisk): Promise<void> {
  if (disk._state !== 'added') return;
  disk._state = 'deleted';
  const q = disk.queue;
  const env = disk._env ?? currentDriverEnv();
  q.queue_flags |= QUEUE_FLAG_DYING;
  failWaiting(q, BLK_STS_IOERR);
  if (env && disk._node !== null) {
    const node = disk._node;
    disk._node = null;
    await env.unregisterNode(node).catch(() => undefined);
  }
  for (const a of disk._attrs.splice(0)) await env?.removeAttribute(a).catch(() => undefined);
  if (!await blk_mq_freeze_queue_wait_timeout(q, Math.max(DEL_GENDISK_DRAIN_MS, q.rq_timeout))) {
    env?.log(4, `${disk.disk_name}: del_gendisk: ${q._busy} request(s) still in the driver`);
  }
}

/** put_disk(disk): drops the disk and its queue (after del_gendisk, or when add_disk was never called). */
export function put_disk(disk: Gendisk): void {
  if (disk._state === 'released') return;
  if (disk._state === 'added') currentDriverEnv()?.log(4, `put_disk(${disk.disk_name}) before del_gendisk`);
  disk._state = 'released';
  blk_mq_destroy_queue(disk.queue);
}
