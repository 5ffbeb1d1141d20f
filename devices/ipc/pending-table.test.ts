import assert from 'node:assert/strict';
import { test } from 'node:test';

import { PendingTable } from './pending-table.js';

test('PendingTable: get/has/delete by id, size, values, clear', () => {
  const t = new PendingTable<string>(4);
  t.set(1, 'a'); t.set(2, 'b'); t.set(3, 'c');
  assert.equal(t.size, 3);
  assert.equal(t.get(2), 'b');
  assert.equal(t.has(5), false);
  assert.equal(t.get(6), undefined, 'same slot as 2, other id');
  assert.equal(t.delete(2), true);
  assert.equal(t.delete(2), false);
  assert.equal(t.size, 2);
  assert.deepEqual([...t.values()].sort(), ['a', 'c']);
  t.set(3, 'C');
  assert.equal(t.size, 2, 'replacing keeps the count');
  assert.equal(t.get(3), 'C');
  t.clear();
  assert.equal(t.size, 0);
  assert.equal(t.get(1), undefined);
});

test('PendingTable grows on a collision and keeps every entry', () => {
  const t = new PendingTable<number>(2);
  for (let id = 1; id <= 100; id++) t.set(id, id * 10);
  assert.equal(t.size, 100);
  for (let id = 1; id <= 100; id++) assert.equal(t.get(id), id * 10);
  // An old request still waiting while ids move far ahead (sparse ids).
  t.set(1 << 20, 7);
  assert.equal(t.get(1 << 20), 7);
  assert.equal(t.get(1), 10);
});

test('PendingTable in the steady state of a request stream stays small', () => {
  const t = new PendingTable<number>(8);
  for (let id = 1; id < 100_000; id++) {
    t.set(id, id);
    if (id > 32) assert.equal(t.delete(id - 32), true);
  }
  assert.equal(t.size, 32);
  assert.ok((t as unknown as { slots: unknown[] }).slots.length <= 64, 'no growth beyond what is in flight');
});
