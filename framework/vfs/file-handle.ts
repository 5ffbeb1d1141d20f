/**
 * @module vfs/file-handle
 * `FileHandle`: an fs/promises-style object over one fd of the central table.
 */
import type { IFileHandle, PollRequest, PollResult, VfsStats } from './api.js';
import type { IoctlArg, OpenFileInfo } from './types.js';
import { sysErr } from './errors.js';

/** The fd calls a FileHandle needs (the Vfs implements them). */
export interface FdBackend {
  /** The open file an fd refers to (identity tells whether the fd was closed and reused). */
  describeFd(fd: number): OpenFileInfo | undefined;
  read(fd: number, buffer: Uint8Array, offset?: number, length?: number, position?: number | null): Promise<number>;
  write(fd: number, data: Uint8Array | string, offset?: number, length?: number, position?: number | null): Promise<number>;
  ioctl(fd: number, cmd: number, arg?: IoctlArg): Promise<{ ret: number; out?: Uint8Array }>;
  poll(fds: PollRequest[], timeoutMs?: number): Promise<PollResult[]>;
  mmap(fd: number, length: number, offset?: number): Promise<Uint8Array>;
  seek(fd: number, offset: number, whence?: 0 | 1 | 2): Promise<number>;
  fstat(fd: number): Promise<VfsStats>;
  fsync(fd: number): Promise<void>;
  close(fd: number): Promise<void>;
  readToEnd(fd: number): Promise<Buffer>;
}

export class FileHandle implements IFileHandle {
  private closed = false;

  constructor(private readonly backend: FdBackend, readonly fd: number, private readonly file: OpenFileInfo) {}

  /** Path of the open file (canonical). */
  get path(): string { return this.file.path; }

  private check(syscall: string): void {
    if (this.closed || this.backend.describeFd(this.fd) !== this.file) throw sysErr('EBADF', syscall);
  }

  async read<T extends Uint8Array>(buffer: T, offset?: number, length?: number, position?: number | null): Promise<{ bytesRead: number; buffer: T }> {
    this.check('read');
    const bytesRead = await this.backend.read(this.fd, buffer, offset, length, position);
    return { bytesRead, buffer };
  }

  async write(data: Uint8Array | string, offset?: number, length?: number, position?: number | null): Promise<{ bytesWritten: number }> {
    this.check('write');
    return { bytesWritten: await this.backend.write(this.fd, data, offset, length, position) };
  }

  async readFile(options: { encoding?: BufferEncoding } = {}): Promise<Buffer | string> {
    this.check('read');
    const data = await this.backend.readToEnd(this.fd);
    return options.encoding === undefined ? data : data.toString(options.encoding);
  }

  async ioctl(cmd: number, arg?: IoctlArg): Promise<{ ret: number; out?: Uint8Array }> {
    this.check('ioctl');
    return this.backend.ioctl(this.fd, cmd, arg);
  }

  async poll(events: number, timeoutMs?: number): Promise<number> {
    this.check('poll');
    const [result] = await this.backend.poll([{ fd: this.fd, events }], timeoutMs);
    return result!.revents;
  }

  async mmap(length: number, offset = 0): Promise<Uint8Array> {
    this.check('mmap');
    return this.backend.mmap(this.fd, length, offset);
  }

  async seek(offset: number, whence: 0 | 1 | 2 = 0): Promise<number> {
    this.check('lseek');
    return this.backend.seek(this.fd, offset, whence);
  }

  async stat(): Promise<VfsStats> {
    this.check('fstat');
    return this.backend.fstat(this.fd);
  }

  async sync(): Promise<void> {
    this.check('fsync');
    return this.backend.fsync(this.fd);
  }

  /** Closes the fd; closing an already closed handle does nothing (as in fs/promises). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.check('close');
    this.closed = true;
    await this.backend.close(this.fd);
  }
}
