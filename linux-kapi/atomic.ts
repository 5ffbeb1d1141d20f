/**
 * @module linux/atomic.h + linux/refcount.h
 * `atomic_t` (32-bit, wrapping), `atomic64_t` (64-bit, bigint) and `refcount_t` (saturating
 * reference counts that warn on misuse), with Linux's function names and argument order
 * (`atomic_add(i, v)`, `atomic_cmpxchg(v, old, new)`).
 *
 * ```ts
 * if (refcount_dec_and_test(obj.ref)) free_obj(obj);
 * const seq = atomic_inc_return(priv.seq);
 * ```
 *
 * Differs from Linux, and why:
 * - **Where the value lives decides how it is updated.** A container is one thread, so an
 *   `atomic_t` made with `ATOMIC_INIT(i)` is a plain number: nothing can interleave with a
 *   read-modify-write, and plain arithmetic is much cheaper than `Atomics`. A counter that
 *   another thread sees (a kernel/container shared page, a twin driver's IC1/IC2 shared state,
 *   a device's memory) lives in a SharedArrayBuffer: `atomic_at(int32View, index)` and
 *   `atomic64_at(bigInt64View, index)` wrap that slot and every operation uses `Atomics`
 *   (sequentially consistent, stronger than every Linux ordering variant). The free functions
 *   work on both. `refcount_at` does the same for refcounts.
 * - `atomic_t` wraps at 32 bits as Linux's does (two's complement); `atomic64_t` values are
 *   `bigint` (64-bit wrapping); functions taking an increment accept a number or a bigint.
 * - Ordering variants (`_relaxed`, `_acquire`, `_release`) are the same functions: one thread,
 *   or `Atomics`, are at least as strong.
 * - `atomic_try_cmpxchg(v, old, new)` returns `[succeeded, current]` instead of updating `*old`.
 * - refcount_t saturates at `REFCOUNT_SATURATED` (0xc0000000, INT_MIN / 2) on overflow, on an
 *   increment from 0 and on underflow, and stays there (the object leaks instead of being freed
 *   twice), logging Linux's warnings once per call site: "refcount_t: saturated; leaking
 *   memory.", "refcount_t: addition on 0; use-after-free.", "refcount_t: underflow;
 *   use-after-free.", "refcount_t: decrement hit 0; leaking memory.".
 */
import { kapi_report } from './bug.js';
import { spin_lock, spin_unlock, type SpinLock } from './spinlock.js';

// ---- atomic_t ------------------------------------------------------------------------------------

/** The storage behind an atomic_t: a plain number or a slot in a shared Int32Array. */
export interface Atomic {
  read(): number;
  set(i: number): void;
  /** Adds, returns the old value (32-bit wrapping). */
  fetchAdd(i: number): number;
  /** If the value is `old`, stores `nu`; returns the value found. */
  cmpxchg(old: number, nu: number): number;
  xchg(nu: number): number;
  fetchAnd(i: number): number;
  fetchOr(i: number): number;
  fetchXor(i: number): number;
}
export type atomic_t = Atomic;

class PlainAtomic implements Atomic {
  constructor(private v: number) { this.v = v | 0; }
  read(): number { return this.v; }
  set(i: number): void { this.v = i | 0; }
  fetchAdd(i: number): number { const o = this.v; this.v = (o + i) | 0; return o; }
  cmpxchg(old: number, nu: number): number { const o = this.v; if (o === (old | 0)) this.v = nu | 0; return o; }
  xchg(nu: number): number { const o = this.v; this.v = nu | 0; return o; }
  fetchAnd(i: number): number { const o = this.v; this.v = o & i; return o; }
  fetchOr(i: number): number { const o = this.v; this.v = o | i; return o; }
  fetchXor(i: number): number { const o = this.v; this.v = o ^ i; return o; }
}

