/**
 * @module vfs/file-io
 * What each kind of node does for the calls on an open file: device nodes forward to their
 * `DeviceFileOperations`; attributes and generated files serve a content snapshot locally.
 */
import type { IoctlArg, IoctlResult } from './types.js';
import { POLL } from './types.js';
import { callOp, checkRet, opError, sysErr } from './errors.js';
import type { AttrNode, DeviceNode } from './node.js';
import type { OpenFile } from './open-file.js';

/** Longest single read or write (Linux MAX_RW_COUNT is about 2 GiB; ours is smaller). */
export const MAX_RW_COUNT = 1 << 20;
/** An attribute's rendered value and a store() input are at most one page. */
export const ATTRIBUTE_MAX = 4096;
/** Readiness of nodes that do not implement poll (Linux DEFAULT_POLLMASK). */
export const DEFAULT_POLLMASK = POLL.IN | POLL.OUT | POLL.RDNORM | POLL.WRNORM;

const SEEK_SET = 0;
const SEEK_CUR = 1;
const SEEK_END = 2;

function checkLive(file: OpenFile, syscall: string): void {
  if (file.revoked !== undefined) throw sysErr(file.revoked, syscall, file.path);
}

function deviceOf(file: OpenFile): DeviceNode | undefined {
  const node = file.node;
  return node.kind === 'chr' || node.kind === 'blk' ? node : undefined;
}

/** Work done at open: the device's open(), or generating a procfs-style file's content. */
export async function openNode(file: OpenFile, errPath: string): Promise<void> {
  const node = file.node;
  if (node.kind === 'chr' || node.kind === 'blk') {
    await callOp('open', errPath, () => node.ops.open(file.info));
  } else if (node.kind === 'attr') {
    file.event = node.event;
  } else if (node.kind === 'gen') {
    const text = await callOp('open', errPath, () => node.generate());
    file.content = Buffer.from(String(text), 'utf8');
  }
}

/** The device's release(); a failure there cannot be reported anywhere (close already returned). */
export async function releaseNode(file: OpenFile): Promise<void> {
  const dev = deviceOf(file);
  if (dev === undefined || file.revoked !== undefined) return;
  try {
    await dev.ops.release(file.info);
  } catch {
    // Linux ignores release's return value as well.
  }
}

async function renderAttribute(file: OpenFile, node: AttrNode): Promise<Buffer> {
  const show = node.ops.show;
  if (show === undefined) throw sysErr('EACCES', 'read', file.path);
  const event = node.event;
  const text = await callOp('read', file.path, () => show.call(node.ops));
  file.event = event;
  file.content = Buffer.from(String(text), 'utf8').subarray(0, ATTRIBUTE_MAX);
  return file.content;
}

/**
 * Reads up to `length` bytes at `position` (undefined = the file position, which then moves).
 * Returns the bytes read; an empty result is end of file.
 */
export async function fileRead(file: OpenFile, length: number, position?: number, into?: Uint8Array): Promise<Uint8Array> {
  checkLive(file, 'read');
  if (!file.readable) throw sysErr('EBADF', 'read', file.path);
  const count = Math.min(length, MAX_RW_COUNT);
  const node = file.node;
  switch (node.kind) {
    case 'dir':
      throw sysErr('EISDIR', 'read', file.path);
    case 'chr':
    case 'blk': {
      const read = node.ops.read;
      if (read === undefined) throw sysErr('EINVAL', 'read', file.path);
      if (position !== undefined && node.ops.llseek === undefined) throw sysErr('ESPIPE', 'read', file.path);
      if (count === 0) return new Uint8Array(0);
      const pos = position ?? file.position;
      const dst = into && into.length >= count ? (into.length === count ? into : into.subarray(0, count)) : undefined;
      let res: Awaited<ReturnType<typeof read>>;
      try { // callOp, inlined: this is every device read
        res = await read.call(node.ops, file.info, count, pos, dst);
      } catch (e) {
        throw opError(e, 'read', file.path);
      }
      const data = res.data.length > count ? res.data.subarray(0, count) : res.data;
      if (position === undefined) file.position = typeof res.position === 'number' ? res.position : pos + data.length;
      return data;
    }
    default: {
      const content = file.content ?? (node.kind === 'attr' ? await renderAttribute(file, node) : Buffer.alloc(0));
      const pos = position ?? file.position;
      const data = content.subarray(Math.min(pos, content.length), Math.min(pos + count, content.length));
      if (position === undefined) file.position = pos + data.length;
      return data;
    }
  }
}

