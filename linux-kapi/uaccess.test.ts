import { it } from 'node:test';
import assert from 'node:assert/strict';
import { EFAULT } from './errno.js';
import { copy_from_user, copy_to_user, get_user, put_user, UserPtr } from './uaccess.js';

it('copy_to_user through a derived pointer counts as a write to the caller buffer', () => {
  const mem = new Uint8Array(16);
  const base = new UserPtr(mem);
  const tail = base.add(8);
  assert.equal(copy_to_user(tail, Uint8Array.of(1, 2, 3)), 0);
  assert.equal(base.written, 11, 'the base pointer sees the write (the kernel copies back 11 bytes)');
  assert.deepEqual([...mem.subarray(8, 11)], [1, 2, 3]);
  assert.equal(put_user(7, base, 'u16'), 0);
  assert.equal(base.written, 11, 'written only grows');
});

it('reports the bytes not copied past the end of the user buffer, and EFAULT for scalars', () => {
  const p = new UserPtr(new Uint8Array(4)).add(2);
  assert.equal(copy_to_user(p, Uint8Array.of(9, 9, 9, 9)), 2);
  const into = new Uint8Array(4);
  assert.equal(copy_from_user(into, p, 4), 2);
  assert.deepEqual(get_user(p, 'u32'), [-EFAULT, 0]);
  assert.equal(put_user(1n, p, 'u64'), -EFAULT);
  assert.equal(copy_to_user(new UserPtr(null), Uint8Array.of(1)), 1, 'no buffer at all');
});
