import { it } from 'node:test';
import assert from 'node:assert/strict';
import { byteView } from './bytes.js';

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
