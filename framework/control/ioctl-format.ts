/**
 * @module control/ioctl-format
 * Encodes and decodes an ioctl argument buffer from a declaration's format string
 * ("u32", "u64,u64,u64,u64"): fields packed in order, little-endian, no padding. The format
 * "bytes" (a raw buffer, see platform/ioctl.ts) has no fields and is not encoded here.
 *
 * It lives in the framework (not the CLI) because the control server encodes `argValues`
 * and decodes results for every client.
 *
 * @example
 * encodeFields('u32,u64', [1, '18446744073709551615']); // 12 bytes
 * decodeFields('u32', Uint8Array.of(5, 0, 0, 0));      // [5]
 */
import type { IoctlDecl } from '../platform/types.js';
import { protocolError } from './wire-error.js';

/** The format of a raw buffer argument (no fields: pass bytes, get bytes). */
export const RAW_FORMAT = 'bytes';

const FIELDS = {
  u8: { size: 1, signed: false }, u16: { size: 2, signed: false },
  u32: { size: 4, signed: false }, u64: { size: 8, signed: false },
  i8: { size: 1, signed: true }, i16: { size: 2, signed: true },
  i32: { size: 4, signed: true }, i64: { size: 8, signed: true },
} as const;

export type FieldType = keyof typeof FIELDS;

/** Splits "u32, u64" into field types; throws EINVAL on an unknown type. */
export function parseFormat(format: string): FieldType[] {
  const fields = format.split(',').map((f) => f.trim()).filter((f) => f !== '');
  for (const f of fields) {
    if (!(f in FIELDS)) {
      throw protocolError('EINVAL', `unknown field type '${f}' in ioctl format '${format}'`,
        [`use ${Object.keys(FIELDS).join(', ')}`]);
    }
  }
  return fields as FieldType[];
}

/** Bytes a format occupies. */
export function formatSize(format: string): number {
  return parseFormat(format).reduce((n, f) => n + FIELDS[f].size, 0);
}

/**
 * Packs `values` (numbers, bigints, or integer strings such as "0x10" or "-3") per `format`;
 * the buffer is at least `minSize` bytes (zero-padded). Throws EINVAL on a count or range error.
 */
export function encodeFields(format: string, values: readonly (number | bigint | string)[], minSize = 0): Uint8Array {
  const fields = parseFormat(format);
  if (values.length !== fields.length) {
    throw protocolError('EINVAL', `ioctl format '${format}' takes ${fields.length} value(s), got ${values.length}`);
  }
  const size = fields.reduce((n, f) => n + FIELDS[f].size, 0);
  const buf = Buffer.alloc(Math.max(size, minSize));
  let off = 0;
  fields.forEach((f, i) => {
    const { size: width, signed } = FIELDS[f];
    const v = toBigInt(values[i]!);
    const bits = BigInt(width * 8);
    const min = signed ? -(1n << (bits - 1n)) : 0n;
    const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
    if (v < min || v > max) throw protocolError('EINVAL', `value ${v} does not fit ${f}`);
    let u = BigInt.asUintN(width * 8, v); // two's complement for negative values
    for (let b = 0; b < width; b++, u >>= 8n) buf[off + b] = Number(u & 0xffn);
    off += width;
  });
  return buf;
}

/** Unpacks as many whole fields as `data` holds; values above 2^53 come back as decimal strings. */
export function decodeFields(format: string, data: Uint8Array): (number | string)[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out: (number | string)[] = [];
  let off = 0;
  for (const f of parseFormat(format)) {
    const { size, signed } = FIELDS[f];
    if (off + size > buf.length) break;
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[off + i]!);
    if (signed) v = BigInt.asIntN(size * 8, v);
    out.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString());
    off += size;
  }
  return out;
}

/** Parses an integer given as a number, bigint or string ("42", "-1", "0x2a", "0b101", "0o7"). */
export function toBigInt(v: number | bigint | string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw protocolError('EINVAL', `not an integer: ${v}`);
    return BigInt(v);
  }
  const s = v.trim();
  const neg = s.startsWith('-');
  const body = neg ? s.slice(1) : s;
  if (!/^(0x[0-9a-f]+|0o[0-7]+|0b[01]+|\d+)$/i.test(body)) throw protocolError('EINVAL', `not an integer: '${v}'`);
  const n = BigInt(body);
  return neg ? -n : n;
}

/** True when the kernel copies the argument back to the caller (_IOR, _IOWR). */
export function ioctlReturnsData(decl: Pick<IoctlDecl, 'dir'>): boolean {
  return decl.dir === 'read' || decl.dir === 'readwrite';
}
