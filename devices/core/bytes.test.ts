import { it } from 'node:test';
import assert from 'node:assert/strict';
import { byteView, copyBytes } from './bytes.js';

it('matches DataView in both byte orders', () => {
  const a = new Uint8Array(16), b = new Uint8Array(16);
  const v = byteView(a), d = new DataView(b.buffer);
  for (const le of [false, true, undefined]) {
    v.setUint32(0, 0xdeadbeef, le); d.setUint32(0, 0xdeadbeef, le);
    v.setUint16(6, 0xcafe, le); d.setUint16(6, 0xcafe, le);
    assert.deepEqual(a, b);
    assert.equal(v.getUint32(0, le), d.getUint32(0, le));
    assert.equal(v.getUint16(6, le), d.getUint16(6, le));
    assert.equal(v.getUint32(5, le), d.getUint32(5, le));
  }
});

it('copyBytes copies short and long ranges at offsets', () => {
  for (const len of [0, 1, 60, 64, 65, 1514]) {
    const src = Uint8Array.from({ length: len + 8 }, (_, i) => (i * 7 + 3) & 0xff);
    const dst = new Uint8Array(len + 16).fill(0xee);
    copyBytes(dst, 5, src, 3, len);
    assert.deepEqual(dst.subarray(5, 5 + len), src.subarray(3, 3 + len));
    assert.equal(dst[4], 0xee);
    assert.equal(dst[5 + len], 0xee);
  }
});
