/**
 * @module control/testing/echo-device
 * A character device for tests, written straight against DeviceFileOperations: what is
 * written is read back (FIFO); reads block, or fail with EAGAIN under O_NONBLOCK; a few
 * declared ioctls report counters. Usable with any IVfs (`mknod`).
 *
 * @example
 * vfs.mknod('/dev/echo0', { major: 240, minor: 0, mode: 0o666, ops: new EchoDevice() });
 */
import { SystemError } from '../../errors/hm-error.js';
import { ioctlNumber } from '../../platform/ioctl.js';
import type { IoctlDecl } from '../../platform/types.js';
import { O, POLL, type DeviceFileOperations, type IoctlArg, type IoctlResult, type OpenFileInfo } from '../../vfs/types.js';

export const ECHO_IOCTLS: IoctlDecl[] = [
  { name: 'HMECHO_IOC_GET_COUNT', dir: 'read', type: 'E', nr: 1, size: 4, format: 'u32', description: 'bytes waiting to be read' },
  { name: 'HMECHO_IOC_GET_STATS', dir: 'read', type: 'E', nr: 2, size: 32, format: 'u64,u64,u64,u64', description: 'writes, reads, bytes in, bytes out' },
  { name: 'HMECHO_IOC_RESET', dir: 'none', type: 'E', nr: 3, size: 0, description: 'drop buffered bytes and counters' },
  { name: 'HMECHO_IOC_ADD', dir: 'readwrite', type: 'E', nr: 4, size: 16, format: 'u64,u64', description: '(a, b) -> (a + b, a * b)' },
];

const CMD = Object.fromEntries(ECHO_IOCTLS.map((d) => [d.name, ioctlNumber(d)])) as Record<string, number>;

export class EchoDevice implements DeviceFileOperations {
  private queue = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  readonly stats = { writes: 0n, reads: 0n, bytesIn: 0n, bytesOut: 0n };

  /** `onReadable` is the driver's wake_up (e.g. `() => vfs.notifyPoll('/dev/echo0')`). */
  constructor(private readonly onReadable: () => void = () => undefined) {}

  get buffered(): number { return this.queue.length; }

  async open(_file: OpenFileInfo): Promise<void> {}
  async release(_file: OpenFileInfo): Promise<void> {}

  async read(file: OpenFileInfo, length: number, position: number): Promise<{ data: Uint8Array; position: number }> {
    while (this.queue.length === 0) {
      if (file.flags & O.NONBLOCK) throw new SystemError('EAGAIN', 'read', file.path);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    const data = Buffer.from(this.queue.subarray(0, length));
    this.queue = this.queue.subarray(data.length);
    this.stats.reads++;
    this.stats.bytesOut += BigInt(data.length);
    return { data, position: position + data.length };
  }

  async write(_file: OpenFileInfo, data: Uint8Array, position: number): Promise<{ written: number; position: number }> {
    this.queue = Buffer.concat([this.queue, data]);
    this.stats.writes++;
    this.stats.bytesIn += BigInt(data.length);
    for (const wake of this.waiters.splice(0)) wake();
    this.onReadable();
    return { written: data.length, position: position + data.length };
  }

  async poll(_file: OpenFileInfo): Promise<number> {
    return POLL.OUT | (this.queue.length > 0 ? POLL.IN : 0);
  }

  async ioctl(file: OpenFileInfo, cmd: number, arg: IoctlArg): Promise<IoctlResult> {
    const out = Buffer.alloc(32);
    switch (cmd) {
      case CMD.HMECHO_IOC_GET_COUNT:
        out.writeUInt32LE(this.queue.length);
        return { ret: 0, out: out.subarray(0, 4) };
      case CMD.HMECHO_IOC_GET_STATS:
        [this.stats.writes, this.stats.reads, this.stats.bytesIn, this.stats.bytesOut].forEach((v, i) => out.writeBigUInt64LE(v, i * 8));
        return { ret: 0, out };
      case CMD.HMECHO_IOC_RESET:
        this.queue = Buffer.alloc(0);
        Object.assign(this.stats, { writes: 0n, reads: 0n, bytesIn: 0n, bytesOut: 0n });
        return { ret: 0 };
      case CMD.HMECHO_IOC_ADD: {
        if (!(arg instanceof Uint8Array) || arg.length < 16) throw new SystemError('EFAULT', 'ioctl', file.path);
        const a = Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength);
        const [x, y] = [a.readBigUInt64LE(0), a.readBigUInt64LE(8)];
        out.writeBigUInt64LE(BigInt.asUintN(64, x + y), 0);
        out.writeBigUInt64LE(BigInt.asUintN(64, x * y), 8);
        return { ret: 0, out: out.subarray(0, 16) };
      }
      default:
        throw new SystemError('ENOTTY', 'ioctl', file.path);
    }
  }
}
