/**
 * e1000 interrupts as a black box: ICR read-to-clear and write-1-to-clear, ICS, IMS/IMC, link
 * changes (LSC), ITR throttling, RDTR/RADV and TIDV/TADV delays, RXDMT0.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { E1000_REGS, ICR, IMS_ENABLE_MASK } from './e1000.regs.js';
import { ethFrame, nicPair, rigNic, type Rig } from './e1000.testing.js';
import { HostEndpoint, Wire } from './wire.js';
import { VirtualClock } from '../core/clock.js';
import { Scheduler } from '../core/scheduler.js';
import { PhysicalMemory } from '../core/phys-mem.js';

const { offsets: A, bits: B } = E1000_REGS;

/** One NIC (eth0) with a host endpoint on the other end of the wire. */
function withHost(driver: Parameters<typeof rigNic>[5] = {}) {
  const clock = new VirtualClock();
  const sched = new Scheduler(clock);
  const mem = new PhysicalMemory({ size: 8 << 20, backing: 'heap' });
  const wire = new Wire({ scheduler: sched });
  const n = rigNic(sched, mem, wire.a, 'eth0', '52:54:00:00:00:0a', driver);
  const host = new HostEndpoint(wire.b, { scheduler: sched });
  clock.runUntilIdle();
  n.drv.read(A.ICR);
  const toNic = (seed = 0, size = 60) => host.send(ethFrame({ dst: n.drv.mac, src: '02:00:00:00:00:01', size, seed }));
  return { clock, sched, wire, host, toNic, ...n };
}

describe('e1000 interrupt registers', () => {
  it('ICR clears on read, and where 1s are written; ICS sets causes', () => {
    const { a } = nicPair();
    const d = a.drv;
    d.read(A.ICR);
    d.write(A.IMC, 0xffffffff);
    d.write(A.ICS, ICR.TXDW | ICR.RXO | ICR.LSC);
    assert.equal(a.irq.level, false, 'all causes masked');
    d.write(A.ICR, ICR.RXO);
    assert.equal(d.read(A.ICR), ICR.TXDW | ICR.LSC);
    assert.equal(d.read(A.ICR), 0, 'the read cleared it');
    assert.equal(d.read(A.ICS), 0, 'ICS is write-only');
  });

  it('drives the line from (ICR & IMS); IMS sets and IMC clears mask bits', () => {
    const { a } = nicPair();
    const d = a.drv;
    d.read(A.ICR);
    d.write(A.IMC, 0xffffffff);
    assert.equal(d.read(A.IMS), 0);
    d.write(A.ICS, ICR.RXT0);
    assert.equal(a.irq.level, false);
    d.write(A.IMS, ICR.RXT0);
    assert.equal(a.irq.level, true, 'unmasking a pending cause raises the line');
    d.write(A.IMS, ICR.LSC);
    assert.equal(d.read(A.IMS), ICR.RXT0 | ICR.LSC, 'IMS accumulates');
    d.write(A.IMC, ICR.RXT0);
    assert.equal(a.irq.level, false);
    assert.equal(d.read(A.IMS), ICR.LSC);
    d.write(A.IMS, ICR.RXT0);
    assert.equal(d.read(A.ICR), ICR.RXT0);
    assert.equal(a.irq.level, false);
  });

  it('raises LSC when the cable is pulled or plugged, and when CTRL.SLU changes', () => {
    const { a, b, wire, clock } = nicPair();
    a.drv.read(A.ICR);
    b.drv.read(A.ICR);
    wire.setConnected(false);
    assert.equal(a.drv.read(A.STATUS) & B.STATUS.LU, B.STATUS.LU, 'link changes arrive through the scheduler');
    clock.runUntilIdle();
    for (const n of [a, b]) {
      assert.equal(n.drv.read(A.STATUS) & B.STATUS.LU, 0);
      assert.equal(n.irq.level, true);
      assert.equal(n.drv.read(A.ICR), ICR.LSC);
    }
    wire.setConnected(true);
    clock.runUntilIdle();
    assert.equal(a.drv.read(A.STATUS) & B.STATUS.LU, B.STATUS.LU);
    assert.equal(a.drv.read(A.ICR), ICR.LSC);
    a.drv.write(A.CTRL, a.drv.read(A.CTRL) & ~B.CTRL.SLU);
    assert.equal(a.drv.read(A.STATUS) & B.STATUS.LU, 0);
    assert.equal(a.drv.read(A.ICR), ICR.LSC);
  });

  it('drops frames while the link is down and counts nothing as received', () => {
    const { a, b, wire, clock } = nicPair();
    wire.setConnected(false);
    clock.runUntilIdle();
    a.drv.transmit(ethFrame({ dst: b.drv.mac, src: a.drv.mac }));
    clock.runUntilIdle();
    assert.equal(a.drv.reclaimTx(), 1, 'descriptors complete; the frame is lost');
    assert.equal(a.nic.counters.txDropped, 1);
    assert.deepEqual(b.drv.poll(), []);
  });
});

