/**
 * @module vfs/vfs
 * `Vfs`: the in-memory namespace (/dev, /sys, /proc ...) and the central fd table, behind the
 * fs/promises-like `IVfs` face. Every failure is a `SystemError` (code, errno, syscall, path).
 */
import type {
  CallerOptions, IVfs, OpenOptions, PollRequest, PollResult, VfsDirent, VfsStats,
} from './api.js';
import type {
  AttributeOperations, Credentials, DeviceNodeOptions, IoctlArg, NodeOwner, OpenFileInfo, Registration,
} from './types.js';
import { O, ROOT } from './types.js';
import { isSystemError } from '../errors/hm-error.js';
import { sysErr } from './errors.js';
import { FdTable, MAX_FDS } from './fd-table.js';
import { FileHandle, type FdBackend } from './file-handle.js';
import {
  fileFsync, fileIoctl, fileMmap, filePollMask, fileRead, fileSeek, fileWrite, openNode, releaseNode,
} from './file-io.js';
import { parseOpenFlags, wantsRead, wantsWrite } from './flags.js';
import { Namespace, type DirNode, type VNode } from './node.js';
import { OpenFile, type RevokeCode } from './open-file.js';
import { MAY_READ, MAY_WRITE, mayAccess } from './permissions.js';
import { PollHub, pollFds } from './poll.js';
import { Registry } from './registry.js';
import { Dirent, Stats } from './stats.js';

/** readFile gives up (EFBIG) beyond this, so an endless device cannot exhaust memory. */
export const READ_FILE_MAX = 256 << 20;
const READ_CHUNK = 64 << 10;

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Node's rules for (offset, length) within a buffer; EINVAL when out of range. */
function window(size: number, offset: number | undefined, length: number | undefined, syscall: string, path: string): [number, number] {
  const off = offset ?? 0;
  if (!Number.isInteger(off) || off < 0 || off > size) throw sysErr('EINVAL', syscall, path, 'offset out of range');
  const len = length ?? size - off;
  if (!Number.isInteger(len) || len < 0 || off + len > size) throw sysErr('EINVAL', syscall, path, 'length out of range');
  return [off, len];
}

/** null, undefined or -1: the file position (as fs.read); otherwise a byte offset >= 0. */
function explicitPosition(position: number | null | undefined, syscall: string, path: string): number | undefined {
  if (position === null || position === undefined || position === -1) return undefined;
  if (!Number.isInteger(position) || position < 0) throw sysErr('EINVAL', syscall, path, 'bad position');
  return position;
}

export class Vfs implements IVfs, FdBackend {
  private readonly ns = new Namespace();
  private readonly registry = new Registry(this.ns);
  private readonly fds = new FdTable(MAX_FDS);
  /** Every live open file description, including ones whose open() is still running. */
  private readonly files = new Set<OpenFile>();
  private readonly hub = new PollHub();

  // --- caller side ---------------------------------------------------------------------------

  async open(path: string, flags?: number | string, opts?: OpenOptions): Promise<FileHandle> {
    const fd = await this.openFd(path, flags, opts);
    return new FileHandle(this, fd, this.fds.get(fd)!.info);
  }

  /** open(2): like `open` but returns the bare fd. */
  async openFd(path: string, flags?: number | string, opts?: OpenOptions): Promise<number> {
    const cred = opts?.cred ?? ROOT;
    const n = parseOpenFlags(flags, path);
    const node = this.ns.lookup(path, { follow: true, cred, syscall: 'open' });
    if ((n & O.CREAT) !== 0 && (n & O.EXCL) !== 0) throw sysErr('EEXIST', 'open', path);
    if ((n & O.DIRECTORY) !== 0 && node.kind !== 'dir') throw sysErr('ENOTDIR', 'open', path);
    this.checkOpenAccess(node, n, cred, path);
    if (this.fds.size >= MAX_FDS) throw sysErr('EMFILE', 'open', path);

    const file = new OpenFile(node, this.ns.pathOf(node), n, cred, (f) => this.lastReference(f));
    this.files.add(file);
    try {
      await openNode(file, path);
    } catch (e) {
      this.files.delete(file);
      throw e;
    }
    const fd = file.revoked === undefined ? this.fds.install(file) : undefined;
    if (fd === undefined) {
      const code = file.revoked ?? 'EMFILE';
      await releaseNode(file);
      this.files.delete(file);
      throw sysErr(code, 'open', path);
    }
    file.addFd();
    return fd;
  }

  private checkOpenAccess(node: VNode, flags: number, cred: Credentials, path: string): void {
    const read = wantsRead(flags);
    const write = wantsWrite(flags);
    if (node.kind === 'dir' && write) throw sysErr('EISDIR', 'open', path);
    if (!mayAccess(node, cred, (read ? MAY_READ : 0) | (write ? MAY_WRITE : 0))) throw sysErr('EACCES', 'open', path);
    // Without the operation the access is refused even for root (kernfs does the same).
    if (node.kind === 'attr' && ((read && !node.ops.show) || (write && !node.ops.store))) throw sysErr('EACCES', 'open', path);
    if (node.kind === 'gen' && write) throw sysErr('EACCES', 'open', path);
  }

