/**
 * @module linux/bits.h + linux/bitfield.h + linux/bitops.h + linux/log2.h + linux/math.h /
 * linux/minmax.h (kernel.h) + linux/wordpart.h + asm/byteorder.h + linux/unaligned.h
 * The small helpers register code is written with:
 *
 * ```ts
 * const CTRL_MODE = GENMASK(6, 4), CTRL_EN = BIT(0);
 * writel(FIELD_PREP(CTRL_MODE, 3) | CTRL_EN, base, R.CTRL);
 * const mode = FIELD_GET(CTRL_MODE, readl(base, R.CTRL));
 * writel(lower_32_bits(dma), base, R.ADDR_LO); writel(upper_32_bits(dma), base, R.ADDR_HI);
 * ```
 *
 * Differs from Linux, and why:
 * - Values are JS numbers, not C integers. Results that are `u32` in Linux are unsigned here
 *   (`>>> 0`: `BIT(31)` is 2147483648, not -2147483648). 64-bit values are exact only up to
 *   2^53: `BIT`/`BIT_ULL`/`GENMASK*` accept bits 0..52, and `FIELD_*`, `upper_32_bits`,
 *   `ALIGN`... are exact for integers below 2^53 (a DMA address or a register pair always is).
 * - What C rejects at build time (`GENMASK(3, 7)`, `BIT(64)`, `FIELD_PREP(0, v)`) is reported
 *   at run time (a `KERN_WARNING` "bits: ..." line, once per call site) and gives 0.
 * - `min_t`/`max_t`/`clamp_t` take the type as a string (`min_t('u32', a, b)`) and convert both
 *   values to it first, as C's casts do; 64-bit types convert only to an integer.
 * - The machine is little-endian: `cpu_to_le*`/`le*_to_cpu` only truncate to the width,
 *   `cpu_to_be*`/`be*_to_cpu` swap bytes. The unaligned accessors work on a `Uint8Array`.
 */
import { kapi_report } from './bug.js';

const TWO32 = 2 ** 32;

function bad(msg: string): number {
  kapi_report('bits', 4, `bits: ${msg}`);
  return 0;
}

/** Splits a non-negative integer below 2^53 into 32-bit halves. */
const hi32 = (x: number): number => Math.floor(x / TWO32) >>> 0;
const lo32 = (x: number): number => x >>> 0;
const join = (hi: number, lo: number): number => (hi >>> 0) * TWO32 + (lo >>> 0);
const valid = (n: number, max: number): boolean => Number.isInteger(n) && n >= 0 && n <= max;

/** BIT(n): bit n (0..52); an unsigned 32-bit value for n < 32. */
export function BIT(n: number): number {
  if (!valid(n, 52)) return bad(`BIT(${n}): bit number outside 0..52`);
  return n < 32 ? (2 ** n) >>> 0 : 2 ** n;
}
/** BIT_ULL(n): as BIT (a 64-bit value, exact up to bit 52). */
export const BIT_ULL = BIT;
export const BITS_PER_BYTE = 8, BITS_PER_LONG = 64, BITS_PER_LONG_LONG = 64;
export const U8_MAX = 0xff, U16_MAX = 0xffff, U32_MAX = 0xffffffff, S32_MAX = 0x7fffffff, S32_MIN = -0x80000000,
  S16_MAX = 0x7fff, S16_MIN = -0x8000, S8_MAX = 0x7f, S8_MIN = -0x80, INT_MAX = S32_MAX, INT_MIN = S32_MIN, UINT_MAX = U32_MAX;

/** GENMASK(h, l): bits l..h set (0 <= l <= h <= 52); unsigned 32-bit when h < 32. */
export function GENMASK(h: number, l: number): number {
  if (!valid(h, 52) || !valid(l, 52) || l > h) return bad(`GENMASK(${h}, ${l}): needs 0 <= l <= h <= 52`);
  const m = 2 ** (h + 1) - 2 ** l;
  return h < 32 ? m >>> 0 : m;
}
export const GENMASK_ULL = GENMASK;

/** Bitwise and of two non-negative integers below 2^53 (JS `&` works on 32 bits only). */
function and53(a: number, b: number): number {
  return a <= U32_MAX && b <= U32_MAX ? (a & b) >>> 0 : join(hi32(a) & hi32(b), lo32(a) & lo32(b));
}

/** __ffs(x): index of the lowest set bit (x != 0, below 2^53); -1 for 0. */
export function __ffs(x: number): number {
  const lo = lo32(x);
  if (lo) return 31 - Math.clz32(lo & -lo);
  const hi = hi32(x);
  return hi ? 63 - Math.clz32(hi & -hi) : -1;
}
/** __fls(x): index of the highest set bit (x != 0, below 2^53); -1 for 0. */
export function __fls(x: number): number {
  const hi = hi32(x);
  if (hi) return 63 - Math.clz32(hi);
  const lo = lo32(x);
  return lo ? 31 - Math.clz32(lo) : -1;
}
/** ffs(x): 1-based lowest set bit of an int, 0 for 0. fls(x): 1-based highest, 0 for 0. */
export const ffs = (x: number): number => __ffs(x >>> 0) + 1;
export const fls = (x: number): number => __fls(x >>> 0) + 1;
export const fls64 = (x: number): number => __fls(x) + 1;

