/**
 * @module nbd/fake-block-device.testing
 * A block device for the NBD tests: an in-memory disk behind `DeviceFileOperations`, optionally
 * slow (a delay per operation, e.g. to make requests complete out of order), with short
 * transfers, injected I/O errors and a log of completed operations. Not part of the public API.
 *
 * @example
 * const { vfs, dev } = fakeBlockVfs({ size: 1 << 20, delay: (op, pos) => (pos === 0 ? 50 : 0) });
 * const server = await NbdServer.listen(vfs, { path: FAKE_PATH, port: 0 });
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SystemError } from '../errors/hm-error.js';
import type { DeviceFileOperations, OpenFileInfo } from '../vfs/types.js';
import { Vfs } from '../vfs/vfs.js';

export type FakeOp = 'read' | 'write' | 'fsync';

export interface FakeBlockOptions {
  /** Capacity in bytes. */
  size: number;
  /** Milliseconds an operation takes (0 or undefined: completes in a microtask). */
  delay?: (op: FakeOp, position: number, length: number) => number | undefined;
  /** Most bytes one read or write moves (the VFS caller must loop over short transfers). */
  maxChunk?: number;
  /** Reads and writes touching [start, end) fail with EIO. */
  failRange?: [number, number];
  /** Without an fsync operation (the VFS answers fsync with EINVAL, as Linux does). */
  fsync?: boolean;
}

export class FakeBlockDevice implements DeviceFileOperations {
  readonly data: Buffer;
  /** Completed operations in completion order: 'write 0+512', 'fsync', 'read 4096+4096'. */
  readonly events: string[] = [];
  syncs = 0;
  opens = 0;
  releases = 0;
  /** Operations running now, and the most that ever ran at once. */
  active = 0;
  maxActive = 0;
  declare fsync?: (file: OpenFileInfo) => Promise<void>;

  constructor(private readonly opts: FakeBlockOptions) {
    this.data = Buffer.alloc(opts.size);
    if (opts.fsync !== false) {
      this.fsync = async () => {
        await this.busy('fsync', 0, 0);
        this.syncs++;
        this.events.push('fsync');
      };
    }
  }

  async open(): Promise<void> { this.opens++; }
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
    this.check(position, n, 'read');
    const data = Uint8Array.prototype.slice.call(this.data, position, position + n);
    this.events.push(`read ${position}+${n}`);
    return { data, position: position + n };
  }

  async write(_file: OpenFileInfo, data: Uint8Array, position: number): Promise<{ written: number; position: number }> {
    if (position >= this.data.length) throw new SystemError('ENOSPC', 'write');
    const n = Math.min(data.length, this.opts.maxChunk ?? data.length, this.data.length - position);
    await this.busy('write', position, n);
    this.check(position, n, 'write');
    this.data.set(data.subarray(0, n), position);
    this.events.push(`write ${position}+${n}`);
    return { written: n, position: position + n };
  }

  private check(position: number, n: number, syscall: string): void {
    const range = this.opts.failRange;
    if (range && position < range[1] && position + n > range[0]) throw new SystemError('EIO', syscall, '/dev/fake');
  }

  private async busy(op: FakeOp, position: number, length: number): Promise<void> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      const ms = this.opts.delay?.(op, position, length) ?? 0;
      if (ms > 0) await sleep(ms);
      else await Promise.resolve();
    } finally {
      this.active--;
    }
  }
}

export const FAKE_PATH = '/dev/fake0';

/** A fresh VFS with `dev` at /dev/fake0 (block device 8:0). */
export function fakeBlockVfs(opts: FakeBlockOptions): { vfs: Vfs; dev: FakeBlockDevice; path: string } {
  const vfs = new Vfs();
  vfs.mkdir('/dev');
  const dev = new FakeBlockDevice(opts);
  vfs.mknod(FAKE_PATH, { major: 8, minor: 0, block: true, ops: dev });
  return { vfs, dev, path: FAKE_PATH };
}
