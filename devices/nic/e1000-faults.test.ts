/**
 * e1000 under driver mistakes: rings and buffers outside memory or outside the IOMMU grants,
 * bad lengths and indices, unknown offsets and wrong access sizes. Every case is a logged device
 * fault or guest error, never an exception, and nothing outside the granted memory changes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { DESC_SIZE, E1000_REGS, RXD_ERR, RXD_STAT, TXD_CMD, TXD_STAT, TX_DESC, readRxDesc, writeTxDesc } from './e1000.regs.js';
import { ethFrame, nicPair } from './e1000.testing.js';

const { offsets: A, bits: B } = E1000_REGS;
const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('e1000 DMA faults', () => {
  it('halts TX when the ring lies outside physical memory, and resumes once reprogrammed', () => {
    const { a, b, clock, mem } = nicPair();
    const before = digest(mem.bytes);
    a.drv.write(A.TDBAL, mem.size + 0x1000);
    a.drv.write(A.TDT, 1);
    clock.runUntilIdle();
    assert.equal(digest(mem.bytes), before, 'memory untouched');
    assert.match(a.logs.join('\n'), /TX descriptor 0 at 0x[0-9a-f]+ is not readable \(decode-error\): TX ring halted/);
    assert.equal(a.dma!.faults['decode-error'], 1);
    a.drv.write(A.TDT, 0);
    a.drv.write(A.TDT, 1);
    clock.runUntilIdle();
    assert.equal(a.dma!.faults['decode-error'], 1, 'a halted ring does not retry on TDT writes');
    // Reprogram like a driver recovering: base, head, tail.
    a.drv.write(A.TDBAL, a.drv.txRing);
    a.drv.write(A.TDH, 0);
    a.drv.write(A.TDT, 0);
    assert.equal(a.drv.transmit(ethFrame({ dst: b.drv.mac, src: a.drv.mac })), 1);
    clock.runUntilIdle();
    assert.equal(b.drv.poll().length, 1);
  });

  it('drops a TX frame whose buffer is not granted, but completes its descriptor', () => {
    const { a, b, clock, mem } = nicPair();
    const stray = mem.alloc(4096)!.addr; // allocated, never granted to the NIC
    writeTxDesc(mem.bytes, a.drv.txRing, { addr: stray, length: 60, cmd: TXD_CMD.EOP | TXD_CMD.IFCS | TXD_CMD.RS });
    a.drv.write(A.TDT, 1);
    clock.runUntilIdle();
    assert.match(a.logs.join('\n'), /buffer 0x[0-9a-f]+\+60 is not readable \(access-denied\): frame dropped/);
    assert.equal(mem.bytes[a.drv.txRing + TX_DESC.STATUS]! & TXD_STAT.DD, TXD_STAT.DD);
    assert.equal(a.drv.read(A.TDH), 1);
    assert.deepEqual(b.drv.poll(), []);
    assert.equal(a.nic.counters.txDropped, 1);
  });

  it('halts TX when the status write-back is not allowed (ring granted to-device only)', () => {
    const { a, clock, mem } = nicPair();
    a.dma!.revoke(a.drv.txRing);
    a.dma!.grant(a.drv.txRing, a.drv.txCount * DESC_SIZE, 'to-device');
    const ring = mem.bytes.slice(a.drv.txRing, a.drv.txRing + 64);
    a.drv.transmit([ethFrame({ dst: a.drv.mac, src: a.drv.mac }), ethFrame({ dst: a.drv.mac, src: a.drv.mac })]);
    const queued = mem.bytes.slice(a.drv.txRing, a.drv.txRing + 64);
    assert.notDeepEqual(queued, ring);
    clock.runUntilIdle();
    assert.deepEqual(mem.bytes.slice(a.drv.txRing, a.drv.txRing + 64), queued, 'no DD written');
    assert.match(a.logs.join('\n'), /status write-back .* failed \(access-denied\): TX ring halted/);
    assert.equal(a.drv.read(A.TDH), 0);
  });

  it('marks an RX descriptor RXE when its buffer is not writable, and writes nothing there', () => {
    const { a, b, clock, mem } = nicPair();
    const buf0 = b.drv.rxBufs;
    b.dma!.revoke(buf0);
    b.dma!.grant(buf0 + 2048, (b.drv.rxCount - 1) * 2048, 'from-device'); // every buffer but the first
    mem.bytes.fill(0xee, buf0, buf0 + 2048);
    a.drv.transmit([ethFrame({ dst: b.drv.mac, src: a.drv.mac, seed: 1 }), ethFrame({ dst: b.drv.mac, src: a.drv.mac, seed: 2 })]);
    clock.runUntilIdle();
    const d0 = readRxDesc(mem.bytes, b.drv.rxRing);
    assert.equal(d0.status, RXD_STAT.DD | RXD_STAT.EOP);
    assert.equal(d0.errors, RXD_ERR.RXE);
    assert.equal(d0.length, 0);
    assert.ok(mem.bytes.subarray(buf0, buf0 + 2048).every((x) => x === 0xee), 'buffer untouched');
    assert.deepEqual(b.drv.poll(), [ethFrame({ dst: b.drv.mac, src: a.drv.mac, seed: 2 })]);
    assert.equal(b.drv.rxErrors, 1);
    assert.match(b.logs.join('\n'), /RX descriptor 0: buffer .* is not writable \(access-denied\)/);
  });

  it('halts RX when the ring is not readable; frames are missed until it is reprogrammed', () => {
    const { a, b, clock } = nicPair();
    b.dma!.revoke(b.drv.rxRing);
    const f = ethFrame({ dst: b.drv.mac, src: a.drv.mac });
    a.drv.transmit([f, f]);
    clock.runUntilIdle();
    assert.equal(b.logs.filter((l) => /RX descriptor 0 .* not readable .* RX ring halted/.test(l)).length, 1);
    assert.equal(b.nic.counters.rxMissed, 2);
    b.dma!.grant(b.drv.rxRing, b.drv.rxCount * DESC_SIZE, 'bidirectional');
    b.drv.write(A.RDBAL, b.drv.rxRing);
    a.drv.reclaimTx();
    a.drv.transmit(f);
    clock.runUntilIdle();
    assert.deepEqual(b.drv.poll(), [f]);
  });

  it('rejects descriptor addresses beyond 2^53 as decode errors', () => {
    const { a, clock, mem } = nicPair();
    const v = new DataView(mem.buffer, a.drv.txRing, 16);
    writeTxDesc(mem.bytes, a.drv.txRing, { addr: 0, length: 60, cmd: TXD_CMD.EOP | TXD_CMD.IFCS | TXD_CMD.RS });
    v.setUint32(4, 0xffffffff, true);
    a.drv.write(A.TDT, 1);
    clock.runUntilIdle();
    assert.match(a.logs.join('\n'), /decode-error\): frame dropped/);
  });
});

describe('e1000 register misuse', () => {
  it('logs ring lengths that are not multiples of 128 and misaligned bases', () => {
    const { a } = nicPair();
    a.drv.write(A.RDLEN, 1000);
    assert.equal(a.drv.read(A.RDLEN), 896);
    a.drv.write(A.TDBAL, a.drv.txRing + 8);
    assert.equal(a.drv.read(A.TDBAL), a.drv.txRing);
    assert.match(a.logs.join('\n'), /RDLEN 1000 is not a multiple of 128 below 1 MiB: stored as 896/);
    assert.match(a.logs.join('\n'), /TDBAL 0x[0-9a-f]+ is not 16-byte aligned/);
  });

  it('stops a ring whose tail points past its end until the tail is fixed', () => {
    const { a, b, clock, mem } = nicPair();
    const f = ethFrame({ dst: b.drv.mac, src: a.drv.mac });
    mem.bytes.set(f, a.drv.txBufs);
    writeTxDesc(mem.bytes, a.drv.txRing, { addr: a.drv.txBufs, length: 60, cmd: TXD_CMD.EOP | TXD_CMD.IFCS | TXD_CMD.RS });
    a.drv.write(A.TDT, 300);
    clock.runUntilIdle();
    assert.match(a.logs.join('\n'), /TDT 300 is beyond the ring \(256 descriptors\)/);
    assert.match(a.logs.join('\n'), /TX ring unusable: TDT 300 is beyond the ring/);
    assert.equal(a.drv.read(A.TDH), 0);
    a.drv.write(A.TDT, 1);
    clock.runUntilIdle();
    assert.deepEqual(b.drv.poll(), [f]);
  });

  it('logs unknown offsets and wrong access sizes, never throws', () => {
    const { a } = nicPair();
    const mmio = a.nic.regions[0]!;
    assert.equal(mmio.read(0x0004, 4), 0);
    mmio.write(0x1fffc, 4, 1);
    assert.equal(mmio.read(A.STATUS, 2), 0);
    mmio.write(A.IMS, 1, 0xff);
    assert.equal(a.drv.read(A.IMS) & 0xff, 0x9d, 'the byte write was ignored');
    const log = a.logs.join('\n');
    assert.match(log, /unhandled read at 0x4/);
    assert.match(log, /unhandled write at 0x1fffc/);
    assert.match(log, /read of STATUS at 0x8 with unsupported size 2/);
    assert.match(log, /write of IMS at 0xd0 with unsupported size 1/);
  });

  it('takes the last 4 bytes as the FCS when IFCS is clear, and logs it once', () => {
    const { a, b, clock } = nicPair();
    const f = ethFrame({ dst: b.drv.mac, src: a.drv.mac, size: 100 });
    a.drv.transmitChain([f], TXD_CMD.EOP | TXD_CMD.RS);
    a.drv.transmitChain([f], TXD_CMD.EOP | TXD_CMD.RS);
    clock.runUntilIdle();
    assert.deepEqual(b.drv.poll(), [f.subarray(0, 96), f.subarray(0, 96)]);
    assert.equal(a.logs.filter((l) => l.includes('without IFCS')).length, 1);
  });

  it('drops TX frames longer than 16384 bytes', () => {
    const { a, b, clock } = nicPair();
    const big = new Uint8Array(16400);
    a.drv.transmit(big);
    clock.runUntilIdle();
    assert.match(a.logs.join('\n'), /TX frame of 16400 bytes is longer than 16384: dropped/);
    assert.equal(a.drv.reclaimTx(), 1);
    assert.deepEqual(b.drv.poll(), []);
  });

  it('rejects bad params at construction', async () => {
    const { E1000 } = await import('./e1000.model.js');
    const { a } = nicPair();
    const base = { memory: a.nic.dma, scheduler: a.nic.sched, irq: a.irq };
    assert.throws(() => new E1000({ ...base, params: { mac: 'nope' } }), /not a MAC address/);
    assert.throws(() => new E1000({ ...base, params: { mac: '02:00:00:00:00:01', rate: '1x' as never } }), /line rate/);
    assert.throws(() => new E1000({ ...base, params: { mac: '02:00:00:00:00:01', rxBufferSize: -1 } }), /rxBufferSize/);
    assert.equal(B.CTRL.RST, 1 << 26);
  });
});
