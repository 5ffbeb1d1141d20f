/**
 * atomic.h / refcount.h: 32-bit and 64-bit wrapping, the conditional operations, shared-memory
 * counters that another thread updates concurrently, and refcount_t saturation and warnings.
 */
import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import type { DriverEnv } from '../framework/driver-port.js';
import { setDriverEnv } from './kernel.js';
import { resetKapiBugs } from './bug.js';
import { spin_is_locked, spin_lock_init, spin_unlock } from './spinlock.js';
import { __reset_context } from './preempt.js';
import {
  ATOMIC64_INIT, ATOMIC_INIT, atomic64_add_return, atomic64_at, atomic64_inc, atomic64_read, atomic64_cmpxchg,
  atomic_add_return, atomic_add_unless, atomic_at, atomic_cmpxchg, atomic_dec_and_test, atomic_dec_if_positive,
  atomic_fetch_add, atomic_inc, atomic_inc_not_zero, atomic_inc_return, atomic_read, atomic_set, atomic_sub_and_test,
  atomic_try_cmpxchg, atomic_xchg, atomic_andnot, atomic_fetch_or, REFCOUNT_INIT, REFCOUNT_MAX, REFCOUNT_SATURATED,
  refcount_dec, refcount_dec_and_lock, refcount_dec_and_test, refcount_dec_if_one, refcount_dec_not_one, refcount_inc,
  refcount_inc_not_zero, refcount_read, refcount_set, refcount_at,
} from './atomic.js';

const logs: string[] = [];
setDriverEnv({ isolation: 'ic0', log: (_l: number, m: string) => { logs.push(m); } } as unknown as DriverEnv);

beforeEach(() => {
  __reset_context();
  resetKapiBugs();
  logs.length = 0;
});

describe('atomic_t', () => {
  it('wraps at 32 bits and follows Linux argument order', () => {
    const v = ATOMIC_INIT(0x7fffffff);
    assert.equal(atomic_inc_return(v), -0x80000000);
    atomic_set(v, 5);
    assert.equal(atomic_add_return(3, v), 8);
    assert.equal(atomic_fetch_add(2, v), 8);
    assert.equal(atomic_read(v), 10);
    assert.equal(atomic_sub_and_test(10, v), true);
    atomic_inc(v);
    assert.equal(atomic_dec_and_test(v), true);
  });

  it('cmpxchg, xchg, bit operations and the conditional adds', () => {
    const v = ATOMIC_INIT(1);
    assert.equal(atomic_cmpxchg(v, 2, 9), 1, 'mismatch: returns current, no store');
    assert.equal(atomic_cmpxchg(v, 1, 9), 1);
    assert.deepEqual(atomic_try_cmpxchg(v, 9, 4), [true, 9]);
    assert.deepEqual(atomic_try_cmpxchg(v, 9, 5), [false, 4]);
    assert.equal(atomic_xchg(v, 0b1100), 4);
    assert.equal(atomic_fetch_or(0b0011, v), 0b1100);
    atomic_andnot(0b0101, v);
    assert.equal(atomic_read(v), 0b1010);
    atomic_set(v, 0);
    assert.equal(atomic_inc_not_zero(v), false);
    assert.equal(atomic_add_unless(v, 1, 7), true);
    assert.equal(atomic_read(v), 1);
    assert.equal(atomic_dec_if_positive(v), 0);
    assert.equal(atomic_dec_if_positive(v), -1);
    assert.equal(atomic_read(v), 0, 'not decremented below zero');
  });

  it('atomic_at counts correctly while another thread increments the same slot', async () => {
    // slot 0: go, slot 1: the counter, slot 2: worker ready. A spin barrier makes both threads
    // increment at the same time (a load+store version of atomic_inc loses ~30% here).
    const view = new Int32Array(new SharedArrayBuffer(12));
    const v = atomic_at(view, 1);
    const N = 500_000;
    const w = new Worker(`
      const { workerData } = require('node:worker_threads');
      const a = new Int32Array(workerData.sab);
      Atomics.store(a, 2, 1);
      while (Atomics.load(a, 0) === 0);
      for (let i = 0; i < ${N}; i++) Atomics.add(a, 1, 1);
    `, { eval: true, workerData: { sab: view.buffer } });
    const exited = new Promise((r) => w.once('exit', r));
    while (Atomics.load(view, 2) === 0) Atomics.wait(view, 2, 0, 1);
    Atomics.store(view, 0, 1);
    for (let i = 0; i < N; i++) atomic_inc(v);
    await exited;
    assert.equal(atomic_read(v), 2 * N);
    assert.equal(view[1], 2 * N, 'the value lives in the shared slot');
  });
});

