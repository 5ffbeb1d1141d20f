/**
 * e1000 receive path as a black box: address filtering (broadcast, unicast, RA entries, MTA
 * hash, promiscuous modes), padding and FCS, size limits, overrun without buffers, the FIFO.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { VirtualClock } from '../core/clock.js';
import { PhysicalMemory } from '../core/phys-mem.js';
import { Scheduler } from '../core/scheduler.js';
import { DESC_SIZE, E1000_REGS, ICR, macToRa, RAH, RAL, readRxDesc } from './e1000.regs.js';
import { BROADCAST, ethFrame, rigNic, type RigOptions } from './e1000.testing.js';
import { HostEndpoint, Wire } from './wire.js';

const { offsets: A, bits: B } = E1000_REGS;
const ME = '52:54:00:00:00:0a', HOST = '02:00:00:00:00:01';

function rx(opts: RigOptions = {}) {
  const clock = new VirtualClock();
  const sched = new Scheduler(clock);
  const mem = new PhysicalMemory({ size: 8 << 20, backing: 'heap' });
  const wire = new Wire({ scheduler: sched });
  const n = rigNic(sched, mem, wire.a, 'eth0', ME, opts);
  const host = new HostEndpoint(wire.b, { scheduler: sched });
  clock.runUntilIdle();
  n.drv.read(A.ICR);
  /** Sends frames from the host and returns what the driver then finds in the ring. */
  const deliver = (...frames: Uint8Array[]): Uint8Array[] => {
    for (const f of frames) host.send(f);
    clock.runUntilIdle();
    return n.drv.poll(1000);
  };
  return { clock, mem, host, deliver, ...n };
}

const to = (dst: string, size = 60, seed = 0) => ethFrame({ dst, src: HOST, size, seed });

describe('e1000 RX address filter', () => {
  it('accepts broadcast only with RCTL.BAM (or MPE)', () => {
    const r = rx();
    assert.equal(r.deliver(to(BROADCAST)).length, 1);
    r.drv.setRctl(0, B.RCTL.BAM);
    assert.equal(r.deliver(to(BROADCAST)).length, 0);
    r.drv.setRctl(B.RCTL.MPE);
    assert.equal(r.deliver(to(BROADCAST)).length, 1);
    assert.equal(r.nic.counters.rxFiltered, 1);
  });

  it('accepts unicast for a valid RA entry, any unicast with UPE', () => {
    const r = rx();
    const other = '52:54:00:00:00:99';
    assert.equal(r.deliver(to(ME)).length, 1);
    assert.equal(r.deliver(to(other)).length, 0);
    const { ral, rah } = macToRa(other);
    r.drv.write(RAL(3), ral);
    r.drv.write(RAH(3), rah & ~B.RAH0.AV);
    assert.equal(r.deliver(to(other)).length, 0, 'RA entry without AV is ignored');
    r.drv.write(RAH(3), rah);
    assert.equal(r.deliver(to(other)).length, 1);
    assert.equal(r.deliver(to('52:54:00:00:00:98')).length, 0);
    r.drv.setRctl(B.RCTL.UPE);
    assert.equal(r.deliver(to('52:54:00:00:00:98')).length, 1);
  });

  it('accepts multicast through the MTA hash (per RCTL.MO), any multicast with MPE', () => {
    const r = rx();
    const group = '01:00:5e:00:00:fb', other = '01:00:5e:7f:12:34';
    assert.equal(r.deliver(to(group)).length, 0);
    r.drv.addMulticast(group);
    assert.equal(r.deliver(to(group)).length, 1);
    assert.equal(r.deliver(to(other)).length, 0);
    r.drv.setRctl(1 << 12); // MO = 1: different hash bits, so the table must be rebuilt
    assert.equal(r.deliver(to(group)).length, 0);
    r.drv.addMulticast(group);
    assert.equal(r.deliver(to(group)).length, 1);
    r.drv.setRctl(B.RCTL.MPE);
    assert.equal(r.deliver(to(other)).length, 1);
    assert.equal(r.drv.readStats().MPRC, 3);
  });

  it('drops everything while RCTL.EN is clear', () => {
    const r = rx();
    r.drv.setRctl(0, B.RCTL.EN);
    assert.equal(r.deliver(to(ME), to(BROADCAST)).length, 0);
    assert.equal(r.drv.read(A.RDH), 0);
  });
});

