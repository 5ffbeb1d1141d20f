/**
 * hmecho: a misc character device written as a Linux driver would be.
 *
 * /dev/hmecho is a byte FIFO: write() appends, read() consumes. A read on an empty FIFO
 * blocks (or fails with -EAGAIN under O_NONBLOCK); a write to a full one likewise. poll()
 * reports POLLIN when there is data and POLLOUT when there is room. mmap() maps a shared
 * 4 KiB mailbox page: HMECHO_IOC_PUSH appends bytes written there to the FIFO without a copy
 * through read/write. Runs unchanged in IC0, IC1 and IC2.
 */
import {
  _IO, _IOR, _IOW, _IOWR, _IOC_NR, _IOC_SIZE, _IOC_TYPE, copy_from_user, copy_to_user, dev_err, dev_info,
  devm_add_action_or_reset, EAGAIN, EFAULT, EINVAL, ENOTTY, alloc_shared_pages, init_waitqueue_head,
  misc_deregister, misc_register, module_param, module_platform_driver, MISC_DYNAMIC_MINOR, O_NONBLOCK,
  of_property_read_string, of_property_read_u32, platform_set_drvdata, poll_wait, POLLIN, POLLOUT,
  POLLRDNORM, POLLWRNORM, remap_shared, wait_event_interruptible, wake_up_interruptible,
  type File, type FileOperations, type Loff, type MiscDevice, type PlatformDevice, type UserPtr,
  type VmAreaStruct, type WaitQueueHead,
} from '../../linux-kapi/index.js';
import type { SharedRegion } from '../../framework/driver-port.js';

export const HMECHO_IOC_MAGIC = 'E';
export const HMECHO_IOC_RESET = _IO(HMECHO_IOC_MAGIC, 0);
export const HMECHO_IOC_GET_COUNT = _IOR(HMECHO_IOC_MAGIC, 1, 4);
export const HMECHO_IOC_GET_SIZE = _IOR(HMECHO_IOC_MAGIC, 2, 4);
export const HMECHO_IOC_SET_SIZE = _IOW(HMECHO_IOC_MAGIC, 3, 4);
export const HMECHO_IOC_GET_STATS = _IOR(HMECHO_IOC_MAGIC, 4, 32);
export const HMECHO_IOC_PING = _IOWR(HMECHO_IOC_MAGIC, 5, 8);
export const HMECHO_IOC_PUSH = _IOW(HMECHO_IOC_MAGIC, 6, 4);

const MAILBOX_BYTES = 4096;
const MAX_BUFFER = 1 << 20;

interface Echo {
  /** First member, so container_of(misc) is a lookup by the misc object. */
  misc: MiscDevice;
  buf: Uint8Array;
  head: number;
  count: number;
  readq: WaitQueueHead;
  writeq: WaitQueueHead;
  stats: { reads: bigint; writes: bigint; bytesIn: bigint; bytesOut: bigint };
  mailbox?: SharedRegion;
}

const echoes = new Map<MiscDevice, Echo>();
const echoOf = (filp: File): Echo => filp.private_data as Echo;

function push(e: Echo, src: Uint8Array): number {
  const n = Math.min(src.length, e.buf.length - e.count);
  for (let i = 0; i < n; i++) e.buf[(e.head + e.count + i) % e.buf.length] = src[i]!;
  e.count += n;
  return n;
}

function pop(e: Echo, n: number): Uint8Array {
  n = Math.min(n, e.count);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = e.buf[(e.head + i) % e.buf.length]!;
  e.head = (e.head + n) % e.buf.length;
  e.count -= n;
  return out;
}

async function hmecho_read(filp: File, buf: UserPtr, count: number, _ppos: Loff): Promise<number> {
  const e = echoOf(filp);
  if (count === 0) return 0;
  if (e.count === 0) {
    if (filp.f_flags & O_NONBLOCK) return -EAGAIN;
    await wait_event_interruptible(e.readq, () => e.count > 0);
  }
  const data = pop(e, count);
  if (copy_to_user(buf, data)) return -EFAULT;
  e.stats.reads++;
  e.stats.bytesOut += BigInt(data.length);
  wake_up_interruptible(e.writeq);
  return data.length;
}

async function hmecho_write(filp: File, buf: UserPtr, count: number, _ppos: Loff): Promise<number> {
  const e = echoOf(filp);
  if (count === 0) return 0;
  if (e.count === e.buf.length) {
    if (filp.f_flags & O_NONBLOCK) return -EAGAIN;
    await wait_event_interruptible(e.writeq, () => e.count < e.buf.length);
  }
  const k = new Uint8Array(Math.min(count, e.buf.length - e.count));
  if (copy_from_user(k, buf, k.length)) return -EFAULT;
  const n = push(e, k);
  e.stats.writes++;
  e.stats.bytesIn += BigInt(n);
  wake_up_interruptible(e.readq);
  return n;
}