class SharedAtomic implements Atomic {
  constructor(private readonly a: Int32Array, private readonly i: number) {}
  read(): number { return Atomics.load(this.a, this.i); }
  set(v: number): void { Atomics.store(this.a, this.i, v); }
  fetchAdd(v: number): number { return Atomics.add(this.a, this.i, v); }
  cmpxchg(old: number, nu: number): number { return Atomics.compareExchange(this.a, this.i, old, nu); }
  xchg(nu: number): number { return Atomics.exchange(this.a, this.i, nu); }
  fetchAnd(v: number): number { return Atomics.and(this.a, this.i, v); }
  fetchOr(v: number): number { return Atomics.or(this.a, this.i, v); }
  fetchXor(v: number): number { return Atomics.xor(this.a, this.i, v); }
}

/** ATOMIC_INIT(i): a new atomic_t held in a plain number. */
export const ATOMIC_INIT = (i = 0): Atomic => new PlainAtomic(i);
/** An atomic_t over `view[index]` (a SharedArrayBuffer slot another thread sees): uses Atomics. */
export const atomic_at = (view: Int32Array, index: number): Atomic => new SharedAtomic(view, index);

export const atomic_read = (v: Atomic): number => v.read();
export const atomic_set = (v: Atomic, i: number): void => v.set(i);
export const atomic_read_acquire = atomic_read;
export const atomic_set_release = atomic_set;
export const atomic_add = (i: number, v: Atomic): void => { v.fetchAdd(i); };
export const atomic_sub = (i: number, v: Atomic): void => { v.fetchAdd(-i); };
export const atomic_inc = (v: Atomic): void => { v.fetchAdd(1); };
export const atomic_dec = (v: Atomic): void => { v.fetchAdd(-1); };
export const atomic_add_return = (i: number, v: Atomic): number => (v.fetchAdd(i) + i) | 0;
export const atomic_sub_return = (i: number, v: Atomic): number => (v.fetchAdd(-i) - i) | 0;
export const atomic_inc_return = (v: Atomic): number => atomic_add_return(1, v);
export const atomic_dec_return = (v: Atomic): number => atomic_sub_return(1, v);
export const atomic_fetch_add = (i: number, v: Atomic): number => v.fetchAdd(i);
export const atomic_fetch_sub = (i: number, v: Atomic): number => v.fetchAdd(-i);
export const atomic_fetch_inc = (v: Atomic): number => v.fetchAdd(1);
export const atomic_fetch_dec = (v: Atomic): number => v.fetchAdd(-1);
export const atomic_inc_and_test = (v: Atomic): boolean => atomic_inc_return(v) === 0;
export const atomic_dec_and_test = (v: Atomic): boolean => atomic_dec_return(v) === 0;
export const atomic_sub_and_test = (i: number, v: Atomic): boolean => atomic_sub_return(i, v) === 0;
export const atomic_add_negative = (i: number, v: Atomic): boolean => atomic_add_return(i, v) < 0;
export const atomic_cmpxchg = (v: Atomic, old: number, nu: number): number => v.cmpxchg(old, nu);
export const atomic_xchg = (v: Atomic, nu: number): number => v.xchg(nu);
/** [true, old] if the value was `old` (now `nu`), else [false, current value]. */
export function atomic_try_cmpxchg(v: Atomic, old: number, nu: number): [boolean, number] {
  const cur = v.cmpxchg(old, nu);
  return [cur === (old | 0), cur];
}
export const atomic_and = (i: number, v: Atomic): void => { v.fetchAnd(i); };
export const atomic_or = (i: number, v: Atomic): void => { v.fetchOr(i); };
export const atomic_xor = (i: number, v: Atomic): void => { v.fetchXor(i); };
export const atomic_andnot = (i: number, v: Atomic): void => { v.fetchAnd(~i); };
export const atomic_fetch_and = (i: number, v: Atomic): number => v.fetchAnd(i);
export const atomic_fetch_or = (i: number, v: Atomic): number => v.fetchOr(i);
export const atomic_fetch_xor = (i: number, v: Atomic): number => v.fetchXor(i);
export const atomic_fetch_andnot = (i: number, v: Atomic): number => v.fetchAnd(~i);

