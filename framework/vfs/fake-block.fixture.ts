/**
 * @module vfs/fake-block.fixture
 * The one fake block device of the framework's tests (io, NBD, CLI): an in-memory disk behind
 * `DeviceFileOperations` (positioned read/write, llseek, size(), optional fsync) that can be
 * slow (a delay per request, e.g. to complete requests out of order), move short transfers,
 * fail or corrupt chosen requests, and records what it did and how many requests overlapped.
 * Drivers' block devices are tested for real (samples/ufs); this one isolates the framework.
 * Not part of the public API.
 *
 * @example
 * const { vfs, dev, path } = fakeDisk({ size: 1 << 20, delay: (op, pos) => (pos === 0 ? 50 : 0) });
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SystemError } from '../errors/hm-error.js';
import type { ErrnoName } from '../errors/errno.js';
import type { DeviceFileOperations, OpenFileInfo } from './types.js';
import { Vfs } from './vfs.js';

export type FakeOp = 'read' | 'write' | 'fsync';

export interface FakeBlockOptions {
  /** Capacity in bytes (default 1 MiB). */
  size?: number;
  /** Milliseconds a request takes (0 or undefined: it completes on the next macrotask). */
  delay?: number | ((op: FakeOp, position: number, length: number) => number | undefined);
  /** Most bytes one read or write moves (the VFS caller must loop over short transfers). */
  maxChunk?: number;
  /** Changes data on its way (read: what the caller gets; write: what is stored). */
  corrupt?: (op: 'read' | 'write', data: Uint8Array, position: number) => void;
  /** An errno to fail a request with, decided per request. */
  failAt?: (op: 'read' | 'write', position: number) => ErrnoName | undefined;
  /** Reads and writes touching [start, end) fail with EIO. */
  failRange?: [number, number];
  /** false: no fsync operation (the VFS answers fsync with EINVAL, as Linux does). */
  fsync?: boolean;
}

export class FakeBlockDevice implements DeviceFileOperations {
  readonly data: Buffer;
  /** Completed reads and writes, in completion order. */
  readonly log: { op: 'read' | 'write'; position: number; length: number }[] = [];
  /** Completed operations as text, in completion order: 'write 0+512', 'fsync', 'read 4096+4096'. */
  readonly events: string[] = [];
  syncs = 0;
  opens = 0;
  releases = 0;
  /** The flags of each open, in order. */
  readonly openFlags: number[] = [];
  /** Requests running now, and the most that ever ran at once. */
  active = 0;
  maxActive = 0;
  declare fsync?: (file: OpenFileInfo) => Promise<void>;

  constructor(private readonly opts: FakeBlockOptions = {}) {
    this.data = Buffer.alloc(opts.size ?? 1 << 20);
    if (opts.fsync !== false) {
      this.fsync = async () => {
        await this.busy('fsync', 0, 0);
        this.syncs++;
        this.events.push('fsync');
      };
    }
  }

  async open(file: OpenFileInfo): Promise<void> { this.opens++; this.openFlags.push(file.flags); }
  async release(): Promise<void> { this.releases++; }

  size(): number { return this.data.length; }

  async llseek(_file: OpenFileInfo, offset: number, whence: number, position: number): Promise<number> {
    const base = whence === 0 ? 0 : whence === 1 ? position : this.data.length;
    if (whence > 2 || base + offset < 0) throw new SystemError('EINVAL', 'lseek');
    return base + offset;
  }

  async read(_file: OpenFileInfo, length: number, position: number): Promise<{ data: Uint8Array; position: number }> {
    const n = Math.max(0, Math.min(length, this.opts.maxChunk ?? length, this.data.length - position));
    await this.busy('read', position, n);
    this.fail('read', position, n);
    const data = Uint8Array.prototype.slice.call(this.data, position, position + n);
    this.opts.corrupt?.('read', data, position);
    this.done('read', position, n);
    return { data, position: position + n };
  }

  async write(_file: OpenFileInfo, data: Uint8Array, position: number): Promise<{ written: number; position: number }> {
    if (position >= this.data.length) throw new SystemError('ENOSPC', 'write');
    const n = Math.min(data.length, this.opts.maxChunk ?? data.length, this.data.length - position);
    await this.busy('write', position, n);
    this.fail('write', position, n);
    const copy = Uint8Array.from(data.subarray(0, n));
    this.opts.corrupt?.('write', copy, position);
    this.data.set(copy, position);
    this.done('write', position, n);
    return { written: n, position: position + n };
  }

  private done(op: 'read' | 'write', position: number, n: number): void {
    this.log.push({ op, position, length: n });
    this.events.push(`${op} ${position}+${n}`);
  }

  private fail(op: 'read' | 'write', position: number, n: number): void {
    const range = this.opts.failRange;
    if (range && position < range[1] && position + n > range[0]) throw new SystemError('EIO', op, '/dev/fake0');
    const code = this.opts.failAt?.(op, position);
    if (code) throw new SystemError(code, op, '/dev/fake0');
  }

  private async busy(op: FakeOp, position: number, length: number): Promise<void> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      const d = this.opts.delay;
      const ms = (typeof d === 'function' ? d(op, position, length) : d) ?? 0;
      if (ms > 0) await sleep(ms);
      else await new Promise((resolve) => setImmediate(resolve));
    } finally {
      this.active--;
    }
  }
}

export const FAKE_PATH = '/dev/fake0';

/** A fresh VFS with a fake disk at /dev/fake0 (block device 8:0). */
export function fakeDisk(opts: FakeBlockOptions = {}): { vfs: Vfs; dev: FakeBlockDevice; path: string } {
  const vfs = new Vfs();
  const dev = new FakeBlockDevice(opts);
  vfs.mkdirp('/dev');
  vfs.mknod(FAKE_PATH, { major: 8, minor: 0, block: true, ops: dev });
  return { vfs, dev, path: FAKE_PATH };
}