  private async lastReference(file: OpenFile): Promise<void> {
    this.files.delete(file);
    await releaseNode(file);
  }

  private file(fd: number, syscall: string): OpenFile {
    const file = this.fds.get(fd);
    if (file === undefined) throw sysErr('EBADF', syscall);
    return file;
  }

  async close(fd: number): Promise<void> {
    const file = this.fds.remove(fd);
    if (file === undefined) throw sysErr('EBADF', 'close');
    await file.dropFd();
  }

  /** dup(2): a new fd (lowest free) sharing the open file description of `fd`. */
  dup(fd: number): number {
    const file = this.file(fd, 'dup');
    const copy = this.fds.install(file);
    if (copy === undefined) throw sysErr('EMFILE', 'dup', file.path);
    file.addFd();
    return copy;
  }

  async read(fd: number, buffer: Uint8Array, offset?: number, length?: number, position?: number | null): Promise<number> {
    const file = this.file(fd, 'read');
    const [off, len] = window(buffer.byteLength, offset, length, 'read', file.path);
    const pos = explicitPosition(position, 'read', file.path);
    const into = off === 0 && len === buffer.length ? buffer : buffer.subarray(off, off + len);
    let data: Uint8Array;
    file.enter(); // as file.hold(), without a closure per read
    try {
      data = await fileRead(file, len, pos, into);
    } finally {
      file.leave();
    }
    // A device that read straight into the caller's memory returned a view of it: no copy.
    if (data.buffer !== into.buffer || data.byteOffset !== into.byteOffset) buffer.set(data, off);
    return data.length;
  }

  async write(fd: number, data: Uint8Array | string, offset?: number, length?: number, position?: number | null): Promise<number> {
    const file = this.file(fd, 'write');
    const bytes = toBytes(data);
    const [off, len] = window(bytes.byteLength, offset, length, 'write', file.path);
    const pos = explicitPosition(position, 'write', file.path);
    return file.hold(() => fileWrite(file, bytes.subarray(off, off + len), pos));
  }

  async pread(fd: number, buffer: Uint8Array, position: number): Promise<number> {
    const file = this.file(fd, 'read');
    if (!Number.isInteger(position) || position < 0) throw sysErr('EINVAL', 'read', file.path, 'bad position');
    return this.read(fd, buffer, 0, buffer.byteLength, position);
  }

  async pwrite(fd: number, data: Uint8Array | string, position: number): Promise<number> {
    const file = this.file(fd, 'write');
    if (!Number.isInteger(position) || position < 0) throw sysErr('EINVAL', 'write', file.path, 'bad position');
    return this.write(fd, data, 0, undefined, position);
  }

  async ioctl(fd: number, cmd: number, arg?: IoctlArg): Promise<{ ret: number; out?: Uint8Array }> {
    const file = this.file(fd, 'ioctl');
    const res = await file.hold(() => fileIoctl(file, cmd, arg));
    return res.out === undefined ? { ret: res.ret } : { ret: res.ret, out: res.out };
  }

  poll(fds: PollRequest[], timeoutMs?: number): Promise<PollResult[]> {
    return pollFds(fds, timeoutMs, {
      hub: this.hub,
      lookup: (fd) => this.fds.get(fd),
      mask: (file) => file.hold(() => filePollMask(file)),
    });
  }

  async mmap(fd: number, length: number, offset = 0): Promise<Uint8Array> {
    const file = this.file(fd, 'mmap');
    return file.hold(() => fileMmap(file, length, offset));
  }

  async fsync(fd: number): Promise<void> {
    const file = this.file(fd, 'fsync');
    await file.hold(() => fileFsync(file));
  }

  /** lseek(2); whence 0 = SEEK_SET, 1 = SEEK_CUR, 2 = SEEK_END. Returns the new position. */
  async seek(fd: number, offset: number, whence: 0 | 1 | 2 = 0): Promise<number> {
    const file = this.file(fd, 'lseek');
    return file.hold(() => fileSeek(file, offset, whence));
  }

  /** fstat(2): works on files whose node was removed since. */
  async fstat(fd: number): Promise<VfsStats> {
    return new Stats(this.file(fd, 'fstat').node);
  }

  /** What an fd refers to (for /proc and FileHandle); undefined if it is not open. */
  describeFd(fd: number): OpenFileInfo | undefined {
    return this.fds.get(fd)?.info;
  }

  async readdir(path: string, opts?: CallerOptions): Promise<string[]> {
    return [...this.directory(path, opts).children.keys()].sort();
  }

  async readdirents(path: string, opts?: CallerOptions): Promise<VfsDirent[]> {
    const dir = this.directory(path, opts);
    return [...dir.children.keys()].sort().map((name) => new Dirent(name, dir.children.get(name)!));
  }

