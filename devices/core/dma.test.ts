import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DmaSpace, type DmaFault } from './dma.js';
import { PhysicalMemory } from './phys-mem.js';

function setup(permissive = false) {
  const mem = new PhysicalMemory({ size: 1 << 20, backing: 'heap' });
  const faults: DmaFault[] = [];
  const dma = new DmaSpace(mem, 'dev0', { onFault: (f) => faults.push(f), permissive });
  return { mem, dma, faults };
}

describe('DmaSpace', () => {
  it('reads and writes granted memory, little-endian helpers included', () => {
    const { mem, dma } = setup();
    const buf = mem.alloc(4096, 4096, 'dev0')!;
    dma.grant(buf.addr, buf.size, 'bidirectional');
    assert.equal(dma.write(buf.addr, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)), 'ok');
    assert.equal(dma.readU32(buf.addr), 0x04030201);
    assert.equal(dma.readU16(buf.addr + 2), 0x0403);
    assert.equal(dma.readU64(buf.addr), 0x0807060504030201n);
    assert.equal(dma.writeU32(buf.addr + 8, 0xdeadbeef), 'ok');
    assert.deepEqual([...mem.view(buf.addr + 8, 4)], [0xef, 0xbe, 0xad, 0xde]);
    assert.equal(dma.writeU64(buf.addr + 16, -1n), 'ok');
    assert.equal(dma.readU64(buf.addr + 16), 0xffffffffffffffffn);
    const r = dma.read(buf.addr, 4);
    assert.ok(r.ok);
    assert.deepEqual([...r.data], [1, 2, 3, 4]);
    r.data[0] = 99;
    assert.equal(mem.bytes[buf.addr], 1, 'read returns a copy');
    const target = new Uint8Array(3);
    assert.equal(dma.readInto(buf.addr + 1, target), 'ok');
    assert.deepEqual([...target], [2, 3, 4]);
    assert.deepEqual(dma.stats, { bytesRead: 4 + 2 + 8 + 8 + 4 + 3, bytesWritten: 8 + 4 + 8 });
  });

  it('faults outside physical memory with decode-error, including overflowing ranges', () => {
    const { mem, dma, faults } = setup(true);
    assert.equal(dma.write(mem.size - 2, new Uint8Array(4)), 'decode-error');
    const r = dma.read(Number.MAX_SAFE_INTEGER, 2);
    assert.equal(r.ok, false);
    assert.equal(dma.readU32(-4), undefined);
    assert.equal(dma.readU32(1.5), undefined);
    assert.equal(dma.faults['decode-error'], 4);
    assert.deepEqual(faults[0], { device: 'dev0', addr: mem.size - 2, len: 4, kind: 'decode-error', dir: 'from-device' });
    assert.ok(mem.bytes.subarray(mem.size - 2).every((b) => b === 0), 'nothing written');
  });

  it('denies accesses outside grants and touches nothing', () => {
    const { mem, dma, faults } = setup();
    const buf = mem.alloc(8192)!;
    dma.grant(buf.addr, 16, 'from-device');
    assert.equal(dma.write(buf.addr + 8, new Uint8Array(9).fill(7)), 'access-denied', 'one byte past the grant');
    assert.ok(mem.view(buf.addr, 32).every((b) => b === 0));
    assert.equal(dma.write(buf.addr + 8, new Uint8Array(8).fill(7)), 'ok');
    assert.equal(mem.bytes[buf.addr + 16], 0);
    const r = dma.read(buf.addr, 4);
    assert.ok(!r.ok);
    assert.deepEqual(r.fault, { device: 'dev0', addr: buf.addr, len: 4, kind: 'access-denied', dir: 'to-device' });
    assert.equal(dma.faults['access-denied'], 2);
    assert.equal(faults.length, 2);
    assert.equal(dma.lastFault, r.fault);
  });

  it('enforces directions: to-device lets the device read, from-device lets it write', () => {
    const { mem, dma } = setup();
    const tx = mem.alloc(4096)!, rx = mem.alloc(4096)!;
    dma.grant(tx.addr, tx.size, 'to-device');
    dma.grant(rx.addr, rx.size, 'from-device');
    assert.ok(dma.read(tx.addr, 64).ok);
    assert.equal(dma.writeU32(tx.addr, 1), 'access-denied');
    assert.equal(dma.writeU32(rx.addr, 1), 'ok');
    assert.equal(dma.readU32(rx.addr), undefined);
  });

  it('lets an access span adjacent grants of the right direction', () => {
    const { mem, dma } = setup();
    const b = mem.alloc(3 * 4096)!;
    dma.grant(b.addr, 4096, 'bidirectional');
    dma.grant(b.addr + 4096, 4096, 'to-device');
    dma.grant(b.addr + 8192, 4096, 'bidirectional');
    assert.ok(dma.read(b.addr + 4000, 8192).ok);
    assert.equal(dma.write(b.addr + 4000, new Uint8Array(200)), 'access-denied', 'the middle grant is read-only for the device');
  });

  it('revokes single grants and all of them', () => {
    const { mem, dma } = setup();
    const a = mem.alloc(4096)!, b = mem.alloc(4096)!;
    dma.grant(a.addr, 4096, 'bidirectional');
    dma.grant(b.addr, 4096, 'bidirectional');
    assert.equal(dma.readU32(a.addr), 0, 'primes the last-hit cache');
    assert.equal(dma.revoke(a.addr), true);
    assert.equal(dma.revoke(a.addr), false);
    assert.equal(dma.readU32(a.addr), undefined, 'the cached grant is gone too');
    assert.equal(dma.readU32(b.addr), 0);
    dma.revokeAll();
    assert.equal(dma.readU32(b.addr), undefined);
    assert.deepEqual(dma.grants(), []);
  });

  it('gives views only over fully granted ranges', () => {
    const { mem, dma, faults } = setup();
    const a = mem.alloc(4096)!;
    dma.grant(a.addr, 4096, 'to-device');
    const v = dma.view(a.addr, 16, 'to-device')!;
    mem.bytes[a.addr] = 5;
    assert.equal(v[0], 5, 'a live view, not a copy');
    assert.equal(dma.view(a.addr, 16), null, 'bidirectional needs write access too');
    assert.equal(dma.view(a.addr + 4090, 16, 'to-device'), null);
    assert.equal(faults.length, 2);
  });

  it('rejects grants outside memory (a kernel bug)', () => {
    const { mem, dma } = setup();
    assert.throws(() => dma.grant(mem.size - 4, 8, 'to-device'), RangeError);
    assert.throws(() => dma.grant(0, 0, 'to-device'), RangeError);
  });

  it('permissive mode allows every in-bounds access without grants', () => {
    const { dma } = setup(true);
    assert.equal(dma.writeU32(0x2000, 42), 'ok');
    assert.equal(dma.readU32(0x2000), 42);
    assert.ok(dma.view(0, 16));
  });

  it('zero-length accesses succeed and touch nothing', () => {
    const { dma } = setup();
    assert.equal(dma.write(0x3000, new Uint8Array(0)), 'ok');
    assert.ok(dma.read(0x3000, 0).ok);
  });

  it('allows() answers without reporting; access() checks and reports like any access', () => {
    const { mem, dma, faults } = setup();
    const a = mem.alloc(4096)!;
    dma.grant(a.addr, 4096, 'to-device');
    assert.equal(dma.allows(a.addr, 4096, 'to-device'), true);
    assert.equal(dma.allows(a.addr, 4096, 'from-device'), false);
    assert.equal(dma.allows(a.addr, 4096, 'bidirectional'), false);
    assert.equal(dma.allows(a.addr + 4000, 200, 'to-device'), false);
    assert.equal(dma.allows(mem.size, 1, 'to-device'), false);
    assert.equal(faults.length, 0, 'allows() reports nothing');
    assert.equal(dma.access(a.addr, 16, 'to-device'), 'ok');
    assert.equal(dma.access(a.addr, 16, 'from-device'), 'access-denied');
    assert.equal(dma.access(mem.size - 4, 8, 'to-device'), 'decode-error');
    assert.equal(faults.length, 2);
    assert.deepEqual(dma.faults, { 'decode-error': 1, 'access-denied': 1 });
  });

  it('generation changes with every grant and revoke', () => {
    const { mem, dma } = setup();
    const a = mem.alloc(4096)!;
    const g0 = dma.generation;
    dma.grant(a.addr, 4096, 'bidirectional');
    const g1 = dma.generation;
    assert.notEqual(g1, g0);
    dma.allows(a.addr, 16, 'bidirectional');
    assert.equal(dma.generation, g1, 'accesses do not change it');
    dma.revoke(a.addr);
    assert.notEqual(dma.generation, g1);
    const g2 = dma.generation;
    dma.revokeAll();
    assert.notEqual(dma.generation, g2);
  });

  it('readTo / writeFrom copy ranges at offsets without views, checked and counted', () => {
    const { mem, dma, faults } = setup();
    const a = mem.alloc(8192)!;
    dma.grant(a.addr, 4096, 'from-device');
    dma.grant(a.addr + 4096, 4096, 'to-device');
    for (const len of [4, 60, 1514]) {
      const src = Uint8Array.from({ length: len + 10 }, (_, i) => (i * 13) & 0xff);
      assert.equal(dma.writeFrom(a.addr + 8, src, 10, len), 'ok');
      assert.deepEqual(mem.bytes.subarray(a.addr + 8, a.addr + 8 + len), src.subarray(10));
      mem.bytes.copyWithin(a.addr + 4096, a.addr + 8, a.addr + 8 + len);
      const dst = new Uint8Array(len + 3);
      assert.equal(dma.readTo(a.addr + 4096, len, dst, 3), 'ok');
      assert.deepEqual(dst.subarray(3), src.subarray(10));
    }
    assert.equal(dma.stats.bytesWritten, 4 + 60 + 1514);
    assert.equal(dma.stats.bytesRead, 4 + 60 + 1514);
    const before = mem.bytes.slice(a.addr + 4096, a.addr + 4200);
    assert.equal(dma.writeFrom(a.addr + 4096, new Uint8Array(100).fill(9), 0, 100), 'access-denied');
    assert.deepEqual(mem.bytes.slice(a.addr + 4096, a.addr + 4200), before, 'nothing written');
    assert.equal(dma.readTo(a.addr, 16, new Uint8Array(16), 0), 'access-denied');
    assert.equal(faults.length, 2);
  });
});
