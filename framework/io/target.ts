/**
 * @module io/target
 * One side of an I/O job: a VFS path (through `IVfs.open`, so the request goes the same way a
 * program's would: VFS → device node → driver) or a file of the host (node:fs). Both look alike
 * here: positioned read/write (or current-position for streams), sync, size when known.
 *
 * A VFS file is seekable when its llseek works (`seek(0, SEEK_CUR)`); a character device
 * without llseek (a FIFO such as /dev/hmecho) is a stream: reads and writes go at the current
 * position and `size` is unknown.
 */
import { constants as fsc } from 'node:fs';
import { open as hostOpen, type FileHandle as HostHandle } from 'node:fs/promises';
import type { IFileHandle, IVfs } from '../vfs/api.js';
import { O } from '../vfs/types.js';
import { isSystemError } from '../errors/hm-error.js';

/** Where a side of a copy lives. */
export type EndpointSpec = { vfs: string } | { host: string };

export function describeEndpoint(spec: EndpointSpec): string {
  return 'vfs' in spec ? spec.vfs : `host:${spec.host}`;
}

export interface Endpoint {
  readonly path: string;
  readonly kind: 'vfs' | 'host';
  /** Positioned I/O works; false for FIFOs, pipes, ttys (I/O at the current position). */
  readonly seekable: boolean;
  /** Bytes, when the file tells: a regular file's length, a block device's capacity. */
  readonly size: number | undefined;
  /** Opened with O_NONBLOCK (a stream's EAGAIN then means "nothing now"). */
  readonly nonblock: boolean;
  read(buf: Uint8Array, offset: number, length: number, position: number | null): Promise<number>;
  write(buf: Uint8Array, offset: number, length: number, position: number | null): Promise<number>;
  sync(): Promise<void>;
  /** Host regular files only: sets the length. */
  truncate?(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface OpenVfsOptions {
  access: 'r' | 'w' | 'rw';
  /** Open with O_NONBLOCK: always, never, or (default) only for character devices. */
  nonblock?: boolean | 'chr';
  /** Add O_DIRECT (the driver may bypass its cache). */
  direct?: boolean;
}

const ACCESS = { r: O.RDONLY, w: O.WRONLY, rw: O.RDWR } as const;

class VfsEndpoint implements Endpoint {
  readonly kind = 'vfs';
  constructor(readonly path: string, private readonly fh: IFileHandle, readonly seekable: boolean,
    readonly size: number | undefined, readonly nonblock: boolean) {}

  async read(buf: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
    return (await this.fh.read(buf, offset, length, this.seekable ? position : null)).bytesRead;
  }

  async write(buf: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
    return (await this.fh.write(buf, offset, length, this.seekable ? position : null)).bytesWritten;
  }

  sync(): Promise<void> { return this.fh.sync(); }
  close(): Promise<void> { return this.fh.close(); }
}

/** Opens a VFS path and finds out whether it is seekable and how big it is. */
export async function openVfsEndpoint(vfs: IVfs, path: string, opts: OpenVfsOptions): Promise<Endpoint> {
  const st = await vfs.stat(path);
  const nonblock = opts.nonblock === 'chr' || opts.nonblock === undefined ? st.isCharacterDevice() : opts.nonblock;
  const flags = ACCESS[opts.access] | (nonblock ? O.NONBLOCK : 0) | (opts.direct ? O.DIRECT : 0);
  const fh = await vfs.open(path, flags);
  try {
    let seekable = true;
    try {
      await fh.seek(0, 1);
    } catch (e) {
      if (!isSystemError(e, 'ESPIPE')) throw e;
      seekable = false;
    }
    const fst = await fh.stat();
    const size = seekable && (fst.isBlockDevice() || fst.size > 0) ? fst.size : undefined;
    return new VfsEndpoint(path, fh, seekable, size, nonblock);
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
}

class HostEndpoint implements Endpoint {
  readonly kind = 'host';
  readonly nonblock = false;
  constructor(readonly path: string, private readonly fh: HostHandle, readonly seekable: boolean, readonly size: number | undefined) {}

  async read(buf: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
    return (await this.fh.read(buf, offset, length, this.seekable ? position : null)).bytesRead;
  }

  async write(buf: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
    return (await this.fh.write(buf, offset, length, this.seekable ? position : null)).bytesWritten;
  }

  sync(): Promise<void> { return this.fh.sync(); }
  truncate(length: number): Promise<void> { return this.fh.truncate(length); }
  close(): Promise<void> { return this.fh.close(); }
}

/** Opens a host file: 'r' to read, 'w' to write (created 0666 & ~umask when missing, never truncated here). */
export async function openHostEndpoint(path: string, access: 'r' | 'w'): Promise<Endpoint> {
  const flags = access === 'r' ? fsc.O_RDONLY : fsc.O_WRONLY | fsc.O_CREAT;
  const fh = await hostOpen(path, flags, 0o666);
  try {
    const st = await fh.stat();
    if (st.isDirectory()) {
      const e = new Error(`EISDIR: illegal operation on a directory, open '${path}'`) as NodeJS.ErrnoException;
      Object.assign(e, { code: 'EISDIR', syscall: 'open', path });
      throw e;
    }
    const seekable = st.isFile() || st.isBlockDevice();
    return new HostEndpoint(path, fh, seekable, st.isFile() ? st.size : undefined);
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
}

export function openEndpoint(vfs: IVfs, spec: EndpointSpec, access: 'r' | 'w', nonblock?: boolean | 'chr'): Promise<Endpoint> {
  return 'vfs' in spec
    ? openVfsEndpoint(vfs, spec.vfs, { access, ...(nonblock === undefined ? {} : { nonblock }) })
    : openHostEndpoint(spec.host, access);
}