describe('atomic64_t', () => {
  it('is a bigint that wraps at 64 bits; numbers are accepted as increments', () => {
    const v = ATOMIC64_INIT((1n << 63n) - 1n);
    atomic64_inc(v);
    assert.equal(atomic64_read(v), -(1n << 63n));
    const w = ATOMIC64_INIT(0);
    assert.equal(atomic64_add_return(5_000_000_000, w), 5_000_000_000n);
    assert.equal(atomic64_cmpxchg(w, 5_000_000_000n, 1), 5_000_000_000n);
    assert.equal(atomic64_read(w), 1n);
  });

  it('atomic64_at uses the shared slot', () => {
    const view = new BigInt64Array(new SharedArrayBuffer(16));
    const v = atomic64_at(view, 1);
    atomic64_add_return(7n, v);
    assert.equal(view[1], 7n);
  });
});

describe('refcount_t', () => {
  it('counts references and reports the last put', () => {
    const r = REFCOUNT_INIT(1);
    refcount_inc(r);
    assert.equal(refcount_read(r), 2);
    assert.equal(refcount_dec_and_test(r), false);
    assert.equal(refcount_dec_and_test(r), true);
    assert.equal(refcount_inc_not_zero(r), false, 'a dead object cannot be revived');
    assert.deepEqual(logs, []);
  });

  it('underflow: saturates, warns "underflow; use-after-free." and stays saturated', () => {
    const r = REFCOUNT_INIT(1);
    assert.equal(refcount_dec_and_test(r), true);
    assert.equal(refcount_dec_and_test(r), false);
    assert.equal(refcount_read(r), REFCOUNT_SATURATED);
    assert.match(logs[0]!, /^WARNING: refcount_t: underflow; use-after-free\. at .*atomic\.test\.js:\d+/);
    assert.equal(refcount_dec_and_test(r), false, 'never reaches zero again (leaks instead of a double free)');
    assert.equal(refcount_read(r), REFCOUNT_SATURATED);
  });

  it('increment from 0 warns "addition on 0; use-after-free."', () => {
    const r = REFCOUNT_INIT(0);
    refcount_inc(r);
    assert.match(logs[0]!, /^WARNING: refcount_t: addition on 0; use-after-free\./);
    assert.equal(refcount_read(r), REFCOUNT_SATURATED);
  });

  it('overflow saturates ("saturated; leaking memory.")', () => {
    const r = REFCOUNT_INIT(REFCOUNT_MAX);
    refcount_inc(r);
    assert.match(logs[0]!, /^WARNING: refcount_t: saturated; leaking memory\./);
    assert.equal(refcount_read(r), REFCOUNT_SATURATED);
  });

  it('refcount_dec hitting 0 warns "decrement hit 0; leaking memory."', () => {
    const r = REFCOUNT_INIT(1);
    refcount_dec(r);
    assert.match(logs[0]!, /^WARNING: refcount_t: decrement hit 0; leaking memory\./);
  });

  it('dec_if_one, dec_not_one, dec_and_lock', () => {
    const r = REFCOUNT_INIT(2);
    assert.equal(refcount_dec_if_one(r), false);
    assert.equal(refcount_dec_not_one(r), true);
    assert.equal(refcount_read(r), 1);
    assert.equal(refcount_dec_not_one(r), false);
    const lock = spin_lock_init('list');
    assert.equal(refcount_dec_and_lock(r, lock), true);
    assert.equal(spin_is_locked(lock), true, 'returned with the lock held');
    spin_unlock(lock);
    refcount_set(r, 3);
    assert.equal(refcount_dec_and_lock(r, lock), false);
    assert.equal(spin_is_locked(lock), false);
    const shared = refcount_at(new Int32Array(new SharedArrayBuffer(4)), 0);
    refcount_set(shared, 1);
    assert.equal(refcount_dec_and_test(shared), true);
  });
});
