/**
 * e1000 batching as a black box: a TX tail write is one bottom half for every descriptor up to
 * TDT, a burst crosses the wire in one delivery run, the receiver's line moves once per run, and
 * TXDW/RXT0 come out as if every frame had kicked its delay timer in turn. The descriptor rings'
 * grant check is cached only while the IOMMU grants stay the same.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DESC_SIZE, E1000_REGS, ICR, TXD_CMD } from './e1000.regs.js';
import { ethFrame, nicPair } from './e1000.testing.js';

const { offsets: A } = E1000_REGS;

describe('e1000 batching', () => {
  it('sends a TX burst in one bottom half and one wire event; the receiver raises its line once', () => {
    const { a, b, clock } = nicPair({ driver: { ims: ICR.RXT0 } });
    a.drv.read(A.ICR);
    b.drv.read(A.ICR);
    const edges = b.irq.raises;
    const frames = Array.from({ length: 100 }, (_, i) => ethFrame({ dst: b.drv.mac, src: a.drv.mac, size: 60 + i, seed: i }));
    assert.equal(a.drv.transmit(frames), 100);
    assert.equal(clock.runUntilIdle(), 2, 'the TX bottom half, then one delivery run');
    assert.equal(a.drv.read(A.TDH), 100);
    assert.equal(a.drv.reclaimTx(), 100);
    assert.equal(b.irq.raises - edges, 1);
    assert.equal(b.drv.read(A.ICR) & ICR.RXT0, ICR.RXT0);
    assert.deepEqual(b.drv.poll(200), frames);
    assert.equal(b.nic.counters.rxFrames, 100);
  });

  for (const [first, second, again] of [[0, TXD_CMD.IDE, true], [TXD_CMD.IDE, 0, false]] as const) {
    it(`TXDW of one bottom half: ${first ? 'IDE' : 'no IDE'} then ${second ? 'IDE' : 'no IDE'} ${again ? 'fires now and after TIDV' : 'fires now only'}`, () => {
      const { a, b, clock } = nicPair({ driver: { tidv: 8, ims: 0 } }); // 8.192 us
      a.drv.read(A.ICR);
      const f = ethFrame({ dst: b.drv.mac, src: a.drv.mac });
      const t0 = clock.now();
      const cmd = TXD_CMD.EOP | TXD_CMD.IFCS | TXD_CMD.RS;
      assert.ok(a.drv.transmitChain([f], cmd | first));
      assert.ok(a.drv.transmitChain([f], cmd | second));
      clock.runUntil(t0);
      assert.equal(a.drv.read(A.TDH), 2, 'both frames in one bottom half');
      assert.equal(a.drv.read(A.ICR) & ICR.TXDW, ICR.TXDW, 'a frame without IDE reports at once');
      clock.runUntil(t0 + 8192n);
      assert.equal((a.drv.read(A.ICR) & ICR.TXDW) !== 0, again);
    });
  }

  it('checks a descriptor ring again once its grant is revoked after use', () => {
    const { a, b, clock } = nicPair();
    const f = ethFrame({ dst: b.drv.mac, src: a.drv.mac });
    a.drv.transmit(f);
    clock.runUntilIdle();
    assert.deepEqual(b.drv.poll(), [f], 'rings in use, grant check cached');
    b.dma!.revoke(b.drv.rxRing);
    a.dma!.revoke(a.drv.txRing);
    a.dma!.grant(a.drv.txRing, a.drv.txCount * DESC_SIZE, 'to-device');
    a.drv.reclaimTx();
    a.drv.transmit(f);
    clock.runUntilIdle();
    assert.match(a.logs.join('\n'), /TX descriptor 1: status write-back .* failed \(access-denied\): TX ring halted/);
    assert.match(b.logs.join('\n'), /RX descriptor 1 at 0x[0-9a-f]+ is not readable \(access-denied\): RX ring halted/);
    assert.equal(b.nic.counters.rxMissed, 1);
  });
});
