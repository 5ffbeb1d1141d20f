/**
 * e1000 as a black box (qtest style): MMIO, DMA memory laid out as a driver would, the IRQ line
 * and virtual time. Bring-up, traffic between two NICs, multi-descriptor frames, statistics,
 * EEPROM and PHY side bands.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../core/clock.js';
import { IrqLine } from '../core/irq.js';
import { PhysicalMemory } from '../core/phys-mem.js';
import { Scheduler } from '../core/scheduler.js';
import { E1000 } from './e1000.model.js';
import {
  DESC_SIZE, E1000_REGS, EEPROM, ICR, IMS_ENABLE_MASK, MDIC_OP_READ, MDIC_OP_WRITE, MTA, PHY_BMSR_LINK, PHY_REG, RAH, RAL, readRxDesc,
  RXD_STAT, TXD_CMD, TXD_STAT, TX_DESC, writeRxDesc, writeTxDesc,
} from './e1000.regs.js';
import { BROADCAST, ethFrame, nicPair } from './e1000.testing.js';
import { HostEndpoint, Wire } from './wire.js';

const { offsets: A, bits: B } = E1000_REGS;

describe('e1000 bring-up (Linux e1000_open order)', () => {
  it('resets, programs addresses and rings, enables RX/TX and interrupts, and answers ICS = LSC', () => {
    const clock = new VirtualClock();
    const sched = new Scheduler(clock);
    const mem = new PhysicalMemory({ size: 4 << 20, backing: 'heap' });
    const irq = new IrqLine('eth0');
    const logs: string[] = [];
    const nic = new E1000({ memory: mem, scheduler: sched, irq, log: (m) => logs.push(m), params: { mac: '52:54:00:12:34:56' } });
    nic.realize();
    const wire = new Wire({ scheduler: sched });
    nic.attach(wire.a);
    const host = new HostEndpoint(wire.b, { scheduler: sched });
    const mmio = nic.regions[0]!;
    const rd = (o: number) => mmio.read(o, 4), wr = (o: number, v: number) => mmio.write(o, 4, v >>> 0);

    assert.equal(mmio.size, 0x20000);
    // Reset: self-clearing, the MAC reappears in RAL0/RAH0 (as loaded from the EEPROM).
    wr(A.CTRL, rd(A.CTRL) | B.CTRL.RST);
    assert.equal(rd(A.CTRL) & B.CTRL.RST, 0);
    assert.equal(rd(RAL(0)), 0x12005452);
    assert.equal(rd(RAH(0)), (0x5634 | B.RAH0.AV) >>> 0);
    assert.equal(rd(A.STATUS) & (B.STATUS.LU | B.STATUS.FD), B.STATUS.LU | B.STATUS.FD, 'link up, full duplex');
    assert.equal(E1000_REGS.get(rd(A.STATUS), 'STATUS', 'SPEED'), 2, '1000 Mb/s');
    wr(A.IMC, 0xffffffff);
    rd(A.ICR);
    for (let i = 0; i < 128; i++) wr(MTA(i), 0);
    // Rings: 8 descriptors each, 2048-byte buffers.
    const rxRing = mem.alloc(128)!.addr, txRing = mem.alloc(128)!.addr, bufs = mem.alloc(16 * 2048)!.addr;
    wr(A.TDLEN, 128); wr(A.TDBAH, 0); wr(A.TDBAL, txRing); wr(A.TDH, 0); wr(A.TDT, 0);
    wr(A.TCTL, B.TCTL.EN | B.TCTL.PSP);
    wr(A.RCTL, B.RCTL.BAM);
    wr(A.RDLEN, 128); wr(A.RDBAH, 0); wr(A.RDBAL, rxRing); wr(A.RDH, 0); wr(A.RDT, 0);
    wr(A.RCTL, B.RCTL.BAM | B.RCTL.EN);
    for (let i = 0; i < 8; i++) writeRxDesc(mem.bytes, rxRing + i * 16, bufs + i * 2048);
    wr(A.RDT, 7);
    wr(A.IMS, IMS_ENABLE_MASK);
    assert.equal(rd(A.IMS), IMS_ENABLE_MASK);
    assert.equal(irq.level, false);
    wr(A.ICS, ICR.LSC);
    assert.equal(irq.level, true, 'ICS = LSC raises the line at once');
    assert.equal(rd(A.ICR), ICR.LSC);
    assert.equal(irq.level, false, 'reading ICR cleared it');

    // A frame from the host lands in descriptor 0 with its FCS; the line rises with RXT0.
    const f = ethFrame({ dst: '52:54:00:12:34:56', src: '02:00:00:00:00:01', size: 100 });
    host.send(f);
    assert.equal(readRxDesc(mem.bytes, rxRing).status, 0, 'nothing happens inside send()');
    clock.runUntilIdle();
    const d = readRxDesc(mem.bytes, rxRing);
    assert.equal(d.status, RXD_STAT.DD | RXD_STAT.EOP);
    assert.equal(d.length, 104, 'length includes the 4-byte FCS (SECRC clear)');
    assert.deepEqual(mem.bytes.slice(bufs, bufs + 100), f);
    assert.equal(rd(A.RDH), 1);
    assert.equal(irq.level, true);
    assert.equal(rd(A.ICR) & ICR.RXT0, ICR.RXT0);

    // TX: one descriptor; the TDT write only schedules.
    const out = ethFrame({ dst: BROADCAST, src: '52:54:00:12:34:56', size: 42 });
    mem.bytes.set(out, bufs + 8 * 2048);
    writeTxDesc(mem.bytes, txRing, { addr: bufs + 8 * 2048, length: 42, cmd: TXD_CMD.EOP | TXD_CMD.IFCS | TXD_CMD.RS });
    wr(A.TDT, 1);
    assert.equal(rd(A.TDH), 0, 'TDT write does not transmit inside the access');
    assert.equal(host.received.length, 0);
    clock.runUntilIdle();
    assert.equal(rd(A.TDH), 1);
    assert.equal(mem.bytes[txRing + TX_DESC.STATUS]! & TXD_STAT.DD, TXD_STAT.DD);
    const got = host.take();
    assert.equal(got.length, 1);
    assert.equal(got[0]!.frame.length, 60, 'PSP padded the short frame to 60 bytes');
    assert.deepEqual(got[0]!.frame.subarray(0, 42), out);
    assert.equal(rd(A.ICR) & (ICR.TXDW | ICR.TXQE), ICR.TXDW | ICR.TXQE);
    assert.deepEqual(logs, []);
  });
});

describe('e1000 pair on a wire', () => {
  for (const size of [60, 64, 1514, 1518]) {
    it(`exchanges ${size}-byte frames both ways, byte for byte`, () => {
      const { clock, a, b } = nicPair();
      const ab = [0, 1, 2].map((seed) => ethFrame({ dst: b.drv.mac, src: a.drv.mac, size, seed }));
      const ba = [3, 4].map((seed) => ethFrame({ dst: a.drv.mac, src: b.drv.mac, size, seed }));
      assert.equal(a.drv.transmit(ab), 3);
      assert.equal(b.drv.transmit(ba), 2);
      clock.runUntilIdle();
      assert.equal(a.drv.reclaimTx(), 3);
      assert.equal(b.drv.reclaimTx(), 2);
      assert.deepEqual(b.drv.poll(), ab);
      assert.deepEqual(a.drv.poll(), ba);
      assert.deepEqual([...a.logs, ...b.logs], []);
    });
  }

  it('sends a frame spread over several TX descriptors (until EOP)', () => {
    const { clock, a, b } = nicPair();
    const f = ethFrame({ dst: b.drv.mac, src: a.drv.mac, size: 1000, seed: 9 });
    assert.ok(a.drv.transmitChain([f.subarray(0, 14), f.subarray(14, 500), f.subarray(500, 501), f.subarray(501)]));
    clock.runUntilIdle();
    assert.deepEqual(b.drv.poll(), [f]);
    assert.equal(a.drv.reclaimTx(), 1);
    assert.equal(a.nic.regs.value('TDH'), 4);
  });

  it('splits a frame longer than the RX buffer across descriptors (EOP on the last)', () => {
    const { clock, a, b } = nicPair({ driver: { bufSize: 256 } });
    const f = ethFrame({ dst: b.drv.mac, src: a.drv.mac, size: 1514 });
    a.drv.transmit(f);
    clock.runUntilIdle();
    const ring = b.drv.rxRing;
    const descs = Array.from({ length: 6 }, (_, i) => readRxDesc(b.nic.dma.mem.bytes, ring + i * DESC_SIZE));
    assert.deepEqual(descs.map((d) => d.length), [256, 256, 256, 256, 256, 238]);
    assert.deepEqual(descs.map((d) => d.status), [1, 1, 1, 1, 1, 3]);
    assert.deepEqual(b.drv.poll(), [f]);
  });

  it('runs a NAPI-style loop: mask in the handler, clean, unmask', () => {
    const { clock, a, b } = nicPair();
    const frames = Array.from({ length: 100 }, (_, i) => ethFrame({ dst: b.drv.mac, src: a.drv.mac, size: 64 + i, seed: i }));
    a.drv.transmit(frames);
    clock.runUntilIdle();
    assert.equal(b.irq.level, true);
    const got: Uint8Array[] = [];
    while (b.irq.level) {
      const r = b.drv.napi(64);
      got.push(...r.frames);
      if (r.frames.length === 64) {
        assert.equal(b.irq.level, false, 'masked while over budget');
        got.push(...b.drv.poll(64));
        b.drv.write(A.IMS, IMS_ENABLE_MASK);
      }
      clock.runUntilIdle();
    }
    assert.deepEqual(got, frames);
  });

  it('counts traffic in read-to-clear statistics registers', () => {
    const { clock, a, b } = nicPair();
    a.drv.readStats();
    b.drv.readStats();
    a.drv.transmit([ethFrame({ dst: b.drv.mac, src: a.drv.mac, size: 60 }), ethFrame({ dst: BROADCAST, src: a.drv.mac, size: 1514 })]);
    clock.runUntilIdle();
    const tx = a.drv.readStats(), rx = b.drv.readStats();
    assert.equal(tx.GPTC, 2);
    assert.equal(tx.TPT, 2);
    assert.equal(tx.GOTCL, 64 + 1518);
    assert.equal(tx.PTC64, 1);
    assert.equal(tx.PTC1522, 1);
    assert.equal(tx.BPTC, 1);
    assert.equal(rx.GPRC, 2);
    assert.equal(rx.GORCL, 64 + 1518);
    assert.equal(rx.BPRC, 1);
    assert.equal(rx.PRC64, 1);
    assert.equal(a.drv.readStats().GPTC, 0, 'cleared by the read');
    assert.equal(b.nic.counters.rxFrames, 2);
    // 64-bit octet counters carry into the high half, whichever half is read first.
    b.nic.count64(E1000_REGS.reg('GORCL').index, 2 ** 32 + 5);
    assert.equal(b.drv.read(A.GORCH), 1);
    assert.equal(b.drv.read(A.GORCL), 5);
    assert.equal(b.drv.read(A.GORCL), 0);
  });
});

describe('e1000 side bands', () => {
  it('reads the MAC and a valid checksum from the EEPROM through EERD', () => {
    const { a } = nicPair();
    const words: number[] = [];
    for (let addr = 0; addr < EEPROM.WORDS; addr++) {
      a.drv.write(A.EERD, (addr << 8) | B.EERD.START);
      const v = a.drv.read(A.EERD);
      assert.ok(v & B.EERD.DONE);
      words.push(v >>> 16);
    }
    assert.deepEqual(words.slice(0, 3), [0x5452, 0x0000, 0x0a00]);
    assert.equal(words.reduce((s, w) => (s + w) & 0xffff, 0), EEPROM.CHECKSUM_SUM);
  });

  it('answers MDIC for PHY 1 with link state, and errors for other PHY addresses', () => {
    const { a, clock, wire } = nicPair();
    const mdic = (phy: number, reg: number, op: number, data = 0) => {
      a.drv.write(A.MDIC, op | (phy << 21) | (reg << 16) | data);
      return a.drv.read(A.MDIC);
    };
    const v = mdic(1, PHY_REG.BMSR, MDIC_OP_READ);
    assert.ok(v & B.MDIC.READY);
    assert.equal(v & B.MDIC.ERROR, 0);
    assert.ok(v & PHY_BMSR_LINK);
    assert.equal(mdic(1, PHY_REG.ID1, MDIC_OP_READ) & 0xffff, 0x0141);
    mdic(1, PHY_REG.ANAR, MDIC_OP_WRITE, 0x0de1);
    assert.equal(mdic(1, PHY_REG.ANAR, MDIC_OP_READ) & 0xffff, 0x0de1);
    assert.ok(mdic(2, PHY_REG.BMSR, MDIC_OP_READ) & B.MDIC.ERROR);
    wire.setConnected(false);
    clock.runUntilIdle();
    assert.equal(mdic(1, PHY_REG.BMSR, MDIC_OP_READ) & PHY_BMSR_LINK, 0);
    assert.equal(a.logs.filter((l) => l.includes('MDIC')).length, 1);
  });
});
