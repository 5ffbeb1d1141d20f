import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { emptyMessage, MSG_HEADER, Ring, RingCorruptError, ringBytes } from './ring.js';

const CAP = 4096;
const mk = () => { const sab = new SharedArrayBuffer(ringBytes(CAP)); return { sab, ring: new Ring(sab, 0, CAP) }; };

describe('Ring', () => {
  it('is empty when new, even over zeroed memory', () => {
    const { ring } = mk();
    assert.equal(ring.isEmpty(), true);
    assert.equal(ring.tryRead(emptyMessage()), false);
  });

  it('carries every header field and the payload', () => {
    const { ring } = mk();
    const m = emptyMessage();
    assert.ok(ring.tryWrite(3, 0x1234, 77, -5, 1.5e12, -2.25, 9, new Uint8Array([1, 2, 3])));
    assert.equal(ring.isEmpty(), false);
    assert.ok(ring.tryRead(m));
    assert.deepEqual({ ...m, payload: [...m.payload!] }, { kind: 3, op: 0x1234, id: 77, a0: -5, a1: 1.5e12, a2: -2.25, a3: 9, payload: [1, 2, 3] });
    assert.equal(ring.isEmpty(), true);
  });

  it('copies a payload into the buffer a sink supplies, or into a new array if it does not fit', () => {
    const { ring } = mk();
    const m = emptyMessage();
    const into = new Uint8Array(8);
    ring.tryWrite(2, 1, 5, 0, 0, 0, 0, Uint8Array.of(7, 8, 9));
    assert.ok(ring.tryRead(m, (kind, id, plen) => (kind === 2 && id === 5 && plen === 3 ? into : null)));
    assert.equal(m.payload!.buffer, into.buffer, 'a view of the supplied buffer');
    assert.deepEqual([...m.payload!], [7, 8, 9]);
    assert.deepEqual([...into.subarray(0, 4)], [7, 8, 9, 0]);
    ring.tryWrite(2, 1, 6, 0, 0, 0, 0, new Uint8Array(9).fill(1));
    assert.ok(ring.tryRead(m, () => into));
    assert.notEqual(m.payload!.buffer, into.buffer, 'too small: a fresh array');
    assert.equal(m.payload!.length, 9);
  });

  it('wraps with PAD records across many laps without losing or reordering messages', () => {
    const { ring } = mk();
    const m = emptyMessage();
    let next = 0;
    for (let i = 0; i < 5000; i++) {
      while (!ring.tryWrite(1, 1, i, i, 0, 0, 0, new Uint8Array(i % 500).fill(i & 0xff))) {
        assert.ok(ring.tryRead(m));
        assert.equal(m.id, next++);
      }
    }
    while (ring.tryRead(m)) {
      assert.equal(m.id, next);
      assert.equal(m.payload?.length ?? 0, next % 500);
      if (m.payload?.length) assert.equal(m.payload[0], next & 0xff);
      next++;
    }
    assert.equal(next, 5000);
  });

  it('reports full instead of overwriting, and rejects payloads that can never fit', () => {
    const { ring } = mk();
    let n = 0;
    while (ring.tryWrite(1, 1, n, 0, 0, 0, 0, new Uint8Array(100))) n++;
    assert.equal(n, Math.floor(CAP / (Math.ceil((MSG_HEADER + 100) / 64) * 64)));
    assert.throws(() => ring.tryWrite(1, 1, 0, 0, 0, 0, 0, new Uint8Array(CAP)), RangeError);
  });

  it('detects a corrupted header instead of reading out of bounds', () => {
    const { sab, ring } = mk();
    ring.tryWrite(1, 1, 1, 0, 0, 0, 0, null);
    const words = new Int32Array(sab, 192);
    words[1] = 1 << 30; // len
    assert.throws(() => ring.tryRead(emptyMessage()), RingCorruptError);
    const b = mk();
    b.ring.tryWrite(1, 1, 1, 0, 0, 0, 0, null);
    new Int32Array(b.sab, 192)[7] = 0; // stamp complement
    assert.throws(() => b.ring.tryRead(emptyMessage()), RingCorruptError);
  });
});
