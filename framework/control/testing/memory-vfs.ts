/**
 * @module control/testing/memory-vfs
 * A small in-memory IVfs for tests of code that sits above the VFS (the control socket, the
 * CLI). It implements the calls those layers make with Node-like errors; it is not the
 * kernel's VFS (no permissions, no revocation, polling by re-checking every few ms).
 *
 * @example
 * const vfs = new MemoryVfs();
 * vfs.mkdirp('/dev');
 * vfs.mknod('/dev/echo0', { major: 240, minor: 0, ops: new EchoDevice() });
 */
import { posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Errno, type ErrnoName } from '../../errors/errno.js';
import { SystemError } from '../../errors/hm-error.js';
import { toDisposable } from '../../lifecycle/disposable.js';
import type { IFileHandle, IVfs, PollRequest, PollResult, VfsDirent, VfsStats } from '../../vfs/api.js';
import {
  O, POLL, ROOT, S_IF, type AttributeOperations, type DeviceFileOperations, type DeviceNodeOptions, type IoctlArg,
  type NodeOwner, type OpenFileInfo, type Registration,
} from '../../vfs/types.js';

type Body =
  | { kind: 'dir'; children: Map<string, Node> }
  | { kind: 'dev'; ops: DeviceFileOperations; major: number; minor: number; block: boolean }
  | { kind: 'attr'; ops: AttributeOperations }
  | { kind: 'gen'; generate: () => string | Promise<string> }
  | { kind: 'file'; data: Buffer }
  | { kind: 'symlink'; target: string };
type Node = Body & { ino: number; mode: number; uid: number; gid: number };

interface Open { node: Node; file: OpenFileInfo; position: number; content?: Buffer }

const TYPE_BITS: Record<Node['kind'], number> = {
  dir: S_IF.DIR, dev: S_IF.CHR, attr: S_IF.REG, gen: S_IF.REG, file: S_IF.REG, symlink: S_IF.LNK,
};

function err(code: ErrnoName, syscall: string, path?: string): SystemError {
  return new SystemError(code, syscall, path);
}

/** What a node operation threw, as this call's SystemError. */
function opErr(e: unknown, syscall: string, path: string): SystemError {
  const code = (e as { code?: unknown })?.code;
  return err(typeof code === 'string' && code in Errno ? code as ErrnoName : 'EIO', syscall, path);
}

function typeOf(n: Node): number {
  return n.kind === 'dev' && n.block ? S_IF.BLK : TYPE_BITS[n.kind];
}

function stats(n: Node): VfsStats {
  const fmt = typeOf(n);
  const dev = n.kind === 'dev' ? n : undefined;
  const size = n.kind === 'file' ? n.data.length : n.kind === 'symlink' ? n.target.length : n.kind === 'attr' ? 4096 : 0;
  return {
    mode: fmt | n.mode, uid: n.uid, gid: n.gid, size, ino: n.ino, nlink: n.kind === 'dir' ? 2 : 1,
    rdev: dev ? (dev.major << 8) | dev.minor : 0,
    ...(dev ? { major: dev.major, minor: dev.minor } : {}),
    isDirectory: () => fmt === S_IF.DIR, isCharacterDevice: () => fmt === S_IF.CHR,
    isBlockDevice: () => fmt === S_IF.BLK, isFile: () => fmt === S_IF.REG, isSymbolicLink: () => fmt === S_IF.LNK,
  };
}

export class MemoryVfs implements IVfs {
  private nextIno = 1;
  private nextFd = 3;
  private nextFile = 1;
  private readonly root: Node = this.make({ kind: 'dir', children: new Map() }, 0o755);
  private readonly fds = new Map<number, Open>();

