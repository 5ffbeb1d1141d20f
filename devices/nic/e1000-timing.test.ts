/**
 * e1000 line-rate pacing (hardware-models.md §2.6): a frame leaves — and its descriptor is
 * written back — when its last bit is serialised: (max(len, 60) + FCS + preamble + IFG) x 8
 * bit times. 64-byte frames at 1 GbE: 672 ns apart; 1518-byte frames: 12.304 us apart.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../core/clock.js';
import { PhysicalMemory } from '../core/phys-mem.js';
import { Scheduler } from '../core/scheduler.js';
import { E1000_REGS, TXD_STAT, TX_DESC } from './e1000.regs.js';
import { ethFrame, nicPair, pump, rigNic } from './e1000.testing.js';
import { HostEndpoint, Wire, type LineRate } from './wire.js';

const { offsets: A } = E1000_REGS;

function paced(rate: LineRate) {
  const clock = new VirtualClock();
  const sched = new Scheduler(clock);
  const mem = new PhysicalMemory({ size: 8 << 20, backing: 'heap' });
  const wire = new Wire({ scheduler: sched });
  const n = rigNic(sched, mem, wire.a, 'eth0', '52:54:00:00:00:0a', { params: { rate } });
  const host = new HostEndpoint(wire.b, { scheduler: sched });
  clock.runUntilIdle();
  return { clock, mem, host, ...n };
}

describe('e1000 TX line rate', () => {
  for (const [size, gap] of [[60, 672n], [1514, 12_304n]] as const) {
    it(`spaces ${size + 4}-byte frames ${gap} ns apart at 1 GbE`, () => {
      const r = paced('1g');
      const t0 = r.clock.now();
      const frames = Array.from({ length: 5 }, (_, i) => ethFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: r.drv.mac, size, seed: i }));
      r.drv.transmit(frames);
      r.clock.runUntil(t0 + gap - 1n);
      assert.equal(r.drv.read(A.TDH), 0, 'still on the wire');
      assert.equal(r.mem.bytes[r.drv.txRing + TX_DESC.STATUS]! & TXD_STAT.DD, 0);
      r.clock.runUntilIdle();
      const got = r.host.take();
      assert.deepEqual(got.map((g) => g.tNs - t0), [1n, 2n, 3n, 4n, 5n].map((k) => k * gap));
      assert.deepEqual(got.map((g) => g.frame), frames);
      assert.equal(r.drv.reclaimTx(), 5);
    });
  }

  it('reports the speed in STATUS and takes 12.304 ms for 1000 full-size frames at 1 GbE', () => {
    assert.equal(E1000_REGS.get(paced('100m').drv.read(A.STATUS), 'STATUS', 'SPEED'), 1);
    const { a, b, clock } = nicPair({ params: { rate: 1e9 } });
    const t0 = clock.now();
    const frames = Array.from({ length: 1000 }, (_, i) => ethFrame({ dst: b.drv.mac, src: a.drv.mac, size: 1514, seed: i }));
    const got = pump(a.drv, b.drv, frames, () => clock.runUntilIdle());
    assert.equal(got.length, 1000);
    assert.deepEqual(got[999], frames[999]);
    assert.equal(clock.now() - t0, 12_304_000n, 'batches follow each other back to back');
  });

  it('sends back to back without pacing when the rate is unlimited', () => {
    const r = paced('unlimited');
    const t0 = r.clock.now();
    r.drv.transmit(Array.from({ length: 3 }, (_, i) => ethFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: r.drv.mac, seed: i })));
    r.clock.runUntilIdle();
    assert.deepEqual(r.host.take().map((g) => g.tNs - t0), [0n, 0n, 0n]);
  });
});
