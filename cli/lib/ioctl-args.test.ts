import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIoctlResult, parseArgValues, parseCmd } from './ioctl-args.js';

describe('ioctl-args', () => {
  it('parses commands: numbers or names', () => {
    assert.equal(parseCmd('0x80044501'), 0x80044501);
    assert.equal(parseCmd('42'), 42);
    assert.equal(parseCmd('HMECHO_IOC_GET_COUNT'), 'HMECHO_IOC_GET_COUNT');
  });

  it('parses integer args, keeping u64 values exact as strings', () => {
    assert.deepEqual(parseArgValues(['1', '0x10', '-1', '0b11', '18446744073709551615']), [1, 16, -1, 3, '18446744073709551615']);
    assert.throws(() => parseArgValues(['1.5']), { code: 'EINVAL' });
  });

  it('formats ret and the decoded output, or hex when there is no format', () => {
    assert.deepEqual(formatIoctlResult({ cmd: 0x80044501, name: 'GET', ret: 0, out: 'BQAAAA==', decoded: [5], format: 'u32' }),
      ['GET (0x80044501): ret 0', 'out (u32): 5']);
    assert.deepEqual(formatIoctlResult({ cmd: 0x1234, ret: 3, out: Buffer.from([1, 2, 255]).toString('base64') }),
      ['0x00001234: ret 3', 'out: 01 02 ff']);
    assert.deepEqual(formatIoctlResult({ cmd: 1, ret: 0, out: '' }), ['0x00000001: ret 0']);
  });
});