  // --- caller's side ---------------------------------------------------------------------
  async open(path: string, flags: number | string = O.RDONLY): Promise<IFileHandle> {
    const f = typeof flags === 'number' ? flags : flags.includes('+') || flags.startsWith('w') ? O.RDWR : O.RDONLY;
    const node = this.lookup(path, true, 'open');
    if (node.kind === 'dir' && (f & O.ACCMODE) !== O.RDONLY) throw err('EISDIR', 'open', path);
    const file: OpenFileInfo = { id: this.nextFile++, path, flags: f, cred: ROOT };
    const entry: Open = { node, file, position: 0 };
    if (node.kind === 'dev') await node.ops.open(file).catch((e: unknown) => { throw opErr(e, 'open', path); });
    if (node.kind === 'attr') entry.content = Buffer.from(await node.ops.show?.() ?? '');
    if (node.kind === 'gen') entry.content = Buffer.from(await node.generate());
    const fd = this.nextFd++;
    this.fds.set(fd, entry);
    return this.handle(fd);
  }

  async close(fd: number): Promise<void> {
    const o = this.get(fd, 'close');
    this.fds.delete(fd);
    if (o.node.kind === 'dev') await o.node.ops.release(o.file);
  }

  async read(fd: number, buffer: Uint8Array, offset = 0, length = buffer.length - offset, position: number | null = null): Promise<number> {
    const o = this.get(fd, 'read');
    const pos = position ?? o.position;
    let data: Uint8Array;
    if (o.node.kind === 'dev') {
      if (!o.node.ops.read) throw err('EINVAL', 'read', o.file.path);
      data = (await o.node.ops.read(o.file, length, pos).catch((e: unknown) => { throw opErr(e, 'read', o.file.path); })).data;
    } else if (o.node.kind === 'dir') {
      throw err('EISDIR', 'read', o.file.path);
    } else {
      const all = o.content ?? (o.node.kind === 'file' ? o.node.data : Buffer.alloc(0));
      data = all.subarray(pos, pos + length);
    }
    buffer.set(data.subarray(0, length), offset);
    if (position === null) o.position = pos + data.length;
    return Math.min(data.length, length);
  }

  async write(fd: number, data: Uint8Array | string, offset = 0, length?: number, position: number | null = null): Promise<number> {
    const o = this.get(fd, 'write');
    const bytes = typeof data === 'string' ? Buffer.from(data) : data.subarray(offset, offset + (length ?? data.length - offset));
    if ((o.file.flags & O.ACCMODE) === O.RDONLY) throw err('EBADF', 'write', o.file.path);
    const pos = position ?? o.position;
    let n = bytes.length;
    if (o.node.kind === 'dev') {
      if (!o.node.ops.write) throw err('EINVAL', 'write', o.file.path);
      n = (await o.node.ops.write(o.file, bytes, pos).catch((e: unknown) => { throw opErr(e, 'write', o.file.path); })).written;
    } else if (o.node.kind === 'attr') {
      if (!o.node.ops.store) throw err('EACCES', 'write', o.file.path);
      await o.node.ops.store(Buffer.from(bytes).toString());
    } else if (o.node.kind === 'file') {
      const grown = Buffer.alloc(Math.max(o.node.data.length, pos + n));
      o.node.data.copy(grown);
      grown.set(bytes, pos);
      o.node.data = grown;
    } else {
      throw err('EACCES', 'write', o.file.path);
    }
    if (position === null) o.position = pos + n;
    return n;
  }

  pread(fd: number, buffer: Uint8Array, position: number): Promise<number> { return this.read(fd, buffer, 0, buffer.length, position); }
  pwrite(fd: number, data: Uint8Array | string, position: number): Promise<number> { return this.write(fd, data, 0, undefined, position); }

  async ioctl(fd: number, cmd: number, arg?: IoctlArg): Promise<{ ret: number; out?: Uint8Array }> {
    const o = this.get(fd, 'ioctl');
    if (o.node.kind !== 'dev' || !o.node.ops.ioctl) throw err('ENOTTY', 'ioctl', o.file.path);
    return o.node.ops.ioctl(o.file, cmd, arg).catch((e: unknown) => { throw opErr(e, 'ioctl', o.file.path); });
  }