function hmecho_ioctl(filp: File, cmd: number, arg: UserPtr | number): number {
  const e = echoOf(filp);
  if (_IOC_TYPE(cmd) !== HMECHO_IOC_MAGIC.charCodeAt(0)) return -ENOTTY;
  const user = typeof arg === 'number' ? null : arg;
  const u32 = (v: number): Uint8Array => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v, true); return b; };
  // A known command number with the wrong size encoded in it is -EINVAL, as many drivers answer.
  const expectSize = (c: number): boolean => _IOC_NR(cmd) === _IOC_NR(c) && _IOC_SIZE(cmd) === _IOC_SIZE(c) && cmd === c;
  const nr = _IOC_NR(cmd);
  const known = [HMECHO_IOC_RESET, HMECHO_IOC_GET_COUNT, HMECHO_IOC_GET_SIZE, HMECHO_IOC_SET_SIZE, HMECHO_IOC_GET_STATS, HMECHO_IOC_PING, HMECHO_IOC_PUSH];
  const c = known.find((k) => _IOC_NR(k) === nr);
  if (!c) return -ENOTTY;
  if (!expectSize(c)) return -EINVAL;
  switch (cmd) {
    case HMECHO_IOC_RESET:
      e.head = 0; e.count = 0;
      wake_up_interruptible(e.writeq);
      return 0;
    case HMECHO_IOC_GET_COUNT: return user && !copy_to_user(user, u32(e.count)) ? 0 : -EFAULT;
    case HMECHO_IOC_GET_SIZE: return user && !copy_to_user(user, u32(e.buf.length)) ? 0 : -EFAULT;
    case HMECHO_IOC_SET_SIZE: {
      const b = new Uint8Array(4);
      if (!user || copy_from_user(b, user, 4)) return -EFAULT;
      const size = new DataView(b.buffer).getUint32(0, true);
      if (size < 16 || size > MAX_BUFFER || size < e.count) return -EINVAL;
      const data = pop(e, e.count);
      e.buf = new Uint8Array(size); e.head = 0; e.count = 0;
      push(e, data);
      wake_up_interruptible(e.writeq);
      return 0;
    }
    case HMECHO_IOC_GET_STATS: {
      const b = new Uint8Array(32);
      const v = new DataView(b.buffer);
      v.setBigUint64(0, e.stats.reads, true); v.setBigUint64(8, e.stats.writes, true);
      v.setBigUint64(16, e.stats.bytesIn, true); v.setBigUint64(24, e.stats.bytesOut, true);
      return user && !copy_to_user(user, b) ? 0 : -EFAULT;
    }
    case HMECHO_IOC_PING: {
      const b = new Uint8Array(8);
      if (!user || copy_from_user(b, user, 8)) return -EFAULT;
      const v = new DataView(b.buffer);
      v.setBigUint64(0, v.getBigUint64(0, true) + 1n, true);
      return copy_to_user(user, b) ? -EFAULT : 0;
    }
    case HMECHO_IOC_PUSH: {
      const b = new Uint8Array(4);
      if (!user || copy_from_user(b, user, 4)) return -EFAULT;
      const len = new DataView(b.buffer).getUint32(0, true);
      if (!e.mailbox || len > MAILBOX_BYTES) return -EINVAL;
      const n = push(e, new Uint8Array(e.mailbox.buffer, e.mailbox.offset, len));
      if (n) { e.stats.writes++; e.stats.bytesIn += BigInt(n); wake_up_interruptible(e.readq); }
      return n;
    }
  }
  return -ENOTTY;
}

function hmecho_poll(filp: File): number {
  const e = echoOf(filp);
  poll_wait(filp, e.readq, null);
  poll_wait(filp, e.writeq, null);
  let mask = 0;
  if (e.count > 0) mask |= POLLIN | POLLRDNORM;
  if (e.count < e.buf.length) mask |= POLLOUT | POLLWRNORM;
  return mask;
}

async function hmecho_mmap(filp: File, vma: VmAreaStruct): Promise<number> {
  const e = echoOf(filp);
  if (vma.vm_end - vma.vm_start > MAILBOX_BYTES || vma.vm_pgoff !== 0) return -EINVAL;
  e.mailbox ??= await alloc_shared_pages(MAILBOX_BYTES, filp);
  return remap_shared(vma, e.mailbox);
}

const hmecho_fops: FileOperations = {
  open: (_inode, filp) => {
    const e = echoes.get(filp.private_data as MiscDevice); // container_of(misc, struct echo, misc)
    if (!e) return -19;
    filp.private_data = e;
    return 0;
  },
  read: hmecho_read,
  write: hmecho_write,
  unlocked_ioctl: hmecho_ioctl,
  poll: hmecho_poll,
  mmap: hmecho_mmap,
};

async function hmecho_probe(pdev: PlatformDevice): Promise<number> {
  const dev = pdev.dev;
  let [err, size] = of_property_read_u32(dev, 'buffer-size');
  if (err) size = module_param('buffer_size', 4096);
  if (size < 16 || size > MAX_BUFFER) {
    dev_err(dev, `buffer-size ${size} out of range 16..${MAX_BUFFER}`);
    return -EINVAL;
  }
  const [nerr, name] = of_property_read_string(dev, 'node-name');
  const e: Echo = {
    misc: { minor: MISC_DYNAMIC_MINOR, name: nerr ? 'hmecho' : name, fops: hmecho_fops, parent: dev, mode: 0o666 },
    buf: new Uint8Array(size), head: 0, count: 0, readq: init_waitqueue_head(), writeq: init_waitqueue_head(),
    stats: { reads: 0n, writes: 0n, bytesIn: 0n, bytesOut: 0n },
  };
  // The node is live (openable) as soon as misc_register returns: be ready before it, as Linux requires.
  echoes.set(e.misc, e);
  err = await misc_register(e.misc);
  if (err) { echoes.delete(e.misc); dev_err(dev, `misc_register failed: ${err}`); return err; }
  devm_add_action_or_reset(dev, async () => { echoes.delete(e.misc); await misc_deregister(e.misc); });
  platform_set_drvdata(pdev, e);
  dev_info(dev, `/dev/${e.misc.name} ready, ${size}-byte FIFO (misc minor ${e.misc.minor})`);
  return 0;
}

export default module_platform_driver({
  probe: hmecho_probe,
  driver: { name: 'hmecho', of_match_table: [{ compatible: 'hmdrv,echo' }] },
});
