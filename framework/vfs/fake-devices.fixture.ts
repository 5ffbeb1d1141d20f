/**
 * @module vfs/fake-devices.fixture
 * Fake device operations for the VFS tests: an echo FIFO (like a pipe) and a seekable memory
 * device with mmap. Not part of the public API.
 */
import { SystemError } from '../errors/hm-error.js';
import type { DeviceFileOperations, IoctlArg, IoctlResult, MappedRegion, OpenFileInfo } from './types.js';
import { O, POLL } from './types.js';

export const ECHO_IOC_PENDING = 0x1;   // ret = bytes queued
export const ECHO_IOC_GETID = 0x2;     // out = 8 bytes: 1..8
export const ECHO_IOC_SYSERR = 0x3;    // throws SystemError EINVAL
export const ECHO_IOC_NEGATIVE = 0x4;  // returns ret = -EBUSY
export const ECHO_IOC_CRASH = 0x5;     // throws a plain Error

/** Bytes written are read back in order; reads block while empty (EAGAIN with O_NONBLOCK). */
export class EchoDevice implements DeviceFileOperations {
  readonly opened: OpenFileInfo[] = [];
  readonly released: OpenFileInfo[] = [];
  private queue = Buffer.alloc(0);
  private waiting: (() => void)[] = [];

  /** `onData` runs after each write (a test passes `() => vfs.notifyPoll(path)`). */
  constructor(private readonly onData: () => void = () => undefined) {}

  get pending(): number { return this.queue.length; }

  async open(file: OpenFileInfo): Promise<void> { this.opened.push(file); }
  async release(file: OpenFileInfo): Promise<void> { this.released.push(file); }

  async read(file: OpenFileInfo, length: number, position: number): Promise<{ data: Uint8Array; position: number }> {
    while (this.queue.length === 0) {
      if ((file.flags & O.NONBLOCK) !== 0) throw new SystemError('EAGAIN', 'read');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    const data = Uint8Array.from(this.queue.subarray(0, length));
    this.queue = this.queue.subarray(data.length);
    return { data, position };
  }

  async write(_file: OpenFileInfo, data: Uint8Array, position: number): Promise<{ written: number; position: number }> {
    this.queue = Buffer.concat([this.queue, data]);
    const waiting = this.waiting;
    this.waiting = [];
    for (const wake of waiting) wake();
    this.onData();
    return { written: data.length, position };
  }

  async poll(): Promise<number> {
    return POLL.OUT | POLL.WRNORM | (this.queue.length > 0 ? POLL.IN | POLL.RDNORM : 0);
  }

  async ioctl(_file: OpenFileInfo, cmd: number, _arg: IoctlArg): Promise<IoctlResult> {
    switch (cmd) {
      case ECHO_IOC_PENDING: return { ret: this.queue.length };
      case ECHO_IOC_GETID: return { ret: 0, out: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) };
      case ECHO_IOC_SYSERR: throw new SystemError('EINVAL', 'driver_ioctl', '/inside/driver');
      case ECHO_IOC_NEGATIVE: return { ret: -16 };
      case ECHO_IOC_CRASH: throw new Error('driver crashed');
      default: throw new SystemError('ENOIOCTLCMD', 'ioctl');
    }
  }
}

/** A seekable block of shared memory: read/write at positions, llseek, mmap, size, fsync. */
export class MemoryDevice implements DeviceFileOperations {
  readonly memory: Uint8Array;
  readonly calls: string[] = [];
  syncs = 0;

  constructor(readonly buffer = new SharedArrayBuffer(8192), readonly mapOffset = 0) {
    this.memory = new Uint8Array(buffer);
  }

  async open(): Promise<void> { this.calls.push('open'); }
  async release(): Promise<void> { this.calls.push('release'); }

  async read(_file: OpenFileInfo, length: number, position: number): Promise<{ data: Uint8Array; position: number }> {
    const data = this.memory.slice(Math.min(position, this.memory.length), Math.min(position + length, this.memory.length));
    return { data, position: position + data.length };
  }

  async write(_file: OpenFileInfo, data: Uint8Array, position: number): Promise<{ written: number; position: number }> {
    if (position >= this.memory.length) throw new SystemError('ENOSPC', 'write');
    const n = Math.min(data.length, this.memory.length - position);
    this.memory.set(data.subarray(0, n), position);
    return { written: n, position: position + n };
  }

  async llseek(_file: OpenFileInfo, offset: number, whence: number, position: number): Promise<number> {
    const base = whence === 0 ? 0 : whence === 1 ? position : this.memory.length;
    const pos = base + offset;
    if (pos < 0 || whence > 2) throw new SystemError('EINVAL', 'lseek');
    return pos;
  }

  async mmap(_file: OpenFileInfo, length: number, offset: number): Promise<MappedRegion> {
    const start = this.mapOffset + offset;
    if (start + length > this.buffer.byteLength) throw new SystemError('EINVAL', 'mmap');
    return { buffer: this.buffer, offset: start, length: this.buffer.byteLength - start };
  }

  async fsync(): Promise<void> { this.syncs++; }

  size(): number { return this.memory.length; }
}

/** Only open/release: every other operation takes Linux's default. */
export class BareDevice implements DeviceFileOperations {
  async open(): Promise<void> {}
  async release(): Promise<void> {}
}
