/**
 * @module vfs/types
 * The contract between the VFS and whatever backs a node: a driver's character device
 * (served by a container), a sysfs attribute, a procfs file. Operations are async because a
 * node may live in another thread or process; they fail by throwing `SystemError` (or by
 * returning a negative errno where noted, which the VFS converts).
 */
import type { IDisposable } from '../lifecycle/disposable.js';

/** Who is asking: checked against a node's mode, uid and gid (root, uid 0, bypasses rw checks). */
export interface Credentials {
  uid: number;
  gid: number;
  groups?: readonly number[];
}

export const ROOT: Credentials = Object.freeze({ uid: 0, gid: 0 });

/** open(2) flags, Linux values. */
export const O = {
  RDONLY: 0, WRONLY: 1, RDWR: 2, ACCMODE: 3,
  CREAT: 0o100, EXCL: 0o200, NOCTTY: 0o400, TRUNC: 0o1000, APPEND: 0o2000,
  NONBLOCK: 0o4000, DSYNC: 0o10000, DIRECT: 0o40000, DIRECTORY: 0o200000, CLOEXEC: 0o2000000,
  SYNC: 0o4010000,
} as const;

/** poll(2) event bits. */
export const POLL = {
  IN: 0x1, PRI: 0x2, OUT: 0x4, ERR: 0x8, HUP: 0x10, NVAL: 0x20, RDNORM: 0x40, WRNORM: 0x100,
} as const;

/** File type bits of st_mode. */
export const S_IF = { MT: 0o170000, DIR: 0o040000, CHR: 0o020000, BLK: 0o060000, REG: 0o100000, LNK: 0o120000 } as const;

/** What a driver-backed node sees of an open file (Linux `struct file`, trimmed). */
export interface OpenFileInfo {
  /** Kernel-wide id of this open file description (not the fd: dup'd fds share it). */
  readonly id: number;
  readonly path: string;
  readonly flags: number;
  readonly cred: Credentials;
}

/** ioctl argument as passed by the caller: a buffer (pointer to a user struct) or an integer. */
export type IoctlArg = Uint8Array | number | undefined;

export interface IoctlResult {
  /** Return value of the ioctl (>= 0). */
  ret: number;
  /** Bytes to copy back into the caller's buffer (for _IOR/_IOWR), starting at offset 0. */
  out?: Uint8Array;
}

/** A region a node lets the caller map (mmap): shared memory both sides see. */
export interface MappedRegion {
  /** The whole shared region; `offset`/`length` select the mapped window. */
  buffer: SharedArrayBuffer;
  offset: number;
  length: number;
}

/**
 * Operations of a character (or block) device node: Linux `file_operations`, async.
 * Missing optional operations get Linux's defaults: read/write -EINVAL, ioctl -ENOTTY,
 * poll "always readable and writable", mmap -ENODEV, llseek -ESPIPE, fsync -EINVAL.
 */
export interface DeviceFileOperations {
  open(file: OpenFileInfo): Promise<void>;
  release(file: OpenFileInfo): Promise<void>;
  /**
   * `into`, when given, is the caller's own memory for the result (at least `length` bytes): a
   * device may write the bytes there and return a view of it, and the VFS skips its copy.
   */
  read?(file: OpenFileInfo, length: number, position: number, into?: Uint8Array): Promise<{ data: Uint8Array; position: number }>;
  write?(file: OpenFileInfo, data: Uint8Array, position: number): Promise<{ written: number; position: number }>;
  ioctl?(file: OpenFileInfo, cmd: number, arg: IoctlArg): Promise<IoctlResult>;
  /** Current readiness mask (POLL.*). Changes are announced with `Vfs.notifyPoll(node)`. */
  poll?(file: OpenFileInfo): Promise<number>;
  mmap?(file: OpenFileInfo, length: number, offset: number): Promise<MappedRegion>;
  llseek?(file: OpenFileInfo, offset: number, whence: number, position: number): Promise<number>;
  fsync?(file: OpenFileInfo): Promise<void>;
  /** Size reported by stat (block devices: capacity in bytes). */
  size?(): number;
}

/** A sysfs attribute: `show` renders the value, `store` parses a write (Linux DEVICE_ATTR). */
export interface AttributeOperations {
  show?(): string | Promise<string>;
  store?(value: string): void | Promise<void>;
}

export interface NodeOwner {
  mode?: number;
  uid?: number;
  gid?: number;
}

export interface DeviceNodeOptions extends NodeOwner {
  /** Device number, shown by stat and in /sys/class/.../dev as "major:minor". */
  major: number;
  minor: number;
  ops: DeviceFileOperations;
  /** Block device instead of character device. */
  block?: boolean;
}

export type Registration = IDisposable;
