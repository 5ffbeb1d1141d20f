/**
 * @module linux/uaccess.h
 * User memory as a driver reaches it. A `__user` pointer is a `UserPtr`: a window on the
 * caller's buffer with its real bounds, so an access past them fails like a bad user
 * pointer does on Linux (copy_* return the bytes NOT copied; get/put_user return -EFAULT).
 */
import { EFAULT } from './errno.js';

export class UserPtr {
  /** Shared by a pointer and every pointer derived from it with add(): one caller buffer. */
  private readonly extent: { written: number };
  constructor(readonly mem: Uint8Array | null, readonly offset = 0, extent?: { written: number }) {
    this.extent = extent ?? { written: 0 };
  }

  /** Highest byte offset of the buffer written through copy_to_user/put_user, via this pointer or one derived from it (the data to copy back). */
  get written(): number { return this.extent.written; }
  set written(v: number) { this.extent.written = Math.max(this.extent.written, v); }

  /** Pointer arithmetic: `ptr + n`. Writes through the result count as writes to this buffer. */
  add(n: number): UserPtr {
    return new UserPtr(this.mem, this.offset + n, this.extent);
  }

  get length(): number { return this.mem ? Math.max(0, this.mem.length - this.offset) : 0; }
}

/** Copies `n` bytes of `from` to user memory; returns the number of bytes that could not be copied. */
export function copy_to_user(to: UserPtr, from: Uint8Array, n = from.length): number {
  const ok = Math.max(0, Math.min(n, to.length, from.length));
  if (ok > 0) {
    to.mem!.set(from.subarray(0, ok), to.offset);
    to.written = Math.max(to.written, to.offset + ok);
  }
  return n - ok;
}

/** Copies `n` bytes from user memory into `to`; returns the number of bytes not copied. */
export function copy_from_user(to: Uint8Array, from: UserPtr, n = to.length): number {
  const ok = Math.max(0, Math.min(n, from.length, to.length));
  if (ok > 0) to.set(from.mem!.subarray(from.offset, from.offset + ok));
  return n - ok;
}

export type UserScalar = 'u8' | 'u16' | 'u32' | 'u64' | 's32' | 's64';
const SIZES: Record<UserScalar, number> = { u8: 1, u16: 2, u32: 4, u64: 8, s32: 4, s64: 8 };

/** get_user: reads a little-endian scalar; returns [-EFAULT] or [0, value]. */
export function get_user(ptr: UserPtr, type: UserScalar): [number, number | bigint] {
  const n = SIZES[type];
  if (ptr.length < n) return [-EFAULT, 0];
  const v = new DataView(ptr.mem!.buffer, ptr.mem!.byteOffset + ptr.offset, n);
  switch (type) {
    case 'u8': return [0, v.getUint8(0)];
    case 'u16': return [0, v.getUint16(0, true)];
    case 'u32': return [0, v.getUint32(0, true)];
    case 's32': return [0, v.getInt32(0, true)];
    case 'u64': return [0, v.getBigUint64(0, true)];
    case 's64': return [0, v.getBigInt64(0, true)];
  }
}

/** put_user: writes a little-endian scalar; 0 or -EFAULT. */
export function put_user(value: number | bigint, ptr: UserPtr, type: UserScalar): number {
  const b = new Uint8Array(SIZES[type]);
  const v = new DataView(b.buffer);
  switch (type) {
    case 'u8': v.setUint8(0, Number(value)); break;
    case 'u16': v.setUint16(0, Number(value), true); break;
    case 'u32': v.setUint32(0, Number(value), true); break;
    case 's32': v.setInt32(0, Number(value), true); break;
    case 'u64': v.setBigUint64(0, BigInt(value), true); break;
    case 's64': v.setBigInt64(0, BigInt(value), true); break;
  }
  return copy_to_user(ptr, b) ? -EFAULT : 0;
}
