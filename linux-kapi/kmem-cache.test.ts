/**
 * slab.h / vmalloc.h: kmem_cache reuse and misuse reports, krealloc, and GFP_KERNEL / vmalloc
 * allocations reported in atomic context while GFP_ATOMIC is fine.
 */
import { beforeEach, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DriverEnv } from '../framework/driver-port.js';
import { resetKapiBugs } from './bug.js';
import { setDriverEnv } from './kernel.js';
import { kmem_cache_alloc, kmem_cache_create, kmem_cache_destroy, kmem_cache_free, kmem_cache_in_use, kmem_cache_zalloc } from './kmem-cache.js';
import { GFP_ATOMIC, kmalloc, kmemdup, krealloc } from './mm.js';
import { __reset_context } from './preempt.js';
import { spin_lock, spin_lock_init, spin_unlock } from './spinlock.js';
import { kvmalloc, vmalloc, vzalloc } from './vmalloc.js';

const logs: string[] = [];
setDriverEnv({ isolation: 'ic0', log: (_l: number, m: string) => { logs.push(m); } } as unknown as DriverEnv);
beforeEach(() => { logs.length = 0; resetKapiBugs(); __reset_context(); });

it('kmem_cache hands freed objects out again, runs ctor once per object, zalloc zeroes', () => {
  let ctors = 0;
  const c = kmem_cache_create('objs', 32, 0, 0, (o) => { ctors++; o[0] = 0x5a; });
  const a = kmem_cache_alloc(c);
  assert.equal(a.length, 32);
  assert.equal(a[0], 0x5a);
  a[1] = 9;
  kmem_cache_free(c, a);
  const b = kmem_cache_alloc(c, GFP_ATOMIC);
  assert.equal(b, a, 'reused');
  assert.equal(b[1], 9, 'not zeroed, as a slab');
  assert.equal(ctors, 1);
  kmem_cache_free(c, b);
  assert.deepEqual(kmem_cache_zalloc(c), new Uint8Array(32));
  assert.equal(kmem_cache_in_use(c), 1);
  assert.deepEqual(logs, []);
});

it('reports double free, foreign objects and objects left at destroy', () => {
  const c = kmem_cache_create('leaky', 8);
  const a = kmem_cache_alloc(c);
  kmem_cache_free(c, a);
  kmem_cache_free(c, a);
  kmem_cache_free(c, new Uint8Array(8));
  kmem_cache_alloc(c);
  kmem_cache_destroy(c);
  assert.match(logs[0]!, /^BUG leaky: Invalid object pointer or double free/);
  assert.match(logs.at(-1)!, /^BUG leaky: Objects remaining on kmem_cache_destroy\(\) \(1 still allocated\)/);
});

it('krealloc keeps the bytes; kmemdup copies', () => {
  const p = Uint8Array.from([1, 2, 3]);
  assert.deepEqual(krealloc(p, 5), Uint8Array.from([1, 2, 3, 0, 0]));
  assert.deepEqual(krealloc(p, 2), Uint8Array.from([1, 2]));
  assert.equal(krealloc(p, 3), p);
  const d = kmemdup(p, 2);
  d[0] = 7;
  assert.equal(p[0], 1);
});

it('GFP_KERNEL and vmalloc in atomic context are reported; GFP_ATOMIC is not', () => {
  const l = spin_lock_init('l');
  spin_lock(l);
  kmalloc(8, GFP_ATOMIC);
  kvmalloc(8, GFP_ATOMIC);
  assert.deepEqual(logs, []);
  kmalloc(8);
  vmalloc(8);
  vzalloc(8);
  spin_unlock(l);
  assert.match(logs[0]!, /^BUG: sleeping function called from invalid context: kmalloc\(GFP_KERNEL\) in task context/);
  assert.match(logs[1]!, /vmalloc\(\)/);
  assert.equal(logs.length, 3);
});