/** atomic_fetch_add_unless(v, a, u): adds `a` unless the value is `u`; returns the old value. */
export function atomic_fetch_add_unless(v: Atomic, a: number, u: number): number {
  for (let c = v.read(); ;) {
    if (c === u) return c;
    const seen = v.cmpxchg(c, (c + a) | 0);
    if (seen === c) return c;
    c = seen;
  }
}
export const atomic_add_unless = (v: Atomic, a: number, u: number): boolean => atomic_fetch_add_unless(v, a, u) !== u;
export const atomic_inc_not_zero = (v: Atomic): boolean => atomic_add_unless(v, 1, 0);

/** atomic_dec_if_positive(v): decrements if the result is >= 0; returns old - 1 either way. */
export function atomic_dec_if_positive(v: Atomic): number {
  for (let c = v.read(); ;) {
    const d = (c - 1) | 0;
    if (d < 0) return d;
    const seen = v.cmpxchg(c, d);
    if (seen === c) return d;
    c = seen;
  }
}

// ---- atomic64_t ----------------------------------------------------------------------------------

/** The storage behind an atomic64_t: a plain bigint or a slot in a shared BigInt64Array. */
export interface Atomic64 {
  read(): bigint;
  set(i: bigint): void;
  fetchAdd(i: bigint): bigint;
  cmpxchg(old: bigint, nu: bigint): bigint;
  xchg(nu: bigint): bigint;
  fetchAnd(i: bigint): bigint;
  fetchOr(i: bigint): bigint;
  fetchXor(i: bigint): bigint;
}
export type atomic64_t = Atomic64;

const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const big = (v: number | bigint): bigint => (typeof v === 'bigint' ? v : BigInt(v));

class PlainAtomic64 implements Atomic64 {
  constructor(private v: bigint) { this.v = s64(v); }
  read(): bigint { return this.v; }
  set(i: bigint): void { this.v = s64(i); }
  fetchAdd(i: bigint): bigint { const o = this.v; this.v = s64(o + i); return o; }
  cmpxchg(old: bigint, nu: bigint): bigint { const o = this.v; if (o === s64(old)) this.v = s64(nu); return o; }
  xchg(nu: bigint): bigint { const o = this.v; this.v = s64(nu); return o; }
  fetchAnd(i: bigint): bigint { const o = this.v; this.v = s64(o & i); return o; }
  fetchOr(i: bigint): bigint { const o = this.v; this.v = s64(o | i); return o; }
  fetchXor(i: bigint): bigint { const o = this.v; this.v = s64(o ^ i); return o; }
}

class SharedAtomic64 implements Atomic64 {
  constructor(private readonly a: BigInt64Array, private readonly i: number) {}
  read(): bigint { return Atomics.load(this.a, this.i); }
  set(v: bigint): void { Atomics.store(this.a, this.i, v); }
  fetchAdd(v: bigint): bigint { return Atomics.add(this.a, this.i, s64(v)); }
  cmpxchg(old: bigint, nu: bigint): bigint { return Atomics.compareExchange(this.a, this.i, s64(old), s64(nu)); }
  xchg(nu: bigint): bigint { return Atomics.exchange(this.a, this.i, s64(nu)); }
  fetchAnd(v: bigint): bigint { return Atomics.and(this.a, this.i, s64(v)); }
  fetchOr(v: bigint): bigint { return Atomics.or(this.a, this.i, s64(v)); }
  fetchXor(v: bigint): bigint { return Atomics.xor(this.a, this.i, s64(v)); }
}

type N64 = number | bigint;

export const ATOMIC64_INIT = (i: N64 = 0n): Atomic64 => new PlainAtomic64(big(i));
/** An atomic64_t over `view[index]` (a SharedArrayBuffer slot): uses Atomics. */
export const atomic64_at = (view: BigInt64Array, index: number): Atomic64 => new SharedAtomic64(view, index);