/** hweight32/16/8: number of set bits. */
export function hweight32(x: number): number {
  let v = x >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}
export const hweight16 = (x: number): number => hweight32(x & 0xffff);
export const hweight8 = (x: number): number => hweight32(x & 0xff);
export const hweight64 = (x: number): number => hweight32(hi32(x)) + hweight32(lo32(x));

const maskOk = (mask: number, fn: string): boolean =>
  (Number.isSafeInteger(mask) && mask > 0) || (bad(`${fn}: mask ${mask} is not a non-zero integer below 2^53`), false);

/** FIELD_MAX(mask): the largest value the field holds. */
export function FIELD_MAX(mask: number): number {
  if (!maskOk(mask, 'FIELD_MAX')) return 0;
  return Math.floor(mask / 2 ** __ffs(mask));
}
/** FIELD_GET(mask, reg): the field `mask` of `reg`, shifted down. */
export function FIELD_GET(mask: number, reg: number): number {
  if (!maskOk(mask, 'FIELD_GET')) return 0;
  return Math.floor(and53(mask, reg < 0 ? reg >>> 0 : reg) / 2 ** __ffs(mask));
}
/** FIELD_PREP(mask, val): `val` shifted into the field `mask` (bits that do not fit are dropped, as in C). */
export function FIELD_PREP(mask: number, val: number): number {
  if (!maskOk(mask, 'FIELD_PREP')) return 0;
  const shifted = (val < 0 ? val >>> 0 : val) * 2 ** __ffs(mask);
  return and53(mask, shifted % 2 ** 53);
}
/** FIELD_FIT(mask, val): true if `val` fits in the field. */
export function FIELD_FIT(mask: number, val: number): boolean {
  return maskOk(mask, 'FIELD_FIT') && Number.isInteger(val) && val >= 0 && val <= FIELD_MAX(mask);
}

/** lower_32_bits(n), upper_32_bits(n): halves of a 64-bit value (exact below 2^53; negatives as two's complement). */
export const lower_32_bits = (n: number): number => n >>> 0;
export const upper_32_bits = (n: number): number => Math.floor(n / TWO32) >>> 0;
export const lower_16_bits = (n: number): number => n & 0xffff;
export const upper_16_bits = (n: number): number => (n >>> 16) & 0xffff;

export const min = (a: number, b: number): number => (a < b ? a : b);
export const max = (a: number, b: number): number => (a > b ? a : b);
export const min3 = (a: number, b: number, c: number): number => min(min(a, b), c);
export const max3 = (a: number, b: number, c: number): number => max(max(a, b), c);
export const min_not_zero = (a: number, b: number): number => (a === 0 ? b : b === 0 ? a : min(a, b));
/** clamp(val, lo, hi): `val` limited to [lo, hi]. */
export const clamp = (val: number, lo: number, hi: number): number => min(max(val, lo), hi);
export const clamp_val = clamp;
export const abs = (x: number): number => Math.abs(x);

export type CType = 'u8' | 'u16' | 'u32' | 'u64' | 's8' | 's16' | 's32' | 's64' | 'int' | 'unsigned int' | 'long'
  | 'unsigned long' | 'size_t' | 'ssize_t';
/** The value as C's cast to `t` gives it (64-bit types: truncated to an integer only). */
export function __cast(t: CType, v: number): number {
  switch (t) {
    case 'u8': return v & 0xff;
    case 'u16': return v & 0xffff;
    case 'u32': case 'unsigned int': return v >>> 0;
    case 's8': return (v << 24) >> 24;
    case 's16': return (v << 16) >> 16;
    case 's32': case 'int': return v | 0;
    default: return Math.trunc(v);
  }
}
export const min_t = (t: CType, a: number, b: number): number => min(__cast(t, a), __cast(t, b));
export const max_t = (t: CType, a: number, b: number): number => max(__cast(t, a), __cast(t, b));
export const clamp_t = (t: CType, v: number, lo: number, hi: number): number => clamp(__cast(t, v), __cast(t, lo), __cast(t, hi));

/** ARRAY_SIZE(arr): its element count. */
export const ARRAY_SIZE = (arr: ArrayLike<unknown>): number => arr.length;

