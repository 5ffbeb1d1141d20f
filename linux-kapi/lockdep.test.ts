/**
 * lockdep: spinlock and mutex order inversions, nesting annotations, trylocks, and no false
 * dependencies between concurrent driver entries (each its own task) holding sleeping locks.
 */
import { beforeEach, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DriverEnv } from '../framework/driver-port.js';
import { resetKapiBugs } from './bug.js';
import { kapi_debug_enable } from './debug.js';
import { setDriverEnv } from './kernel.js';
import { __lockdep_reset, lockdep_task } from './lockdep.js';
import { mutex_init, mutex_lock, mutex_lock_nested, mutex_trylock, mutex_unlock } from './mutex.js';
import { __reset_context } from './preempt.js';
import { spin_lock, spin_lock_init, spin_lock_nested, spin_unlock } from './spinlock.js';

const logs: string[] = [];
const env = { isolation: 'ic0', log: (_l: number, m: string) => { logs.push(m); } } as unknown as DriverEnv;
setDriverEnv(env);
kapi_debug_enable(env);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

beforeEach(() => { logs.length = 0; resetKapiBugs(); __reset_context(); __lockdep_reset(); });

it('spinlocks: A then B, later B then A is a circular dependency', () => {
  const a = spin_lock_init('A');
  const b = spin_lock_init('B');
  spin_lock(a); spin_lock(b); spin_unlock(b); spin_unlock(a);
  assert.deepEqual(logs, []);
  spin_lock(b); spin_lock(a); spin_unlock(a); spin_unlock(b);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /^WARNING: possible circular locking dependency detected\n/);
  assert.match(logs[0]!, /-> #1: B taken at .*lockdep\.test\.js:\d+:\d+\)\n {7}while holding A/);
});

it('finds a cycle through a longer chain (A->B, B->C, then C->A)', () => {
  const [a, b, c] = [spin_lock_init('A'), spin_lock_init('B'), spin_lock_init('C')];
  spin_lock(a); spin_lock(b); spin_unlock(b); spin_unlock(a);
  spin_lock(b); spin_lock(c); spin_unlock(c); spin_unlock(b);
  spin_lock(c); spin_lock(a); spin_unlock(a); spin_unlock(c);
  assert.match(logs[0]!, /circular locking dependency[\s\S]*-> #1: C taken[^\n]*\n {7}while holding B[\s\S]*-> #2: B taken[^\n]*\n {7}while holding A/);
});

it('two locks of one class nest only when annotated', () => {
  const mk = (n: string): ReturnType<typeof spin_lock_init> => spin_lock_init(n);   // one init site: one class
  const x = mk('x');
  const y = mk('y');
  spin_lock(x); spin_lock_nested(y, 1); spin_unlock(y); spin_unlock(x);
  assert.deepEqual(logs, []);
  spin_lock(x); spin_lock(y); spin_unlock(y); spin_unlock(x);
  assert.match(logs[0]!, /^WARNING: possible recursive locking detected\n {2}trying to acquire y at .*\n {2}but a lock of the same class is already held: x/);
});

it('trylocks add no dependency', async () => {
  const a = mutex_init('A');
  const b = mutex_init('B');
  await mutex_lock(a);
  assert.equal(mutex_trylock(b), 1);
  mutex_unlock(b); mutex_unlock(a);
  await mutex_lock(b); await mutex_lock(a); mutex_unlock(a); mutex_unlock(b);
  assert.deepEqual(logs, []);
});

it('concurrent entries holding their own mutexes across awaits create no false edges', async () => {
  const a = mutex_init('A');
  const b = mutex_init('B');
  const gate = { open: false };
  const waitGate = async (): Promise<void> => { while (!gate.open) await tick(); };
  // Entry 1 holds A across an await while entry 2 takes B: no A -> B edge may appear.
  const e1 = lockdep_task(env, 'entry1', async () => { await mutex_lock(a); await waitGate(); mutex_unlock(a); });
  const e2 = lockdep_task(env, 'entry2', async () => { await tick(); await mutex_lock(b); mutex_unlock(b); });
  await e2;
  gate.open = true;
  await e1;
  // Now the reverse order inside one entry is the first order seen: not a bug.
  await lockdep_task(env, 'entry3', async () => { await mutex_lock(b); await mutex_lock(a); mutex_unlock(a); mutex_unlock(b); });
  assert.deepEqual(logs, []);
});

it('mutex order inversion across two entries, and a nested annotation', async () => {
  const a = mutex_init('A');
  const b = mutex_init('B');
  await lockdep_task(env, 'open', async () => { await mutex_lock(a); await tick(); await mutex_lock(b); mutex_unlock(b); mutex_unlock(a); });
  await lockdep_task(env, 'ioctl', async () => { await mutex_lock(b); await mutex_lock_nested(a, 1); mutex_unlock(a); mutex_unlock(b); });
  assert.deepEqual(logs, [], 'subclass 1 of A is another class');
  await lockdep_task(env, 'ioctl', async () => { await mutex_lock(b); await mutex_lock(a); mutex_unlock(a); mutex_unlock(b); });
  assert.match(logs[0]!, /^WARNING: possible circular locking dependency detected\n {2}ioctl is trying to acquire lock A/);
});