export const atomic64_read = (v: Atomic64): bigint => v.read();
export const atomic64_set = (v: Atomic64, i: N64): void => v.set(big(i));
export const atomic64_add = (i: N64, v: Atomic64): void => { v.fetchAdd(big(i)); };
export const atomic64_sub = (i: N64, v: Atomic64): void => { v.fetchAdd(-big(i)); };
export const atomic64_inc = (v: Atomic64): void => { v.fetchAdd(1n); };
export const atomic64_dec = (v: Atomic64): void => { v.fetchAdd(-1n); };
export const atomic64_add_return = (i: N64, v: Atomic64): bigint => s64(v.fetchAdd(big(i)) + big(i));
export const atomic64_sub_return = (i: N64, v: Atomic64): bigint => s64(v.fetchAdd(-big(i)) - big(i));
export const atomic64_inc_return = (v: Atomic64): bigint => atomic64_add_return(1n, v);
export const atomic64_dec_return = (v: Atomic64): bigint => atomic64_sub_return(1n, v);
export const atomic64_fetch_add = (i: N64, v: Atomic64): bigint => v.fetchAdd(big(i));
export const atomic64_fetch_sub = (i: N64, v: Atomic64): bigint => v.fetchAdd(-big(i));
export const atomic64_fetch_inc = (v: Atomic64): bigint => v.fetchAdd(1n);
export const atomic64_fetch_dec = (v: Atomic64): bigint => v.fetchAdd(-1n);
export const atomic64_inc_and_test = (v: Atomic64): boolean => atomic64_inc_return(v) === 0n;
export const atomic64_dec_and_test = (v: Atomic64): boolean => atomic64_dec_return(v) === 0n;
export const atomic64_sub_and_test = (i: N64, v: Atomic64): boolean => atomic64_sub_return(i, v) === 0n;
export const atomic64_add_negative = (i: N64, v: Atomic64): boolean => atomic64_add_return(i, v) < 0n;
export const atomic64_cmpxchg = (v: Atomic64, old: N64, nu: N64): bigint => v.cmpxchg(big(old), big(nu));
export const atomic64_xchg = (v: Atomic64, nu: N64): bigint => v.xchg(big(nu));
export function atomic64_try_cmpxchg(v: Atomic64, old: N64, nu: N64): [boolean, bigint] {
  const cur = v.cmpxchg(big(old), big(nu));
  return [cur === s64(big(old)), cur];
}
export const atomic64_and = (i: N64, v: Atomic64): void => { v.fetchAnd(big(i)); };
export const atomic64_or = (i: N64, v: Atomic64): void => { v.fetchOr(big(i)); };
export const atomic64_xor = (i: N64, v: Atomic64): void => { v.fetchXor(big(i)); };
export const atomic64_andnot = (i: N64, v: Atomic64): void => { v.fetchAnd(~big(i)); };
export const atomic64_fetch_and = (i: N64, v: Atomic64): bigint => v.fetchAnd(big(i));
export const atomic64_fetch_or = (i: N64, v: Atomic64): bigint => v.fetchOr(big(i));
export const atomic64_fetch_xor = (i: N64, v: Atomic64): bigint => v.fetchXor(big(i));

export function atomic64_fetch_add_unless(v: Atomic64, a: N64, u: N64): bigint {
  const A = big(a), U = big(u);
  for (let c = v.read(); ;) {
    if (c === U) return c;
    const seen = v.cmpxchg(c, s64(c + A));
    if (seen === c) return c;
    c = seen;
  }
}
export const atomic64_add_unless = (v: Atomic64, a: N64, u: N64): boolean => atomic64_fetch_add_unless(v, a, u) !== big(u);
export const atomic64_inc_not_zero = (v: Atomic64): boolean => atomic64_add_unless(v, 1n, 0n);

// ---- refcount_t ----------------------------------------------------------------------------------

/** INT_MIN / 2: a saturated refcount stays here (0xc0000000 as a 32-bit int). */
export const REFCOUNT_SATURATED = -0x40000000;
export const REFCOUNT_MAX = 0x7fffffff;

export class Refcount {
  constructor(readonly refs: Atomic) {}
}
export type refcount_t = Refcount;

