import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../native/index.js';
import { PhysicalMemory } from './phys-mem.js';

describe('PhysicalMemory', () => {
  it('defaults to 64 MiB of memfd-backed shared memory', () => {
    const mem = new PhysicalMemory();
    try {
      assert.equal(mem.size, 64 << 20);
      assert.ok(mem.buffer instanceof SharedArrayBuffer);
      assert.equal(typeof mem.fd, 'number');
    } finally {
      mem.close();
    }
  });

  it('never hands out address 0 and zeroes what it allocates', () => {
    const mem = new PhysicalMemory({ size: 1 << 20, backing: 'heap' });
    mem.bytes.fill(0xee);
    const a = mem.alloc(100, 4096, 'ufs0')!;
    assert.equal(a.addr, 4096);
    assert.equal(a.size, 4096);
    assert.ok(mem.view(a.addr, a.size).every((b) => b === 0));
    assert.equal(mem.bytes[0], 0xee, 'page 0 is never touched');
    assert.deepEqual(mem.allocations(), [{ addr: 4096, size: 4096, owner: 'ufs0' }]);
    assert.ok(mem.free(a.addr));
    assert.deepEqual(mem.allocations(), []);
  });

  it('returns null when exhausted', () => {
    const mem = new PhysicalMemory({ size: 8 * 4096, backing: 'heap' });
    assert.ok(mem.alloc(7 * 4096));
    assert.equal(mem.alloc(1), null);
    assert.equal(mem.stats().free, 0);
  });

  it('shares its bytes with another mapping of the memfd (an IC2 process)', () => {
    const mem = new PhysicalMemory({ size: 1 << 20 });
    try {
      const remote = PhysicalMemory.attach(native().mapFd(mem.fd!, mem.size));
      const a = mem.alloc(4096, 4096, 'nic0')!;
      mem.view(a.addr, 4).set([1, 2, 3, 4]);
      assert.deepEqual([...remote.view(a.addr, 4)], [1, 2, 3, 4]);
      remote.bytes[a.addr + 4] = 9;
      assert.equal(mem.bytes[a.addr + 4], 9);
      assert.equal(remote.canAllocate, false);
      assert.throws(() => remote.alloc(4096), /attached.*no allocator/);
    } finally {
      mem.close();
    }
  });

  it('bounds-checks CPU-side views and validates its size', () => {
    const mem = new PhysicalMemory({ size: 2 * 4096, backing: 'heap' });
    assert.throws(() => mem.view(4096, 4097), RangeError);
    assert.throws(() => mem.view(-1, 1), RangeError);
    assert.equal(mem.view(8192, 0).length, 0);
    assert.throws(() => new PhysicalMemory({ size: 5000, backing: 'heap' }), RangeError);
    assert.throws(() => new PhysicalMemory({ size: 4096, backing: 'heap' }), RangeError);
  });
});