describe('e1000 RX frames', () => {
  it('pads short frames to 60 bytes and appends the Ethernet FCS', () => {
    const r = rx();
    const f = to(ME, 42, 5);
    r.host.send(f);
    r.clock.runUntilIdle();
    const d = readRxDesc(r.mem.bytes, r.drv.rxRing);
    assert.equal(d.length, 64);
    const buf = r.mem.bytes.slice(d.addr, d.addr + 64);
    const padded = new Uint8Array(60);
    padded.set(f);
    assert.deepEqual(buf.subarray(0, 60), padded);
    assert.equal(new DataView(buf.buffer).getUint32(60, true), crc32(padded));
  });

  it('strips the FCS with RCTL.SECRC', () => {
    const r = rx({ driver: { rctl: B.RCTL.SECRC } });
    r.host.send(to(ME, 100));
    r.clock.runUntilIdle();
    assert.equal(readRxDesc(r.mem.bytes, r.drv.rxRing).length, 100);
    assert.deepEqual(r.drv.poll(), [to(ME, 100)]);
  });

  it('drops frames over 1522 bytes (with FCS) unless RCTL.LPE', () => {
    const r = rx();
    assert.equal(r.deliver(to(ME, 1518)).length, 1, '1518 + FCS = 1522 is the limit');
    assert.equal(r.deliver(to(ME, 1519)).length, 0);
    assert.equal(r.drv.readStats().ROC, 1);
    r.drv.setRctl(B.RCTL.LPE);
    assert.deepEqual(r.deliver(to(ME, 1519)), [to(ME, 1519)]);
  });

  it('accepts jumbo frames with LPE across 2048-byte buffers', () => {
    const r = rx({ driver: { rctl: B.RCTL.LPE } });
    const f = to(ME, 9000, 3);
    assert.deepEqual(r.deliver(f), [f]);
    assert.equal(r.drv.read(A.RDH), 5, '9004 bytes need 5 descriptors');
  });
});

describe('e1000 RX without buffers', () => {
  it('drops frames when RDH == RDT: RXO, MPC and RNBC; later frames get refilled buffers', () => {
    const r = rx({ driver: { rxCount: 8, ims: ICR.RXO } });
    for (let i = 0; i < 10; i++) r.host.send(to(ME, 60, i));
    r.clock.runUntilIdle();
    assert.equal(r.drv.read(A.RDH), 7, '7 descriptors were handed over');
    assert.equal(r.irq.level, true);
    assert.equal(r.drv.read(A.ICR) & ICR.RXO, ICR.RXO);
    const stats = r.drv.readStats();
    assert.equal(stats.MPC, 3);
    assert.equal(stats.RNBC, 3);
    assert.equal(stats.GPRC, 7);
    assert.equal(r.nic.counters.rxMissed, 3);
    assert.deepEqual(r.drv.poll(), [0, 1, 2, 3, 4, 5, 6].map((i) => to(ME, 60, i)));
    assert.deepEqual(r.deliver(to(ME, 60, 42)), [to(ME, 60, 42)]);
  });

  it('keeps frames in the on-chip FIFO (params.rxBufferSize) until RDT moves', () => {
    const r = rx({ driver: { rxCount: 8 }, params: { rxBufferSize: 4 * 1514 } });
    const frames = Array.from({ length: 12 }, (_, i) => to(ME, 1514, i));
    for (const f of frames) r.host.send(f);
    r.clock.runUntilIdle();
    assert.equal(r.drv.readStats().MPC, 1, '7 in descriptors, 4 in the FIFO, 1 dropped');
    const got = r.drv.poll();
    assert.equal(got.length, 7);
    r.clock.runUntilIdle(); // the RDT write drains the FIFO in a bottom half
    got.push(...r.drv.poll());
    assert.deepEqual(got, frames.slice(0, 11));
  });

  it('treats an unusable ring (RDLEN 0) as no buffers, logged once', () => {
    const r = rx({ raw: true });
    r.drv.write(A.RCTL, B.RCTL.EN | B.RCTL.BAM);
    r.host.send(to(BROADCAST));
    r.host.send(to(BROADCAST));
    r.clock.runUntilIdle();
    assert.equal(r.nic.counters.rxMissed, 2);
    assert.equal(r.logs.filter((l) => l.includes('RDLEN is 0')).length, 1);
  });

  it('writes descriptors at 16-byte strides from RDBAL', () => {
    const r = rx();
    r.deliver(to(ME), to(ME));
    const second = readRxDesc(r.mem.bytes, r.drv.rxRing + DESC_SIZE);
    assert.equal(second.status, 0, 'cleaned by the driver');
    assert.equal(r.drv.read(A.RDH), 2);
  });
});
