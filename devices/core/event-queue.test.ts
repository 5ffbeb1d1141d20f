import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventQueue } from './event-queue.js';

describe('EventQueue', () => {
  it('pops by time, then by insertion order', () => {
    const q = new EventQueue();
    const out: string[] = [];
    for (const [t, n] of [[5n, 'a'], [1n, 'b'], [5n, 'c'], [3n, 'd'], [1n, 'e']] as const) q.push(t, () => out.push(n));
    for (let e = q.pop(); e; e = q.pop()) e.fn();
    assert.deepEqual(out, ['b', 'e', 'd', 'a', 'c']);
  });

  it('skips cancelled events and counts only live ones', () => {
    const q = new EventQueue();
    const a = q.push(1n, () => {});
    q.push(2n, () => {});
    q.cancel(a);
    q.cancel(a);
    assert.equal(q.size, 1);
    assert.equal(q.peek()?.t, 2n);
    q.clear();
    assert.equal(q.size, 0);
    assert.equal(q.pop(), undefined);
  });
});
