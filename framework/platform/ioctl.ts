/**
 * @module platform/ioctl
 * Linux ioctl command numbers (include/uapi/asm-generic/ioctl.h): _IO, _IOR, _IOW, _IOWR pack
 * direction, argument size, type ("magic") and number into 32 bits:
 *
 *   bits 31..30 dir (0 none, 1 write, 2 read, 3 read|write)   bits 29..16 size (14 bits)
 *   bits 15..8  type                                          bits 7..0   nr
 *
 * "write" and "read" are from user space's point of view: _IOW passes data to the driver.
 */
import { HmError } from '../errors/hm-error.js';
import type { IoctlDecl } from './types.js';

export type IoctlDir = IoctlDecl['dir'];

export const IOC_NRBITS = 8;
export const IOC_TYPEBITS = 8;
export const IOC_SIZEBITS = 14;
export const IOC_NRSHIFT = 0;
export const IOC_TYPESHIFT = 8;
export const IOC_SIZESHIFT = 16;
export const IOC_DIRSHIFT = 30;
export const IOC_SIZE_MAX = (1 << IOC_SIZEBITS) - 1;

const DIR_BITS: Record<IoctlDir, number> = { none: 0, write: 1, read: 2, readwrite: 3 };
const DIR_NAMES: readonly IoctlDir[] = ['none', 'write', 'read', 'readwrite'];
export const IOCTL_DIRS: readonly IoctlDir[] = ['none', 'read', 'write', 'readwrite'];

/** The 8-bit type code of an ioctl: a one-character string ('E') or a number 0..255. */
export function ioctlTypeCode(type: string | number): number {
  const code = typeof type === 'string' && type.length === 1 ? type.charCodeAt(0) : type;
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > 0xff) {
    throw new HmError('EINVAL', `ioctl type must be one character or a number 0..255, got ${JSON.stringify(type)}`);
  }
  return code;
}

/** The command number of `decl`, as an unsigned 32-bit number (`_IOR('E', 1, u32)` = 0x80044501). */
export function ioctlNumber(decl: Pick<IoctlDecl, 'dir' | 'type' | 'nr' | 'size'>): number {
  const dir = DIR_BITS[decl.dir];
  if (dir === undefined) throw new HmError('EINVAL', `ioctl dir must be none, read, write or readwrite, got ${JSON.stringify(decl.dir)}`);
  if (!Number.isInteger(decl.nr) || decl.nr < 0 || decl.nr > 0xff) {
    throw new HmError('EINVAL', `ioctl nr must be 0..255, got ${decl.nr}`);
  }
  if (!Number.isInteger(decl.size) || decl.size < 0 || decl.size > IOC_SIZE_MAX) {
    throw new HmError('EINVAL', `ioctl size must be 0..${IOC_SIZE_MAX}, got ${decl.size}`);
  }
  const type = ioctlTypeCode(decl.type);
  return ((dir << IOC_DIRSHIFT) | (decl.size << IOC_SIZESHIFT) | (type << IOC_TYPESHIFT) | (decl.nr << IOC_NRSHIFT)) >>> 0;
}

export interface DecodedIoctl {
  dir: IoctlDir;
  /** The type code as a number ('E' is 0x45). */
  type: number;
  nr: number;
  size: number;
}

/** Splits a command number into its fields (_IOC_DIR, _IOC_TYPE, _IOC_NR, _IOC_SIZE). */
export function decodeIoctl(cmd: number): DecodedIoctl {
  const c = cmd >>> 0;
  return {
    dir: DIR_NAMES[c >>> IOC_DIRSHIFT]!,
    type: (c >>> IOC_TYPESHIFT) & ((1 << IOC_TYPEBITS) - 1),
    nr: (c >>> IOC_NRSHIFT) & ((1 << IOC_NRBITS) - 1),
    size: (c >>> IOC_SIZESHIFT) & IOC_SIZE_MAX,
  };
}

/** Byte sizes of the elements an ioctl `format` may list ("u64,u64"); "bytes" stands alone. */
export const IOCTL_FORMAT_ELEMENTS: Readonly<Record<string, number>> = {
  u8: 1, u16: 2, u32: 4, u64: 8, i8: 1, i16: 2, i32: 4, i64: 8,
};

/**
 * Size in bytes of an argument described by `format`: a number for fixed layouts ("u32" is 4,
 * "u64,u64" is 16), null for "bytes" (a raw buffer of the declared size), undefined if the
 * format is not understood.
 */
export function ioctlFormatSize(format: string): number | null | undefined {
  if (format === 'bytes') return null;
  let size = 0;
  for (const part of format.split(',')) {
    const name = part.trim();
    if (!Object.hasOwn(IOCTL_FORMAT_ELEMENTS, name)) return undefined;
    size += IOCTL_FORMAT_ELEMENTS[name]!;
  }
  return size;
}
