/**
 * linux/bits.h, bitfield.h, log2.h, minmax, wordpart.h, byteorder and unaligned helpers: the
 * values Linux's macros give, unsigned where Linux's are u32, and bad arguments reported (0).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALIGN, ALIGN_DOWN, ARRAY_SIZE, BIT, BIT_ULL, DIV_ROUND_CLOSEST, DIV_ROUND_UP, FIELD_FIT, FIELD_GET, FIELD_MAX, FIELD_PREP,
  GENMASK, GENMASK_ULL, IS_ALIGNED, __ffs, __fls, be16_to_cpu, be32_to_cpu, clamp, clamp_t, cpu_to_be16, cpu_to_be32,
  cpu_to_le16, cpu_to_le32, ffs, fls, get_unaligned_be32, get_unaligned_le16, get_unaligned_le32, hweight32, hweight64, ilog2,
  is_power_of_2, le16_to_cpu, le32_to_cpu, lower_32_bits, max, max_t, min, min_t, order_base_2, put_unaligned_be32,
  put_unaligned_le32, round_down, round_up, rounddown_pow_of_two, roundup_pow_of_two, swab16, swab32, upper_32_bits,
} from './bits.js';
import { kapiBugs } from './bug.js';

const bitsReports = (): number => kapiBugs().filter((b) => b.kind === 'bits').reduce((n, b) => n + b.count, 0);

describe('BIT and GENMASK', () => {
  it('BIT is unsigned 32-bit below 32 and a plain number up to 52', () => {
    assert.equal(BIT(0), 1);
    assert.equal(BIT(31), 0x80000000);
    assert.equal(BIT(32), 2 ** 32);
    assert.equal(BIT_ULL(52), 2 ** 52);
  });
  it('GENMASK(h, l) sets bits l..h', () => {
    assert.equal(GENMASK(7, 4), 0xf0);
    assert.equal(GENMASK(31, 0), 0xffffffff);
    assert.equal(GENMASK(31, 28), 0xf0000000);
    assert.equal(GENMASK_ULL(39, 32), 0xff_0000_0000);
    assert.equal(GENMASK_ULL(52, 0), 2 ** 53 - 1);
  });
  it('out-of-range arguments are reported and give 0', () => {
    const before = bitsReports();
    assert.equal(BIT(53), 0);
    assert.equal(BIT(-1), 0);
    assert.equal(GENMASK(3, 7), 0);
    assert.equal(FIELD_PREP(0, 1), 0);
    assert.equal(bitsReports() - before, 4);
  });
});

describe('bitfield.h', () => {
  it('FIELD_GET / FIELD_PREP shift by the mask', () => {
    assert.equal(FIELD_GET(GENMASK(6, 4), 0x5a), 5);
    assert.equal(FIELD_PREP(GENMASK(6, 4), 3), 0x30);
    assert.equal(FIELD_PREP(GENMASK(31, 24), 0xab), 0xab000000);
    assert.equal(FIELD_GET(GENMASK(31, 24), 0xab000000), 0xab);
    assert.equal(FIELD_GET(BIT(31), -1), 1, 'a negative int is its u32 bits');
  });
  it('FIELD_PREP drops what does not fit (as C); FIELD_FIT and FIELD_MAX tell', () => {
    assert.equal(FIELD_PREP(GENMASK(5, 4), 7), 0x30);
    assert.equal(FIELD_FIT(GENMASK(5, 4), 3), true);
    assert.equal(FIELD_FIT(GENMASK(5, 4), 4), false);
    assert.equal(FIELD_MAX(GENMASK(11, 8)), 15);
  });
  it('works on 64-bit masks below 2^53', () => {
    const m = GENMASK_ULL(47, 40);
    assert.equal(FIELD_PREP(m, 0xcd), 0xcd * 2 ** 40);
    assert.equal(FIELD_GET(m, 0xcd * 2 ** 40 + 0xffff_ffff), 0xcd);
  });
});

describe('wordpart, bitops, log2', () => {
  it('lower/upper_32_bits split a 64-bit address', () => {
    const dma = 0x1_2345_6789_abcd;
    assert.equal(lower_32_bits(dma), 0x6789abcd);
    assert.equal(upper_32_bits(dma), 0x12345);
    assert.equal(upper_32_bits(0xffffffff), 0);
  });
  it('ffs/fls/__ffs/__fls/hweight', () => {
    assert.equal(ffs(0), 0);
    assert.equal(ffs(0x18), 4);
    assert.equal(fls(0x18), 5);
    assert.equal(fls(0x80000000), 32);
    assert.equal(__ffs(2 ** 40), 40);
    assert.equal(__fls(2 ** 40 + 1), 40);
    assert.equal(hweight32(0xffffffff), 32);
    assert.equal(hweight32(0x1234), 5);
    assert.equal(hweight64(2 ** 40 + 3), 3);
  });
  it('ilog2, is_power_of_2, roundup/rounddown_pow_of_two, order_base_2', () => {
    assert.equal(ilog2(1), 0);
    assert.equal(ilog2(4096), 12);
    assert.equal(ilog2(4097), 12);
    assert.equal(ilog2(2 ** 52 + 1), 52);
    assert.equal(is_power_of_2(0), false);
    assert.equal(is_power_of_2(2 ** 33), true);
    assert.equal(is_power_of_2(6), false);
    assert.equal(roundup_pow_of_two(5), 8);
    assert.equal(roundup_pow_of_two(8), 8);
    assert.equal(roundup_pow_of_two(2 ** 32 + 1), 2 ** 33);
    assert.equal(rounddown_pow_of_two(1000), 512);
    assert.equal(order_base_2(1), 0);
    assert.equal(order_base_2(5), 3);
  });
});

describe('kernel.h math and minmax', () => {
  it('DIV_ROUND_UP, DIV_ROUND_CLOSEST, ALIGN, round_up/down, IS_ALIGNED', () => {
    assert.equal(DIV_ROUND_UP(10, 4), 3);
    assert.equal(DIV_ROUND_UP(8, 4), 2);
    assert.equal(DIV_ROUND_UP(0, 4), 0);
    assert.equal(DIV_ROUND_CLOSEST(7, 2), 4);
    assert.equal(DIV_ROUND_CLOSEST(-7, 2), -4);
    assert.equal(ALIGN(4097, 4096), 8192);
    assert.equal(ALIGN(4096, 4096), 4096);
    assert.equal(ALIGN_DOWN(4097, 4096), 4096);
    assert.equal(round_up(13, 8), 16);
    assert.equal(round_down(13, 8), 8);
    assert.equal(IS_ALIGNED(0x1000, 0x100), true);
    assert.equal(IS_ALIGNED(0x1010, 0x100), false);
    assert.equal(ALIGN(2 ** 40 + 1, 4096), 2 ** 40 + 4096);
  });
  it('a non-power-of-two alignment is reported', () => {
    const before = bitsReports();
    assert.equal(ALIGN(10, 3), 0);
    assert.equal(IS_ALIGNED(9, 3), false);
    assert.equal(bitsReports() - before, 2);
  });
  it('min, max, clamp, the _t forms cast first, ARRAY_SIZE', () => {
    assert.equal(min(3, -1), -1);
    assert.equal(max(3, -1), 3);
    assert.equal(clamp(12, 0, 10), 10);
    assert.equal(clamp(-2, 0, 10), 0);
    assert.equal(min_t('u32', -1, 5), 5, '(u32)-1 is 0xffffffff');
    assert.equal(max_t('u8', 0x1ff, 3), 0xff);
    assert.equal(min_t('int', 0xffffffff, 0), -1);
    assert.equal(clamp_t('s16', 0x18000, -100, 100), -100);
    assert.equal(ARRAY_SIZE([1, 2, 3]), 3);
  });
});

describe('byteorder and unaligned access', () => {
  it('swab and big-endian conversions', () => {
    assert.equal(swab16(0x1234), 0x3412);
    assert.equal(swab32(0x12345678), 0x78563412);
    assert.equal(swab32(0x000000ff), 0xff000000, 'unsigned');
    assert.equal(cpu_to_be16(0xabcd), 0xcdab);
    assert.equal(be32_to_cpu(cpu_to_be32(0xdeadbeef)), 0xdeadbeef);
    assert.equal(be16_to_cpu(0x0100), 1);
  });
  it('little-endian conversions are identity, truncated to the width', () => {
    assert.equal(cpu_to_le32(0x12345678), 0x12345678);
    assert.equal(le32_to_cpu(-1), 0xffffffff);
    assert.equal(cpu_to_le16(0x12345), 0x2345);
    assert.equal(le16_to_cpu(0xbeef), 0xbeef);
  });
  it('get/put_unaligned at odd offsets', () => {
    const b = new Uint8Array(8);
    put_unaligned_le32(0xdeadbeef, b, 1);
    assert.deepEqual([...b.subarray(1, 5)], [0xef, 0xbe, 0xad, 0xde]);
    assert.equal(get_unaligned_le32(b, 1), 0xdeadbeef);
    assert.equal(get_unaligned_le16(b, 1), 0xbeef);
    put_unaligned_be32(0x01020304, b, 3);
    assert.equal(get_unaligned_be32(b, 3), 0x01020304);
    assert.deepEqual([...b.subarray(3, 7)], [1, 2, 3, 4]);
  });
});
