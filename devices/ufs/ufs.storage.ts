/**
 * @module devices/ufs/ufs.storage
 * Backing stores for UFS logical units: a sparse in-memory store and a sparse file.
 *
 * Durability contract (what the SCSI target relies on): `write` hands the bytes to the OS
 * (synchronous `pwrite`, so they survive a crash of the platform process but maybe not a power
 * cut); `flush` calls `fdatasync`, after which they survive a power cut too. The SCSI target
 * calls `flush` before completing a WRITE with FUA or a SYNCHRONIZE CACHE.
 *
 * Deliberate difference from a real device: UNMAP writes zeros instead of deallocating (Node
 * has no portable hole-punching `fallocate`); reads of unmapped blocks return zeros either way.
 *
 * @example
 * const s = openStorage({ sizeBytes: 64 << 20, backingFile: '/tmp/lu0.img' });
 * s.write(4096, data); s.flush(); s.read(4096, out); s.close();
 */
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';

export interface BlockStorage {
  /** Capacity in bytes. */
  readonly sizeBytes: number;
  /** Copies [offset, offset + dst.length) into `dst`; never-written bytes read as 0. */
  read(offset: number, dst: Uint8Array): void;
  write(offset: number, src: Uint8Array): void;
  /** Deallocates [offset, offset + length): reads back zeros. */
  unmap(offset: number, length: number): void;
  /** Makes every completed write durable (fdatasync). */
  flush(): void;
  close(): void;
}

export interface StorageSpec {
  readonly sizeBytes: number;
  /** Path of a (sparse) image file; created if missing, grown if smaller, never shrunk. */
  readonly backingFile?: string;
}

export function openStorage(spec: StorageSpec): BlockStorage {
  return spec.backingFile === undefined ? new MemoryStorage(spec.sizeBytes) : new FileStorage(spec.backingFile, spec.sizeBytes);
}

const CHUNK = 64 * 1024;

/** Sparse memory: 64 KiB chunks allocated on first write, dropped when wholly unmapped. */
export class MemoryStorage implements BlockStorage {
  private readonly chunks = new Map<number, Uint8Array>();

  constructor(readonly sizeBytes: number) {}

  // read / write / unmap walk the chunks with plain loops (no callback per call: these run per IO).

  read(offset: number, dst: Uint8Array): void {
    const length = dst.length;
    let pos = 0;
    while (pos < length) {
      const abs = offset + pos;
      const index = Math.floor(abs / CHUNK);
      const at = abs - index * CHUNK;
      const n = Math.min(CHUNK - at, length - pos);
      const chunk = this.chunks.get(index);
      if (chunk === undefined) dst.fill(0, pos, pos + n);
      else dst.set(at === 0 && n === CHUNK ? chunk : chunk.subarray(at, at + n), pos);
      pos += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    const length = src.length;
    let pos = 0;
    while (pos < length) {
      const abs = offset + pos;
      const index = Math.floor(abs / CHUNK);
      const at = abs - index * CHUNK;
      const n = Math.min(CHUNK - at, length - pos);
      let chunk = this.chunks.get(index);
      if (chunk === undefined) {
        chunk = new Uint8Array(CHUNK);
        this.chunks.set(index, chunk);
      }
      chunk.set(pos === 0 && n === length ? src : src.subarray(pos, pos + n), at);
      pos += n;
    }
  }

  unmap(offset: number, length: number): void {
    let pos = 0;
    while (pos < length) {
      const abs = offset + pos;
      const index = Math.floor(abs / CHUNK);
      const at = abs - index * CHUNK;
      const n = Math.min(CHUNK - at, length - pos);
      const chunk = this.chunks.get(index);
      if (chunk !== undefined) {
        if (n === CHUNK) this.chunks.delete(index);
        else chunk.fill(0, at, at + n);
      }
      pos += n;
    }
  }

  flush(): void {}

  close(): void {
    this.chunks.clear();
  }

  /** Bytes of memory in use (for tests of sparseness). */
  get allocatedBytes(): number {
    return this.chunks.size * CHUNK;
  }
}

const ZEROS = new Uint8Array(1 << 20);

/** A sparse image file accessed with positioned reads and writes. */
export class FileStorage implements BlockStorage {
  private fd: number | null;

  constructor(readonly path: string, readonly sizeBytes: number) {
    let fd: number;
    try {
      fd = openSync(path, 'r+');
    } catch {
      fd = openSync(path, 'w+');
    }
    // Grow (sparse) to the LU size; a larger existing image keeps its extra bytes untouched.
    if (fstatSync(fd).size < sizeBytes) ftruncateSync(fd, sizeBytes);
    this.fd = fd;
  }

  read(offset: number, dst: Uint8Array): void {
    const fd = this.open();
    let done = 0;
    while (done < dst.length) {
      const n = readSync(fd, dst, done, dst.length - done, offset + done);
      if (n === 0) {
        dst.fill(0, done); // past the end of a shorter file: never written
        return;
      }
      done += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    const fd = this.open();
    let done = 0;
    while (done < src.length) done += writeSync(fd, src, done, src.length - done, offset + done);
  }

  unmap(offset: number, length: number): void {
    for (let pos = 0; pos < length; pos += ZEROS.length) {
      this.write(offset + pos, ZEROS.subarray(0, Math.min(ZEROS.length, length - pos)));
    }
  }

  flush(): void {
    fdatasyncSync(this.open());
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }

  private open(): number {
    if (this.fd === null) throw new Error(`${this.path}: storage is closed`);
    return this.fd;
  }
}
