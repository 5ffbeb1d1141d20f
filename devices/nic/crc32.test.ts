/** The Ethernet FCS helper: the same value as zlib's CRC-32 for every length and offset. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32 } from './crc32.js';

it('computes the IEEE CRC-32 (check value of "123456789" is 0xcbf43926)', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789'), 0, 9), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0), 0, 0), 0);
});

it('matches zlib over ranges of heap and shared arrays, on both sides of the native cut-over', () => {
  const heap = Uint8Array.from({ length: 2048 }, (_, i) => (i * 151 + 7) & 0xff);
  const shared = new Uint8Array(new SharedArrayBuffer(2048));
  shared.set(heap);
  for (const b of [heap, shared]) {
    for (const len of [1, 7, 8, 9, 60, 63, 64, 255, 256, 257, 1514]) {
      for (const off of [0, 3]) assert.equal(crc32(b, off, len), zlibCrc32(b.subarray(off, off + len)), `len ${len} off ${off}`);
    }
  }
});
