/**
 * @module control/file-methods
 * The file-system methods of the control socket (`ls`, `stat`, `read`, `write`), served
 * through the kernel's VFS exactly as an application would call it: open, read/write, close.
 *
 * @example
 * const { data } = await readFile(kernel.vfs, { path: '/dev/echo0' }, signal);
 */
import { posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HmError } from '../errors/hm-error.js';
import type { IFileHandle, IVfs, VfsStats } from '../vfs/api.js';
import { O, POLL } from '../vfs/types.js';
import { MAX_READ_BYTES, type FileType, type LsEntry, type ReadParams, type ReadResult, type StatInfo } from './protocol.js';

const CHUNK = 64 * 1024;
/** How often a follow read re-checks that its client is still there. */
const POLL_SLICE_MS = 250;

function fileType(s: VfsStats): FileType {
  if (s.isSymbolicLink()) return 'symlink';
  if (s.isDirectory()) return 'dir';
  if (s.isCharacterDevice()) return 'chr';
  if (s.isBlockDevice()) return 'blk';
  return s.isFile() ? 'file' : 'unknown';
}

/** VfsStats as JSON; device numbers for chr/blk nodes, the target for symlinks. */
export async function statInfo(vfs: IVfs, path: string, s: VfsStats): Promise<StatInfo> {
  const type = fileType(s);
  const info: StatInfo = {
    type, mode: s.mode, uid: s.uid, gid: s.gid, size: s.size, ino: s.ino, nlink: s.nlink, rdev: s.rdev,
  };
  if (type === 'chr' || type === 'blk') {
    info.major = s.major ?? (s.rdev >>> 8) & 0xfff;
    info.minor = s.minor ?? s.rdev & 0xff;
  }
  if (type === 'symlink') info.target = await vfs.readlink(path).catch(() => undefined);
  return info;
}

export async function stat(vfs: IVfs, path: string, follow: boolean): Promise<StatInfo> {
  return statInfo(vfs, path, follow ? await vfs.stat(path) : await vfs.lstat(path));
}

/** A directory's entries with stat info; a non-directory lists as itself (like `ls -l file`). */
export async function ls(vfs: IVfs, path: string): Promise<{ path: string; entries: LsEntry[] }> {
  let st = await vfs.lstat(path);
  if (st.isSymbolicLink()) st = await vfs.stat(path).catch(() => st);
  if (!st.isDirectory()) return { path, entries: [{ name: path, ...(await stat(vfs, path, false)) }] };
  const dirents = await vfs.readdirents(path);
  const entries = await Promise.all(dirents.map(async (d) => {
    const child = posix.join(path, d.name);
    return { name: d.name, ...(await stat(vfs, child, false)) };
  }));
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { path, entries };
}

function isEagain(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'EAGAIN';
}

/** Waits (in slices, so a vanished client is noticed) until `fh` polls readable. */
async function waitReadable(fh: IFileHandle, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    if (await fh.poll(POLL.IN | POLL.ERR | POLL.HUP, POLL_SLICE_MS)) return;
  }
  throw new HmError('ECANCELED', 'read cancelled: the client went away');
}

/**
 * Reads until EOF, EAGAIN (non-blocking) or `length`. With `follow`, an empty non-blocking
 * file is waited on (poll) until data or EOF arrives, and `signal` cancels the wait.
 */
export async function readFile(vfs: IVfs, p: ReadParams, signal: AbortSignal): Promise<ReadResult> {
  const follow = p.follow === true;
  const nonblock = follow || p.nonblock !== false;
  const limit = Math.min(p.length ?? MAX_READ_BYTES, MAX_READ_BYTES);
  const fh = await vfs.open(p.path, O.RDONLY | (nonblock ? O.NONBLOCK : 0));
  const chunks: Buffer[] = [];
  let total = 0;
  let eof = false;
  let spins = 0;
  try {
    while (total < limit && !signal.aborted) { // the client may go away mid-read
      const buf = Buffer.alloc(Math.min(CHUNK, limit - total));
      const position = p.offset === undefined ? null : p.offset + total;
      let n: number;
      try {
        n = (await fh.read(buf, 0, buf.length, position)).bytesRead;
      } catch (e) {
        if (!isEagain(e)) throw e;
        if (!follow || total > 0) break;
        // A driver whose poll says "readable" but whose read says EAGAIN must not make us spin.
        if (spins++ > 0) await sleep(Math.min(10 * spins, 200));
        await waitReadable(fh, signal);
        continue;
      }
      if (n === 0) { eof = true; break; }
      chunks.push(buf.subarray(0, n));
      total += n;
      spins = 0;
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
  return { data: Buffer.concat(chunks).toString('base64'), bytes: total, eof };
}

/** Writes all of `data` (looping over short writes); returns the bytes written. */
export async function writeFile(vfs: IVfs, path: string, data: Uint8Array, offset?: number): Promise<number> {
  const fh = await vfs.open(path, O.WRONLY);
  let written = 0;
  try {
    while (written < data.length) {
      const position = offset === undefined ? null : offset + written;
      const { bytesWritten } = await fh.write(data, written, data.length - written, position);
      if (bytesWritten <= 0) break;
      written += bytesWritten;
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
  return written;
}