export const REFCOUNT_INIT = (n = 1): Refcount => new Refcount(ATOMIC_INIT(n));
/** A refcount_t over `view[index]` in a SharedArrayBuffer (Atomics). */
export const refcount_at = (view: Int32Array, index: number): Refcount => new Refcount(atomic_at(view, index));

type Saturation = 'add_not_zero_ovf' | 'add_ovf' | 'add_uaf' | 'sub_uaf' | 'dec_leak';
const SATURATION_MSG: Record<Saturation, string> = {
  add_not_zero_ovf: 'saturated; leaking memory.',
  add_ovf: 'saturated; leaking memory.',
  add_uaf: 'addition on 0; use-after-free.',
  sub_uaf: 'underflow; use-after-free.',
  dec_leak: 'decrement hit 0; leaking memory.',
};

function refcount_warn_saturate(r: Refcount, t: Saturation): void {
  r.refs.set(REFCOUNT_SATURATED);
  kapi_report('refcount', 4, `WARNING: refcount_t: ${SATURATION_MSG[t]}`);
}

export const refcount_set = (r: Refcount, n: number): void => r.refs.set(n);
export const refcount_read = (r: Refcount): number => r.refs.read();

export function refcount_add(i: number, r: Refcount): void {
  const old = r.refs.fetchAdd(i);
  if (old === 0) refcount_warn_saturate(r, 'add_uaf');
  else if (old < 0 || old + i < 0 || old + i > REFCOUNT_MAX) refcount_warn_saturate(r, 'add_ovf');
}
export const refcount_inc = (r: Refcount): void => refcount_add(1, r);

/** refcount_add_not_zero(i, r): adds unless the count is 0; false if it was 0. */
export function refcount_add_not_zero(i: number, r: Refcount): boolean {
  let old = r.refs.read();
  for (;;) {
    if (old === 0) break;
    const seen = r.refs.cmpxchg(old, (old + i) | 0);
    if (seen === old) break;
    old = seen;
  }
  if (old < 0 || old + i < 0 || old + i > REFCOUNT_MAX) refcount_warn_saturate(r, 'add_not_zero_ovf');
  return old !== 0;
}
export const refcount_inc_not_zero = (r: Refcount): boolean => refcount_add_not_zero(1, r);

/** refcount_sub_and_test(i, r): true when the count drops to 0 (free the object). */
export function refcount_sub_and_test(i: number, r: Refcount): boolean {
  const old = r.refs.fetchAdd(-i);
  if (old === i) return true;
  if (old < 0 || old - i < 0) refcount_warn_saturate(r, 'sub_uaf');
  return false;
}
export const refcount_dec_and_test = (r: Refcount): boolean => refcount_sub_and_test(1, r);

/** refcount_dec(r): a decrement that must not hit 0 (use refcount_dec_and_test to free). */
export function refcount_dec(r: Refcount): void {
  const old = r.refs.fetchAdd(-1);
  if (old <= 1) refcount_warn_saturate(r, 'dec_leak');
}

/** refcount_dec_if_one(r): 1 → 0 and true, else unchanged and false. */
export const refcount_dec_if_one = (r: Refcount): boolean => r.refs.cmpxchg(1, 0) === 1;

/** refcount_dec_not_one(r): decrements unless the count is 1; false if it was 1. */
export function refcount_dec_not_one(r: Refcount): boolean {
  let val = r.refs.read();
  for (;;) {
    if (val === REFCOUNT_SATURATED) return true;
    if (val === 1) return false;
    const nu = val - 1;
    if (nu < 0) { refcount_warn_saturate(r, 'sub_uaf'); return true; }
    const seen = r.refs.cmpxchg(val, nu);
    if (seen === val) return true;
    val = seen;
  }
}

/** refcount_dec_and_lock(r, lock): true with `lock` held if the count dropped to 0. */
export function refcount_dec_and_lock(r: Refcount, lock: SpinLock): boolean {
  if (refcount_dec_not_one(r)) return false;
  spin_lock(lock);
  if (!refcount_dec_and_test(r)) { spin_unlock(lock); return false; }
  return true;
}
