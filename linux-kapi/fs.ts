/**
 * @module linux/fs.h
 * struct file, struct file_operations and the adapter that serves them to the container.
 * Operations keep Linux's signatures: read(filp, buf, count, ppos) copies to a `__user`
 * buffer with copy_to_user and returns the count or -errno.
 */
import type { DriverEnv, DriverFile, DriverFileOps } from '../framework/driver-port.js';
import { UserPtr } from './uaccess.js';
import { setDriverEnv } from './kernel.js';
import type { PollTable } from './wait.js';
import { EINVAL } from './errno.js';
import { lockdep_task } from './lockdep.js';

export const O_ACCMODE = 3, O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_NONBLOCK = 0o4000, O_APPEND = 0o2000;
export const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2;

/** Linux's `loff_t *ppos`: a boxed position. */
export interface Loff { value: number }

export interface Inode {
  readonly i_rdev: number;
  /** The cdev the node belongs to (character devices made with cdev_add + device_create). */
  readonly i_cdev?: unknown;
}

export class File {
  private_data: unknown = undefined;
  constructor(readonly env: DriverEnv, readonly node: number, private readonly raw: DriverFile) {}
  get f_flags(): number { return this.raw.flags; }
  get f_cred(): { uid: number; gid: number } { return this.raw.cred; }
}

/** Linux `struct file_operations`, TypeScript style (absent members take Linux defaults). */
export interface FileOperations {
  open?(inode: Inode, filp: File): number | Promise<number>;
  release?(inode: Inode, filp: File): number | Promise<number>;
  read?(filp: File, buf: UserPtr, count: number, ppos: Loff): number | Promise<number>;
  write?(filp: File, buf: UserPtr, count: number, ppos: Loff): number | Promise<number>;
  unlocked_ioctl?(filp: File, cmd: number, arg: UserPtr | number): number | Promise<number>;
  poll?(filp: File, pt: PollTable | null): number | Promise<number>;
  mmap?(filp: File, vma: VmAreaStruct): number | Promise<number>;
  llseek?(filp: File, offset: number, whence: number, ppos: Loff): number | Promise<number>;
  fsync?(filp: File): number | Promise<number>;
}

/** What mmap sees; the driver sets `region` (see remap_shared) to map shared memory. */
export interface VmAreaStruct {
  readonly vm_start: number;
  readonly vm_end: number;
  readonly vm_pgoff: number;
  region?: { region: number; offset: number; length: number };
}

/** noop_llseek / no_llseek helpers. */
export const no_llseek = undefined;
export function default_llseek(_f: File, offset: number, whence: number, ppos: Loff, size = 0): number {
  const base = whence === SEEK_SET ? 0 : whence === SEEK_CUR ? ppos.value : whence === SEEK_END ? size : NaN;
  const pos = base + offset;
  if (!Number.isFinite(pos) || pos < 0) return -EINVAL;
  ppos.value = pos;
  return pos;
}

type M<T> = T | Promise<T>;
const then = <T, R>(v: M<T>, f: (t: T) => R): M<R> => (v instanceof Promise ? v.then(f) : f(v));

/** Adapts Linux-shaped file_operations to the container's DriverFileOps. */
export function adaptFileOperations(env: DriverEnv, nodeRef: () => number, fops: FileOperations,
  inode: Inode, initialPrivate?: unknown): DriverFileOps {
  const files = new WeakMap<DriverFile, File>();
  const fileOf = (f: DriverFile): File => {
    setDriverEnv(env); // every file operation enters through here: re-enter this driver's env
    let x = files.get(f);
    if (!x) { x = new File(env, nodeRef(), f); x.private_data = initialPrivate; files.set(f, x); }
    return x;
  };
  const ops: DriverFileOps = {
    open: (f) => (fops.open ? fops.open(inode, fileOf(f)) : 0),
    release: (f) => (fops.release ? fops.release(inode, fileOf(f)) : 0),
  };
  if (fops.read) ops.read = (f, length, pos, into) => {
    // In IC0 the user's buffer itself: copy_to_user lands where read(2)'s caller wants it.
    const buf = new UserPtr(into && into.length >= length ? into.subarray(0, length) : new Uint8Array(length));
    return then(fops.read!(fileOf(f), buf, length, pos), (r) => (r < 0 ? r : buf.mem!.subarray(0, Math.min(r, buf.written))));
  };
  if (fops.write) ops.write = (f, data, pos) => fops.write!(fileOf(f), new UserPtr(data), data.length, pos);
  if (fops.unlocked_ioctl) ops.ioctl = (f, cmd, arg) => {
    const user = arg.in ? new UserPtr(arg.in.slice()) : null;
    return then(fops.unlocked_ioctl!(fileOf(f), cmd, user ?? arg.value), (r) => {
      if (user && user.written > 0) arg.out = user.mem!.subarray(0, user.written);
      return r;
    });
  };
  if (fops.poll) ops.poll = (f) => { const file = fileOf(f); return fops.poll!(file, { file }); };
  if (fops.mmap) ops.mmap = (f, length, offset) => {
    const vma: VmAreaStruct = { vm_start: 0, vm_end: length, vm_pgoff: Math.floor(offset / 4096) };
    return then(fops.mmap!(fileOf(f), vma), (r) => (r < 0 ? r : vma.region ?? -EINVAL));
  };
  if (fops.llseek) ops.llseek = (f, off, whence, pos) => fops.llseek!(fileOf(f), off, whence, pos);
  if (fops.fsync) ops.fsync = (f) => fops.fsync!(fileOf(f));
  // Debug mode: every file operation is its own lockdep "task" (locks it holds across awaits are its own).
  for (const k of Object.keys(ops) as (keyof DriverFileOps)[]) {
    const op = ops[k] as (...a: unknown[]) => unknown;
    (ops as Record<string, unknown>)[k] = (...a: unknown[]) => lockdep_task(env, k, () => op(...a));
  }
  return ops;
}