  private directory(path: string, opts?: CallerOptions): DirNode {
    const cred = opts?.cred ?? ROOT;
    const node = this.ns.lookup(path, { follow: true, cred, syscall: 'scandir' });
    if (node.kind !== 'dir') throw sysErr('ENOTDIR', 'scandir', path);
    if (!mayAccess(node, cred, MAY_READ)) throw sysErr('EACCES', 'scandir', path);
    return node;
  }

  async stat(path: string, opts?: CallerOptions): Promise<VfsStats> {
    return new Stats(this.ns.lookup(path, { follow: true, cred: opts?.cred, syscall: 'stat' }));
  }

  async lstat(path: string, opts?: CallerOptions): Promise<VfsStats> {
    return new Stats(this.ns.lookup(path, { follow: false, cred: opts?.cred, syscall: 'lstat' }));
  }

  async readlink(path: string, opts?: CallerOptions): Promise<string> {
    const node = this.ns.lookup(path, { follow: false, cred: opts?.cred, syscall: 'readlink' });
    if (node.kind !== 'symlink') throw sysErr('EINVAL', 'readlink', path);
    return node.target;
  }

  async realpath(path: string, opts?: CallerOptions): Promise<string> {
    return this.ns.pathOf(this.ns.lookup(path, { follow: true, cred: opts?.cred, syscall: 'realpath' }));
  }

  async readFile(path: string, opts?: CallerOptions & { encoding?: BufferEncoding }): Promise<Buffer | string> {
    // O_NONBLOCK: a device with nothing (more) to read ends the file with EAGAIN instead of blocking.
    const fd = await this.openFd(path, O.RDONLY | O.NONBLOCK, opts);
    try {
      const data = await this.readToEnd(fd);
      return opts?.encoding === undefined ? data : data.toString(opts.encoding);
    } finally {
      await this.close(fd);
    }
  }

  /** Reads from the file position until EOF (or EAGAIN on an O_NONBLOCK file). */
  async readToEnd(fd: number): Promise<Buffer> {
    const file = this.file(fd, 'read');
    const chunks: Buffer[] = [];
    let total = 0;
    while (true) {
      const chunk = Buffer.allocUnsafe(READ_CHUNK);
      let n: number;
      try {
        n = await this.read(fd, chunk, 0, chunk.length, null);
      } catch (e) {
        if (isSystemError(e, 'EAGAIN') && (file.flags & O.NONBLOCK) !== 0) break;
        throw e;
      }
      if (n === 0) break;
      total += n;
      if (total > READ_FILE_MAX) throw sysErr('EFBIG', 'read', file.path);
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  }

  async writeFile(path: string, data: Uint8Array | string, opts?: CallerOptions): Promise<void> {
    const fd = await this.openFd(path, O.WRONLY | O.TRUNC, opts);
    try {
      const bytes = toBytes(data);
      for (let done = 0; done < bytes.length;) {
        const n = await this.write(fd, bytes, done, bytes.length - done, null);
        if (n <= 0) throw sysErr('EIO', 'write', path, 'no progress');
        done += n;
      }
    } finally {
      await this.close(fd);
    }
  }

  openFds(): number[] {
    return this.fds.list();
  }

  /** Closes every fd (kernel shutdown); errors are ignored. */
  async closeAll(): Promise<void> {
    for (const fd of this.fds.list()) await this.close(fd).catch(() => undefined);
  }

  // --- kernel side ---------------------------------------------------------------------------

  mkdir(path: string, owner?: NodeOwner): Registration { return this.registry.mkdir(path, owner); }
  mkdirp(path: string, owner?: NodeOwner): void { this.registry.mkdirp(path, owner); }
  mknod(path: string, opts: DeviceNodeOptions): Registration { return this.registry.mknod(path, opts); }
  addAttribute(path: string, ops: AttributeOperations, owner?: NodeOwner): Registration {
    return this.registry.addAttribute(path, ops, owner);
  }
  addGeneratedFile(path: string, generate: () => string | Promise<string>, owner?: NodeOwner): Registration {
    return this.registry.addGeneratedFile(path, generate, owner);
  }
  symlink(target: string, path: string): Registration { return this.registry.symlink(target, path); }

  exists(path: string): boolean {
    return this.ns.tryLookup(path) !== undefined;
  }

  /** Wakes pollers of `path`'s open files; for an attribute also flags a change (sysfs_notify). */
  notifyPoll(path: string): void {
    const node = this.ns.tryLookup(path);
    if (node === undefined) return;
    if (node.kind === 'attr') node.event++;
    this.hub.wake(node);
  }

  revokeOpenFiles(ops: object, code: RevokeCode): number {
    let count = 0;
    for (const file of this.files) {
      const node = file.node;
      if ((node.kind === 'chr' || node.kind === 'blk') && node.ops === ops && file.revoked === undefined) {
        file.revoked = code;
        count++;
        this.hub.wake(node);
      }
    }
    return count;
  }
}