/** Writes `data` at `position` (undefined = the file position); returns the bytes written. */
export async function fileWrite(file: OpenFile, data: Uint8Array, position?: number): Promise<number> {
  checkLive(file, 'write');
  if (!file.writable) throw sysErr('EBADF', 'write', file.path);
  const node = file.node;
  switch (node.kind) {
    case 'chr':
    case 'blk': {
      const write = node.ops.write;
      if (write === undefined) throw sysErr('EINVAL', 'write', file.path);
      if (position !== undefined && node.ops.llseek === undefined) throw sysErr('ESPIPE', 'write', file.path);
      const chunk = data.subarray(0, MAX_RW_COUNT);
      const pos = position ?? file.position;
      const res = await callOp('write', file.path, () => write.call(node.ops, file.info, chunk, pos));
      const written = Math.min(checkRet(res.written, 'write', file.path), chunk.length);
      if (position === undefined) file.position = typeof res.position === 'number' ? res.position : pos + written;
      return written;
    }
    case 'attr': {
      const store = node.ops.store;
      if (store === undefined) throw sysErr('EACCES', 'write', file.path);
      const chunk = data.subarray(0, ATTRIBUTE_MAX);
      if (chunk.length === 0) return 0;
      const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).toString('utf8');
      await callOp('write', file.path, () => store.call(node.ops, text));
      if (position === undefined) file.position += chunk.length;
      return chunk.length;
    }
    case 'dir':
      throw sysErr('EISDIR', 'write', file.path);
    default:
      throw sysErr('EINVAL', 'write', file.path);
  }
}

/** ioctl; copies `out` back into a buffer argument (as copy_to_user would). */
export async function fileIoctl(file: OpenFile, cmd: number, arg: IoctlArg): Promise<IoctlResult> {
  checkLive(file, 'ioctl');
  const dev = deviceOf(file);
  const ioctl = dev?.ops.ioctl;
  if (dev === undefined || ioctl === undefined) throw sysErr('ENOTTY', 'ioctl', file.path);
  const res = await callOp('ioctl', file.path, () => ioctl.call(dev.ops, file.info, cmd, arg));
  checkRet(res.ret, 'ioctl', file.path);
  if (arg instanceof Uint8Array && res.out !== undefined) {
    arg.set(res.out.subarray(0, Math.min(arg.length, res.out.length)));
  }
  return res;
}

/** Maps `length` bytes at `offset` of a device: a view on the memory the device shares. */
export async function fileMmap(file: OpenFile, length: number, offset: number): Promise<Uint8Array> {
  checkLive(file, 'mmap');
  if (!Number.isInteger(length) || length <= 0) throw sysErr('EINVAL', 'mmap', file.path, 'bad length');
  if (!Number.isInteger(offset) || offset < 0) throw sysErr('EINVAL', 'mmap', file.path, 'bad offset');
  if (!file.readable) throw sysErr('EACCES', 'mmap', file.path);
  const dev = deviceOf(file);
  const mmap = dev?.ops.mmap;
  if (dev === undefined || mmap === undefined) throw sysErr('ENODEV', 'mmap', file.path);
  const region = await callOp('mmap', file.path, () => mmap.call(dev.ops, file.info, length, offset));
  if (region.length < length || region.offset < 0 || region.offset + length > region.buffer.byteLength) {
    throw sysErr('EINVAL', 'mmap', file.path, 'beyond the mappable region');
  }
  return new Uint8Array(region.buffer, region.offset, length);
}

export async function fileFsync(file: OpenFile): Promise<void> {
  checkLive(file, 'fsync');
  const node = file.node;
  if (node.kind === 'attr' || node.kind === 'dir') return; // nothing buffered (kernfs: noop_fsync)
  const dev = deviceOf(file);
  const fsync = dev?.ops.fsync;
  if (dev === undefined || fsync === undefined) throw sysErr('EINVAL', 'fsync', file.path);
  await callOp('fsync', file.path, () => fsync.call(dev.ops, file.info));
}

/** lseek: the device's llseek (ESPIPE without one); local for the other kinds. */
export async function fileSeek(file: OpenFile, offset: number, whence: number): Promise<number> {
  checkLive(file, 'lseek');
  if (!Number.isInteger(offset)) throw sysErr('EINVAL', 'lseek', file.path);
  const dev = deviceOf(file);
  if (dev !== undefined) {
    const llseek = dev.ops.llseek;
    if (llseek === undefined) throw sysErr('ESPIPE', 'lseek', file.path);
    const pos = await callOp('lseek', file.path, () => llseek.call(dev.ops, file.info, offset, whence, file.position));
    file.position = checkRet(pos, 'lseek', file.path);
    return file.position;
  }
  let base: number;
  if (whence === SEEK_SET) base = 0;
  else if (whence === SEEK_CUR) base = file.position;
  else if (whence === SEEK_END) base = file.content?.length ?? 0;
  else throw sysErr('EINVAL', 'lseek', file.path);
  const pos = base + offset;
  if (pos < 0) throw sysErr('EINVAL', 'lseek', file.path);
  // Rewinding an attribute renders it afresh on the next read (the sysfs poll/seek/read idiom).
  if (pos === 0 && file.node.kind === 'attr') file.content = undefined;
  file.position = pos;
  return pos;
}

/** Readiness for poll: revoked files report an error and hang-up; failures report POLLERR. */
export async function filePollMask(file: OpenFile): Promise<number> {
  if (file.revoked !== undefined) return POLL.ERR | POLL.HUP;
  const node = file.node;
  if (node.kind === 'attr') {
    return DEFAULT_POLLMASK | (node.event !== file.event ? POLL.ERR | POLL.PRI : 0);
  }
  const dev = deviceOf(file);
  const poll = dev?.ops.poll;
  if (dev === undefined || poll === undefined) return DEFAULT_POLLMASK;
  try {
    const mask = await poll.call(dev.ops, file.info);
    return file.revoked !== undefined ? POLL.ERR | POLL.HUP : mask;
  } catch {
    return POLL.ERR;
  }
}
