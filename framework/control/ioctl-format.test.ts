import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeFields, encodeFields, formatSize, parseFormat, toBigInt } from './ioctl-format.js';

describe('ioctl-format', () => {
  it('packs fields little-endian without padding', () => {
    assert.deepEqual([...encodeFields('u8,u16,u32', [1, 0x0203, 0x04050607])], [1, 3, 2, 7, 6, 5, 4]);
    assert.equal(formatSize('u64, u64,u64,u64'), 32);
    assert.equal(encodeFields('u32', [1], 16).length, 16);
  });

  it('round-trips signed and 64-bit values; big values decode as strings', () => {
    const values = [-1, '-9223372036854775808', '0xffffffffffffffff', 42];
    const buf = encodeFields('i32,i64,u64,u8', values);
    assert.deepEqual(decodeFields('i32,i64,u64,u8', buf), [-1, '-9223372036854775808', '18446744073709551615', 42]);
  });

  it('decodes only whole fields', () => {
    assert.deepEqual(decodeFields('u32,u32', Uint8Array.of(5, 0, 0, 0, 9)), [5]);
  });

  it('rejects unknown types, wrong counts and out-of-range values with EINVAL', () => {
    assert.throws(() => parseFormat('u32,f32'), { code: 'EINVAL', message: /unknown field type 'f32'/ });
    assert.throws(() => encodeFields('u32,u32', [1]), { code: 'EINVAL', message: /takes 2 value/ });
    assert.throws(() => encodeFields('u8', [256]), { message: /does not fit u8/ });
    assert.throws(() => encodeFields('i32', [2 ** 31]), { message: /does not fit i32/ });
    assert.throws(() => encodeFields('u32', [-1]), { message: /does not fit u32/ });
  });

  it('parses integer spellings', () => {
    assert.deepEqual(['42', '0x2A', '0b101', '0o17', '-7'].map(toBigInt), [42n, 42n, 5n, 15n, -7n]);
    assert.throws(() => toBigInt('12abc'), { code: 'EINVAL' });
    assert.throws(() => toBigInt(1.5), { code: 'EINVAL' });
  });
});