/** DIV_ROUND_UP(n, d) for non-negative integers (exact below 2^53). */
export const DIV_ROUND_UP = (n: number, d: number): number => Math.ceil(n / d);
/** DIV_ROUND_CLOSEST(x, d): rounded to nearest, halves away from zero (as Linux for either sign). */
export const DIV_ROUND_CLOSEST = (x: number, d: number): number => Math.sign(x / d) * Math.floor(Math.abs(x / d) + 0.5);
/** roundup(x, y) / rounddown(x, y): to a multiple of any y. */
export const roundup = (x: number, y: number): number => Math.ceil(x / y) * y;
export const rounddown = (x: number, y: number): number => x - (x % y);

/** is_power_of_2(n): n is a positive integer power of two. */
export function is_power_of_2(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && __ffs(n) === __fls(n);
}
function pow2(a: number, fn: string): boolean {
  return is_power_of_2(a) || (bad(`${fn}: alignment ${a} is not a power of two`), false);
}
/** round_up(x, a) / round_down(x, a), ALIGN(x, a), ALIGN_DOWN: `a` must be a power of two. */
export const round_up = (x: number, a: number): number => (pow2(a, 'round_up') ? Math.ceil(x / a) * a : 0);
export const round_down = (x: number, a: number): number => (pow2(a, 'round_down') ? Math.floor(x / a) * a : 0);
export const ALIGN = (x: number, a: number): number => (pow2(a, 'ALIGN') ? Math.ceil(x / a) * a : 0);
export const ALIGN_DOWN = (x: number, a: number): number => (pow2(a, 'ALIGN_DOWN') ? Math.floor(x / a) * a : 0);
/** IS_ALIGNED(x, a): x is a multiple of the power of two `a`. */
export const IS_ALIGNED = (x: number, a: number): boolean => pow2(a, 'IS_ALIGNED') && x % a === 0;

/** ilog2(n): floor(log2(n)) for 1 <= n < 2^53; -1 for 0 (undefined in Linux). */
export const ilog2 = (n: number): number => __fls(n);
/** roundup_pow_of_two(n) / rounddown_pow_of_two(n), n >= 1. */
export function roundup_pow_of_two(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) return bad(`roundup_pow_of_two(${n}): needs 1 <= n < 2^53`);
  return is_power_of_2(n) ? n : 2 ** (__fls(n) + 1);
}
export function rounddown_pow_of_two(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) return bad(`rounddown_pow_of_two(${n}): needs 1 <= n < 2^53`);
  return 2 ** __fls(n);
}
/** order_base_2(n): ceil(log2(n)); 0 for 0 and 1. */
export const order_base_2 = (n: number): number => (n > 1 ? __fls(roundup_pow_of_two(n)) : 0);

/** swab16/swab32: reverse the bytes. */
export const swab16 = (x: number): number => ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
export const swab32 = (x: number): number =>
  (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | ((x >>> 24) & 0xff)) >>> 0;

/** Little-endian CPU: the le conversions only truncate to the width. */
export const cpu_to_le16 = (x: number): number => x & 0xffff;
export const cpu_to_le32 = (x: number): number => x >>> 0;
export const le16_to_cpu = cpu_to_le16;
export const le32_to_cpu = cpu_to_le32;
export const cpu_to_be16 = swab16;
export const cpu_to_be32 = swab32;
export const be16_to_cpu = swab16;
export const be32_to_cpu = swab32;
/** htons/ntohs/htonl/ntohl (network order is big-endian). */
export const htons = swab16, ntohs = swab16, htonl = swab32, ntohl = swab32;

/** get_unaligned_le16/le32/be16/be32(buf, off = 0) and the put_ forms: byte-wise on a Uint8Array. */
export const get_unaligned_le16 = (p: Uint8Array, off = 0): number => p[off]! | (p[off + 1]! << 8);
export const get_unaligned_be16 = (p: Uint8Array, off = 0): number => (p[off]! << 8) | p[off + 1]!;
export const get_unaligned_le32 = (p: Uint8Array, off = 0): number =>
  (p[off]! | (p[off + 1]! << 8) | (p[off + 2]! << 16) | (p[off + 3]! << 24)) >>> 0;
export const get_unaligned_be32 = (p: Uint8Array, off = 0): number =>
  ((p[off]! << 24) | (p[off + 1]! << 16) | (p[off + 2]! << 8) | p[off + 3]!) >>> 0;
export function put_unaligned_le16(v: number, p: Uint8Array, off = 0): void { p[off] = v; p[off + 1] = v >>> 8; }
export function put_unaligned_be16(v: number, p: Uint8Array, off = 0): void { p[off] = v >>> 8; p[off + 1] = v; }
export function put_unaligned_le32(v: number, p: Uint8Array, off = 0): void {
  p[off] = v; p[off + 1] = v >>> 8; p[off + 2] = v >>> 16; p[off + 3] = v >>> 24;
}
export function put_unaligned_be32(v: number, p: Uint8Array, off = 0): void {
  p[off] = v >>> 24; p[off + 1] = v >>> 16; p[off + 2] = v >>> 8; p[off + 3] = v;
}
