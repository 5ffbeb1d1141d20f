/**
 * @module io/fake-block.fixture
 * A fake block device for the io tests: an in-memory disk behind `DeviceFileOperations`
 * (positioned read/write through llseek, capacity through size(), fsync), optionally slow
 * (a delay per request), corrupting, or failing at chosen offsets; it counts requests in flight.
 * Not part of the public API.
 */
import { SystemError } from '../errors/hm-error.js';
import type { ErrnoName } from '../errors/errno.js';
import { Vfs } from '../vfs/vfs.js';
import type { DeviceFileOperations, OpenFileInfo } from '../vfs/types.js';

export interface FakeBlockOptions {
  /** Capacity in bytes (default 1 MiB). */
  size?: number;
  /** Delay of each read/write in ms (0: resolve on the next macrotask); a function may vary it. */
  latencyMs?: number | ((op: 'read' | 'write', position: number, n: number) => number);
  /** Changes data on its way (read: what the caller gets; write: what is stored). */
  corrupt?: (op: 'read' | 'write', data: Uint8Array, position: number) => void;
  /** An errno to fail a request with. */
  failAt?: (op: 'read' | 'write', position: number) => ErrnoName | undefined;
  /** No fsync operation (the VFS then answers EINVAL). */
  noFsync?: boolean;
}

export class FakeBlockDevice implements DeviceFileOperations {
  readonly memory: Uint8Array;
  inflight = 0;
  maxInflight = 0;
  readonly log: { op: 'read' | 'write'; position: number; length: number }[] = [];
  syncs = 0;
  readonly openFlags: number[] = [];
  fsync?: (file: OpenFileInfo) => Promise<void>;

  constructor(private readonly opts: FakeBlockOptions = {}) {
    this.memory = new Uint8Array(opts.size ?? 1 << 20);
    if (!opts.noFsync) this.fsync = async () => { this.syncs++; };
  }

  async open(file: OpenFileInfo): Promise<void> { this.openFlags.push(file.flags); }
  async release(): Promise<void> {}

  private async delay(op: 'read' | 'write', position: number, n: number): Promise<void> {
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    try {
      const l = this.opts.latencyMs;
      const ms = typeof l === 'function' ? l(op, position, n) : l ?? 0;
      await new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
    } finally {
      this.inflight--;
    }
    this.log.push({ op, position, length: n });
    const code = this.opts.failAt?.(op, position);
    if (code) throw new SystemError(code, op);
  }

  async read(_file: OpenFileInfo, length: number, position: number): Promise<{ data: Uint8Array; position: number }> {
    await this.delay('read', position, length);
    const data = this.memory.slice(Math.min(position, this.memory.length), Math.min(position + length, this.memory.length));
    this.opts.corrupt?.('read', data, position);
    return { data, position: position + data.length };
  }

  async write(_file: OpenFileInfo, data: Uint8Array, position: number): Promise<{ written: number; position: number }> {
    await this.delay('write', position, data.length);
    if (position >= this.memory.length) throw new SystemError('ENOSPC', 'write');
    const n = Math.min(data.length, this.memory.length - position);
    const copy = Uint8Array.from(data.subarray(0, n));
    this.opts.corrupt?.('write', copy, position);
    this.memory.set(copy, position);
    return { written: n, position: position + n };
  }

  async llseek(_file: OpenFileInfo, offset: number, whence: number, position: number): Promise<number> {
    const base = whence === 0 ? 0 : whence === 1 ? position : this.memory.length;
    const pos = base + offset;
    if (pos < 0 || whence > 2) throw new SystemError('EINVAL', 'lseek');
    return pos;
  }

  size(): number { return this.memory.length; }
}

/** A Vfs with the fake disk at /dev/fake0 (block 8:0). */
export function fakeDisk(opts: FakeBlockOptions = {}): { vfs: Vfs; dev: FakeBlockDevice; path: string } {
  const vfs = new Vfs();
  const dev = new FakeBlockDevice(opts);
  vfs.mkdirp('/dev');
  vfs.mknod('/dev/fake0', { major: 8, minor: 0, block: true, ops: dev });
  return { vfs, dev, path: '/dev/fake0' };
}