  async poll(fds: PollRequest[], timeoutMs = -1): Promise<PollResult[]> {
    const deadline = timeoutMs < 0 ? Infinity : Date.now() + timeoutMs;
    for (;;) {
      const results = await Promise.all(fds.map(async ({ fd, events }) => {
        const o = this.fds.get(fd);
        if (!o) return { fd, revents: POLL.NVAL };
        const ready = o.node.kind === 'dev' && o.node.ops.poll ? await o.node.ops.poll(o.file) : POLL.IN | POLL.OUT;
        return { fd, revents: ready & (events | POLL.ERR | POLL.HUP) };
      }));
      if (results.some((r) => r.revents !== 0) || Date.now() >= deadline) return results;
      await sleep(Math.min(10, Math.max(0, deadline - Date.now())));
    }
  }

  async mmap(fd: number): Promise<Uint8Array> { throw err('ENODEV', 'mmap', this.get(fd, 'mmap').file.path); }
  async fsync(fd: number): Promise<void> { this.get(fd, 'fsync'); }

  async readdir(path: string): Promise<string[]> { return (await this.readdirents(path)).map((d) => d.name); }

  async readdirents(path: string): Promise<VfsDirent[]> {
    const dir = this.lookup(path, true, 'scandir');
    if (dir.kind !== 'dir') throw err('ENOTDIR', 'scandir', path);
    return [...dir.children].map(([name, n]) => {
      const s = stats(n);
      const type = ({ [S_IF.DIR]: 'dir', [S_IF.CHR]: 'chr', [S_IF.BLK]: 'blk', [S_IF.LNK]: 'symlink' } as Record<number, VfsDirent['type']>)[typeOf(n)] ?? 'file';
      return {
        name, type, isDirectory: s.isDirectory, isCharacterDevice: s.isCharacterDevice,
        isBlockDevice: s.isBlockDevice, isFile: s.isFile, isSymbolicLink: s.isSymbolicLink,
      };
    });
  }

  async stat(path: string): Promise<VfsStats> { return stats(this.lookup(path, true, 'stat')); }
  async lstat(path: string): Promise<VfsStats> { return stats(this.lookup(path, false, 'lstat')); }

  async readlink(path: string): Promise<string> {
    const n = this.lookup(path, false, 'readlink');
    if (n.kind !== 'symlink') throw err('EINVAL', 'readlink', path);
    return n.target;
  }

  async realpath(path: string): Promise<string> { return this.resolve(path, true, 'realpath').path; }

  async readFile(path: string, opts: { encoding?: BufferEncoding } = {}): Promise<Buffer | string> {
    const fh = await this.open(path, O.RDONLY | O.NONBLOCK);
    try { return await fh.readFile(opts); } finally { await fh.close(); }
  }

  async writeFile(path: string, data: Uint8Array | string): Promise<void> {
    const parent = this.lookup(posix.dirname(path), true, 'open');
    if (parent.kind !== 'dir') throw err('ENOTDIR', 'open', path);
    const existing = parent.children.get(posix.basename(path));
    if (!existing) { parent.children.set(posix.basename(path), this.make({ kind: 'file', data: Buffer.from(data) }, 0o644)); return; }
    const fh = await this.open(path, O.WRONLY);
    try { await fh.write(data); } finally { await fh.close(); }
  }

  openFds(): number[] { return [...this.fds.keys()]; }

  // --- kernel's side -----------------------------------------------------------------------
  mkdir(path: string, owner?: NodeOwner): Registration { return this.add(path, { kind: 'dir', children: new Map() }, owner, 0o755); }
  mkdirp(path: string): void {
    let cur = '/';
    for (const part of posix.normalize(path).split('/').filter(Boolean)) {
      cur = posix.join(cur, part);
      if (!this.exists(cur)) this.mkdir(cur);
    }
  }
  mknod(path: string, o: DeviceNodeOptions): Registration {
    return this.add(path, { kind: 'dev', ops: o.ops, major: o.major, minor: o.minor, block: o.block === true }, o, 0o600);
  }
  addAttribute(path: string, ops: AttributeOperations, owner?: NodeOwner): Registration {
    return this.add(path, { kind: 'attr', ops }, owner, ops.store ? 0o644 : 0o444);
  }
  addGeneratedFile(path: string, generate: () => string | Promise<string>, owner?: NodeOwner): Registration {
    return this.add(path, { kind: 'gen', generate }, owner, 0o444);
  }
  symlink(target: string, path: string): Registration { return this.add(path, { kind: 'symlink', target }, undefined, 0o777); }
  exists(path: string): boolean {
    try { this.lookup(path, false, 'stat'); return true; } catch { return false; }
  }
  notifyPoll(): void { /* pollers re-check every 10 ms */ }
  revokeOpenFiles(): number { return 0; }

