/**
 * @module vfs/fd-table
 * The central fd table: numbers from 3 up, the lowest free number reused first (POSIX).
 */
import type { OpenFile } from './open-file.js';

export const FIRST_FD = 3;
export const MAX_FDS = 65536;

export class FdTable {
  private readonly fds = new Map<number, OpenFile>();
  /** No fd below this number is free. */
  private lowestFree = FIRST_FD;

  constructor(private readonly max = MAX_FDS) {}

  /** Installs `file` at the lowest free fd; undefined when the table is full (EMFILE). */
  install(file: OpenFile): number | undefined {
    if (this.fds.size >= this.max) return undefined;
    let fd = this.lowestFree;
    while (this.fds.has(fd)) fd++;
    this.fds.set(fd, file);
    this.lowestFree = fd + 1;
    return fd;
  }

  get(fd: number): OpenFile | undefined {
    return this.fds.get(fd);
  }

  remove(fd: number): OpenFile | undefined {
    const file = this.fds.get(fd);
    if (file === undefined) return undefined;
    this.fds.delete(fd);
    if (fd < this.lowestFree) this.lowestFree = fd;
    return file;
  }

  /** Open fds, ascending. */
  list(): number[] {
    return [...this.fds.keys()].sort((a, b) => a - b);
  }

  get size(): number {
    return this.fds.size;
  }
}
