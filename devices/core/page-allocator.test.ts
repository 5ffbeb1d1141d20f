import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PAGE_SIZE, PageAllocator } from './page-allocator.js';

const P = PAGE_SIZE;

describe('PageAllocator', () => {
  it('hands out page-rounded, aligned ranges first fit', () => {
    const a = new PageAllocator(P, 16 * P);
    assert.deepEqual(a.alloc(1, P, 'x'), { addr: P, size: P, owner: 'x' });
    assert.deepEqual(a.alloc(P + 1, P, 'y'), { addr: 2 * P, size: 2 * P, owner: 'y' });
    const big = a.alloc(P, 8 * P, 'z')!;
    assert.equal(big.addr, 8 * P, 'aligned to 32 KiB');
    assert.equal(a.alloc(P, 1, 'small-align')!.addr, 4 * P, 'the gap before the aligned block is still used');
  });

  it('returns null when nothing fits, and throws for nonsense requests', () => {
    const a = new PageAllocator(P, 4 * P);
    assert.equal(a.alloc(4 * P), null);
    assert.ok(a.alloc(3 * P));
    assert.equal(a.alloc(1), null);
    assert.throws(() => a.alloc(0), RangeError);
    assert.throws(() => a.alloc(-5), RangeError);
    assert.throws(() => a.alloc(P, 3 * P), RangeError);
  });

  it('coalesces freed neighbours so a large block fits again', () => {
    const a = new PageAllocator(P, 5 * P);
    const x = a.alloc(P)!, y = a.alloc(P)!, z = a.alloc(P)!, w = a.alloc(P)!;
    assert.equal(a.alloc(P), null);
    assert.ok(a.free(y.addr));
    assert.ok(a.free(w.addr));
    assert.equal(a.alloc(2 * P), null, 'two free pages, not adjacent');
    assert.ok(a.free(z.addr));
    assert.equal(a.stats().largestFree, 3 * P);
    assert.ok(a.free(x.addr));
    assert.deepEqual(a.stats(), { total: 4 * P, used: 0, free: 4 * P, largestFree: 4 * P, allocations: 0 });
    assert.equal(a.alloc(4 * P)!.addr, P);
  });

  it('refuses double and unknown frees', () => {
    const a = new PageAllocator(P, 4 * P);
    const x = a.alloc(P)!;
    assert.equal(a.free(x.addr + 1), false);
    assert.equal(a.free(x.addr), true);
    assert.equal(a.free(x.addr), false);
  });

  it('lists live allocations by address', () => {
    const a = new PageAllocator(P, 8 * P);
    const x = a.alloc(P, P, 'a')!;
    a.alloc(P, P, 'b');
    a.free(x.addr);
    a.alloc(2 * P, P, 'c');
    assert.deepEqual(a.allocations().map((v) => v.owner), ['b', 'c']);
  });

  it('stays consistent under random alloc/free', () => {
    const a = new PageAllocator(P, 256 * P);
    let seed = 12345;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const live: { addr: number; size: number }[] = [];
    for (let i = 0; i < 2000; i++) {
      if (live.length > 0 && rnd(2) === 0) {
        const [v] = live.splice(rnd(live.length), 1);
        assert.ok(a.free(v!.addr));
      } else {
        const v = a.alloc(1 + rnd(8 * P), 1 << (12 + rnd(3)));
        if (v) live.push(v);
      }
      const sorted = [...live].sort((p, q) => p.addr - q.addr);
      for (let j = 1; j < sorted.length; j++) assert.ok(sorted[j - 1]!.addr + sorted[j - 1]!.size <= sorted[j]!.addr, 'no overlap');
      assert.equal(a.stats().used, live.reduce((s, v) => s + v.size, 0));
    }
    for (const v of live) a.free(v.addr);
    assert.equal(a.stats().largestFree, 255 * P, 'everything coalesces back');
  });
});