  // --- internals -----------------------------------------------------------------------------
  private make(n: Body, mode: number, owner?: NodeOwner): Node {
    return { ...n, ino: this.nextIno++, mode: owner?.mode ?? mode, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0 };
  }

  private add(path: string, n: Body, owner: NodeOwner | undefined, mode: number): Registration {
    const parent = this.lookup(posix.dirname(path), true, 'mknod');
    const name = posix.basename(path);
    if (parent.kind !== 'dir') throw err('ENOTDIR', 'mknod', path);
    if (parent.children.has(name)) throw err('EEXIST', 'mknod', path);
    const node = this.make(n, mode, owner);
    parent.children.set(name, node);
    return toDisposable(() => { if (parent.children.get(name) === node) parent.children.delete(name); });
  }

  private lookup(path: string, follow: boolean, syscall: string): Node {
    return this.resolve(path, follow, syscall).node;
  }

  /** Walks `path`, following symlinks in the middle (and at the end if `follow`). */
  private resolve(path: string, follow: boolean, syscall: string, depth = 0): { node: Node; path: string } {
    if (depth > 40) throw err('ELOOP', syscall, path);
    if (!path.startsWith('/')) throw err('ENOENT', syscall, path);
    const parts = posix.normalize(path).split('/').filter(Boolean);
    let node = this.root;
    let at = '/';
    for (let i = 0; i < parts.length; i++) {
      if (node.kind !== 'dir') throw err('ENOTDIR', syscall, path);
      const child = node.children.get(parts[i]!);
      if (!child) throw err('ENOENT', syscall, path);
      const last = i === parts.length - 1;
      if (child.kind === 'symlink' && (!last || follow)) {
        const target = posix.resolve(at, child.target, ...parts.slice(i + 1));
        return this.resolve(target, follow, syscall, depth + 1);
      }
      node = child;
      at = posix.join(at, parts[i]!);
    }
    return { node, path: at };
  }

  private get(fd: number, syscall: string): Open {
    const o = this.fds.get(fd);
    if (!o) throw err('EBADF', syscall);
    return o;
  }

  private handle(fd: number): IFileHandle {
    const vfs = this;
    return {
      fd,
      async read(buffer, offset, length, position) { return { bytesRead: await vfs.read(fd, buffer, offset, length, position), buffer }; },
      async write(data, offset, length, position) { return { bytesWritten: await vfs.write(fd, data, offset, length, position) }; },
      async readFile(opts = {}) {
        const chunks: Buffer[] = [];
        for (;;) {
          const buf = Buffer.alloc(65536);
          let n: number;
          try { n = await vfs.read(fd, buf); } catch (e) { if ((e as SystemError).code === 'EAGAIN') break; throw e; }
          if (n === 0) break;
          chunks.push(buf.subarray(0, n));
        }
        const all = Buffer.concat(chunks);
        return opts.encoding ? all.toString(opts.encoding) : all;
      },
      ioctl: (cmd, arg) => vfs.ioctl(fd, cmd, arg),
      async poll(events, timeoutMs) { return (await vfs.poll([{ fd, events }], timeoutMs))[0]!.revents; },
      mmap: () => vfs.mmap(fd),
      async seek(offset) { vfs.get(fd, 'lseek').position = offset; return offset; },
      async stat() { return stats(vfs.get(fd, 'fstat').node); },
      sync: () => vfs.fsync(fd),
      close: () => vfs.close(fd),
    };
  }
}
