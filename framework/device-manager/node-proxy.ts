/**
 * @module node-proxy
 * The VFS side of a driver's device node: `DeviceFileOperations` that forward to whichever
 * container incarnation currently serves the node, turning -errno into SystemErrors. During
 * a restart, open() waits (bounded) for the driver to come back; other calls on files opened
 * before the crash have been revoked by then (EIO).
 */
import { SystemError } from '../errors/hm-error.js';
import type { DeviceFileOperations, IoctlArg, MappedRegion, OpenFileInfo } from '../vfs/types.js';
import type { NodeRecord } from './records.js';

/** How long open() waits for a restarting driver before ENXIO. */
export const OPEN_WAIT_MS = 5_000;

/**
 * Largest transfer one read/write call carries into a container (a message on its channel);
 * larger requests are short, as POSIX allows, and callers loop (readFile/writeFile do).
 */
export const MAX_IO_BYTES = 128 * 1024;

function check(status: number, syscall: string, path: string): number {
  if (status < 0) throw SystemError.fromErrno(status, syscall, path);
  return status;
}

/** @param seekable false for stream devices (no llseek): pread/pwrite then fail with ESPIPE. */
export function makeNodeOps(rec: () => NodeRecord, seekable: boolean): DeviceFileOperations {
  const host = (syscall: string) => {
    const r = rec();
    const h = r.container.host;
    if (!h || r.container.state !== 'running') throw new SystemError('EIO', syscall, r.path, 'driver container not running');
    return { r, ops: h.ops };
  };
  const ops: DeviceFileOperations = {
    async open(file: OpenFileInfo) {
      let r = rec();
      // During a restart the node exists before its driver has finished re-probing: wait for it.
      if (r.container.state !== 'running' || r.binding.device.carryover.has(r.path) || r.binding.device.state !== 'bound') {
        const ok = await Promise.race([
          r.container.ready.then(() => true),
          new Promise<boolean>((res) => setTimeout(() => res(false), OPEN_WAIT_MS).unref()),
        ]);
        r = rec();
        if (!ok || !r.container.host) throw new SystemError('ENXIO', 'open', r.path, 'driver is restarting');
      }
      check(await r.container.host!.ops.open(r.node, file.id, file.flags, file.cred), 'open', r.path);
    },
    async release(file: OpenFileInfo) {
      const r = rec();
      if (r.container.state === 'running') await r.container.host!.ops.release(file.id);
    },
    async read(file: OpenFileInfo, length: number, position: number, into?: Uint8Array) {
      const { r, ops } = host('read');
      const res = await ops.read(file.id, Math.min(length, MAX_IO_BYTES), position, into);
      check(res.status, 'read', r.path);
      return { data: res.data ?? new Uint8Array(0), position: res.pos };
    },
    async write(file: OpenFileInfo, data: Uint8Array, position: number) {
      const { r, ops } = host('write');
      const res = await ops.write(file.id, data.length > MAX_IO_BYTES ? data.subarray(0, MAX_IO_BYTES) : data, position);
      return { written: check(res.status, 'write', r.path), position: res.pos };
    },
    async ioctl(file: OpenFileInfo, cmd: number, arg: IoctlArg) {
      const { r, ops } = host('ioctl');
      const buf = arg instanceof Uint8Array ? arg : null;
      const res = await ops.ioctl(file.id, cmd, typeof arg === 'number' ? arg : 0, buf);
      return { ret: check(res.status, 'ioctl', r.path), out: res.out ?? undefined };
    },
    async poll(file: OpenFileInfo) {
      const { r, ops } = host('poll');
      return check(await ops.poll(file.id), 'poll', r.path);
    },
    async mmap(file: OpenFileInfo, length: number, offset: number): Promise<MappedRegion> {
      const { r, ops } = host('mmap');
      const res = await ops.mmap(file.id, length, offset);
      check(res.status, 'mmap', r.path);
      const buffer = r.container.regions.get(res.region);
      if (!buffer) throw new SystemError('EFAULT', 'mmap', r.path, `driver returned unknown region ${res.region}`);
      if (res.offset < 0 || res.length <= 0 || res.offset + res.length > buffer.byteLength) {
        throw new SystemError('EFAULT', 'mmap', r.path, 'driver returned a window outside its region');
      }
      return { buffer, offset: res.offset, length: res.length };
    },
    async llseek(file: OpenFileInfo, offset: number, whence: number, position: number) {
      const { r, ops } = host('lseek');
      const res = await ops.llseek(file.id, offset, whence, position);
      check(res.status, 'lseek', r.path);
      return res.pos;
    },
    async fsync(file: OpenFileInfo) {
      const { r, ops } = host('fsync');
      check(await ops.fsync(file.id), 'fsync', r.path);
    },
  };
  if (!seekable) delete ops.llseek;
  if (rec().kind === 'blk') ops.size = () => rec().size ?? 0;
  return ops;
}
