/**
 * @module vfs/api
 * The public face of the VFS: it mirrors `fs/promises` (open() returns a FileHandle) and adds
 * the device calls fs lacks (ioctl, poll, mmap). Errors are `SystemError`s shaped like Node's
 * fs errors. One central fd table serves every caller.
 */
import type { InjectionToken } from 'tsyringe';
import type {
  AttributeOperations, Credentials, DeviceNodeOptions, IoctlArg, NodeOwner, Registration,
} from './types.js';

export interface VfsStats {
  mode: number;          // type bits | permission bits
  uid: number;
  gid: number;
  size: number;
  rdev: number;          // (major << 8) | minor, Linux's old_encode_dev for small numbers
  major?: number;
  minor?: number;
  ino: number;
  nlink: number;
  isDirectory(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}

export interface VfsDirent {
  name: string;
  /** 'dir' | 'chr' | 'blk' | 'file' | 'symlink' */
  type: 'dir' | 'chr' | 'blk' | 'file' | 'symlink';
  isDirectory(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}

export interface CallerOptions {
  /** Caller identity; defaults to root. */
  cred?: Credentials;
}

export type OpenOptions = CallerOptions;

export interface PollRequest { fd: number; events: number }
export interface PollResult { fd: number; revents: number }

/** fs/promises-like FileHandle for a VFS fd. */
export interface IFileHandle {
  readonly fd: number;
  /** Reads into `buffer` (like fs FileHandle.read); `position` null/undefined = current position. */
  read<T extends Uint8Array>(buffer: T, offset?: number, length?: number, position?: number | null): Promise<{ bytesRead: number; buffer: T }>;
  /** Writes `buffer` (or a string, utf8); `position` null/undefined = current position. */
  write(data: Uint8Array | string, offset?: number, length?: number, position?: number | null): Promise<{ bytesWritten: number }>;
  /** Reads until EOF (or, with O_NONBLOCK, until EAGAIN) into one Buffer. */
  readFile(options?: { encoding?: BufferEncoding }): Promise<Buffer | string>;
  ioctl(cmd: number, arg?: IoctlArg): Promise<{ ret: number; out?: Uint8Array }>;
  /** Waits until one of `events` is ready or `timeoutMs` passes (-1 = forever); returns revents (0 on timeout). */
  poll(events: number, timeoutMs?: number): Promise<number>;
  /** Maps `length` bytes at `offset`; the view shares memory with the driver. */
  mmap(length: number, offset?: number): Promise<Uint8Array>;
  seek(offset: number, whence?: 0 | 1 | 2): Promise<number>;
  stat(): Promise<VfsStats>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface IVfs {
  // --- the caller's side (fs/promises style) -------------------------------------------------
  open(path: string, flags?: number | string, opts?: OpenOptions): Promise<IFileHandle>;
  close(fd: number): Promise<void>;
  read(fd: number, buffer: Uint8Array, offset?: number, length?: number, position?: number | null): Promise<number>;
  write(fd: number, data: Uint8Array | string, offset?: number, length?: number, position?: number | null): Promise<number>;
  pread(fd: number, buffer: Uint8Array, position: number): Promise<number>;
  pwrite(fd: number, data: Uint8Array | string, position: number): Promise<number>;
  ioctl(fd: number, cmd: number, arg?: IoctlArg): Promise<{ ret: number; out?: Uint8Array }>;
  poll(fds: PollRequest[], timeoutMs?: number): Promise<PollResult[]>;
  mmap(fd: number, length: number, offset?: number): Promise<Uint8Array>;
  fsync(fd: number): Promise<void>;
  readdir(path: string, opts?: CallerOptions): Promise<string[]>;
  readdirents(path: string, opts?: CallerOptions): Promise<VfsDirent[]>;
  stat(path: string, opts?: CallerOptions): Promise<VfsStats>;
  lstat(path: string, opts?: CallerOptions): Promise<VfsStats>;
  readlink(path: string, opts?: CallerOptions): Promise<string>;
  realpath(path: string, opts?: CallerOptions): Promise<string>;
  readFile(path: string, opts?: CallerOptions & { encoding?: BufferEncoding }): Promise<Buffer | string>;
  writeFile(path: string, data: Uint8Array | string, opts?: CallerOptions): Promise<void>;
  /** Open fds (for /proc and leak checks). */
  openFds(): number[];

  // --- the kernel's side (registration; each returns a disposable that removes it) -----------
  mkdir(path: string, owner?: NodeOwner): Registration;
  /** Creates missing parent directories (mode 0755). */
  mkdirp(path: string, owner?: NodeOwner): void;
  mknod(path: string, opts: DeviceNodeOptions): Registration;
  addAttribute(path: string, ops: AttributeOperations, owner?: NodeOwner): Registration;
  /** A read-only file whose content is generated at open (procfs, seq_file style). */
  addGeneratedFile(path: string, generate: () => string | Promise<string>, owner?: NodeOwner): Registration;
  symlink(target: string, path: string): Registration;
  exists(path: string): boolean;
  /** Tells pollers of `path`'s open files to re-poll (a driver's wake_up on its poll wait queue). */
  notifyPoll(path: string): void;
  /**
   * Marks every open file of the device nodes registered by `owner` (see mknod's ops identity)
   * as dead: further calls on them fail with `code` (ENODEV after unbind, EIO after a crash).
   */
  revokeOpenFiles(ops: object, code: 'EIO' | 'ENODEV'): number;
}

export const IVfs: InjectionToken<IVfs> = Symbol('IVfs');