describe('e1000 interrupt moderation', () => {
  /** A driver that acknowledges (reads ICR) shortly after each rising edge; returns the edge times. */
  function acknowledging(r: ReturnType<typeof withHost>): bigint[] {
    const rises: bigint[] = [];
    r.irq.onChange((up) => {
      if (!up) return;
      rises.push(r.sched.now());
      r.sched.after(100, () => { r.drv.read(A.ICR); r.drv.poll(); });
    });
    return rises;
  }

  it('without ITR, every frame raises the line', () => {
    const r = withHost();
    const rises = acknowledging(r);
    for (let i = 0; i < 10; i++) r.sched.at(i * 1000, () => r.toNic(i));
    r.clock.runUntilIdle();
    assert.equal(rises.length, 10);
  });

  it('ITR keeps rising edges at least ITR x 256 ns apart', () => {
    const r = withHost({ driver: { itr: 100 } }); // 25.6 us
    const rises = acknowledging(r);
    for (let i = 0; i < 100; i++) r.sched.at(1_000_000 + i * 1000, () => r.toNic(i)); // 1 frame/us for 100 us
    r.clock.runUntilIdle();
    assert.equal(rises[0], 1_000_000n, 'the first edge is not delayed');
    for (let i = 1; i < rises.length; i++) assert.ok(rises[i]! - rises[i - 1]! >= 25_600n, `edge ${i} too early`);
    assert.ok(rises.length >= 4 && rises.length <= 5, `${rises.length} edges in 100 us`);
    assert.equal(r.nic.counters.rxFrames, 100);
  });

  it('RDTR delays RXT0 and restarts with every frame; RADV caps the delay', () => {
    const r = withHost({ driver: { rdtr: 10, radv: 30 } }); // 10.24 us packet, 30.72 us absolute
    const rises = acknowledging(r);
    r.sched.at(0, () => r.toNic(0));
    r.clock.runUntil(10_239);
    assert.equal(r.irq.level, false);
    r.clock.runUntil(10_240);
    assert.deepEqual(rises, [10_240n]);
    // A frame every 5 us keeps restarting the packet timer: the absolute timer fires at +30.72 us.
    const t0 = 100_000;
    for (let i = 0; i < 20; i++) r.sched.at(t0 + i * 5000, () => r.toNic(i));
    r.clock.runUntilIdle();
    assert.equal(rises[1], BigInt(t0 + 30_720));
  });

  it('TIDV delays TXDW for descriptors with IDE', () => {
    const { a, b, clock } = nicPair({ driver: { tidv: 8, ims: ICR.TXDW } });
    a.drv.read(A.ICR);
    const t0 = clock.now();
    a.drv.transmit(ethFrame({ dst: b.drv.mac, src: a.drv.mac }));
    clock.runUntil(t0 + 8191n);
    assert.equal(a.drv.read(A.TDH), 1, 'the frame went out');
    assert.equal(a.irq.level, false);
    clock.runUntil(t0 + 8192n);
    assert.equal(a.irq.level, true);
    assert.equal(a.drv.read(A.ICR) & ICR.TXDW, ICR.TXDW);
  });

  it('raises RXDMT0 when free descriptors fall to the RDMTS threshold', () => {
    const r = withHost({ driver: { rxCount: 16, ims: ICR.RXDMT0 } }); // 15 handed over; threshold 16 >> 1 = 8
    for (let i = 0; i < 6; i++) r.toNic(i);
    r.clock.runUntilIdle();
    assert.equal(r.irq.level, false, '9 free');
    r.toNic(7);
    r.clock.runUntilIdle();
    assert.equal(r.irq.level, true, '8 free');
    assert.equal(r.drv.read(A.ICR) & ICR.RXDMT0, ICR.RXDMT0);
  });

  it('unrealize lowers the line and stops timers', () => {
    const { a }: Rig = nicPair();
    a.drv.write(A.IMS, IMS_ENABLE_MASK);
    a.drv.write(A.ICS, ICR.LSC);
    assert.equal(a.irq.level, true);
    a.nic.unrealize();
    assert.equal(a.irq.level, false);
  });
});
