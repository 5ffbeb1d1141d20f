import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUtf8, jsonData, parseHex } from './bytes.js';

describe('bytes', () => {
  it('parses hex in the usual spellings', () => {
    for (const s of ['deadbeef', 'de ad be ef', '0xdeadbeef', 'DE:AD:BE:EF', '0xde 0xad-be ef']) {
      assert.deepEqual([...parseHex(s)], [0xde, 0xad, 0xbe, 0xef], s);
    }
    assert.equal(parseHex('').length, 0);
  });

  it('rejects odd or non-hex input with a suggestion', () => {
    assert.throws(() => parseHex('abc'), { code: 'EINVAL' });
    assert.throws(() => parseHex('zz'), (e: { suggestions: string[] }) => e.suggestions.length === 1);
  });

  it('JSON data is utf8 when valid, base64 otherwise', () => {
    assert.deepEqual(jsonData(Buffer.from('héllo\n')), { data: 'héllo\n', encoding: 'utf8' });
    assert.deepEqual(jsonData(Buffer.from([0xff, 0xfe, 0])), { data: '//4A', encoding: 'base64' });
    assert.equal(isUtf8(Buffer.from([0xc3])), false);
  });
});
