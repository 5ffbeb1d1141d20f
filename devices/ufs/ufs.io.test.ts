/**
 * UFS data path, black box: READ/WRITE through multi-entry PRDTs, durability over a backing
 * file, UNMAP, several LUs, the programmed UCD layout, queueing, timing and aggregation.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OCS, SCSI_OP, SCSI_STATUS, UFS_INTR, UFS_REGS, UPIU_FLAGS, UTP_DD } from './ufs.regs.js';
import { cdb10, cdb16, cdb6, createUfsRig, UfsTestDriver } from './ufs.testing.js';
import { buildCommandUpiu, buildNopOut, decodeCommandResponse } from './ufs.upiu.js';
import { MemoryStorage } from './ufs.storage.js';
import { UfsHostController } from './ufs.model.js';
import { UFS31_TIMING } from './ufs.timing.js';
import { PhysicalMemory } from '../core/phys-mem.js';
import { Scheduler } from '../core/scheduler.js';
import { RealClock } from '../core/clock.js';
import { IrqLine } from '../core/irq.js';

const pattern = (len: number, seed: number): Uint8Array => Uint8Array.from({ length: len }, (_, i) => (i * 31 + seed * 7 + (i >> 12)) & 0xff);

let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'hmdrv-ufs-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

describe('UFS data path', () => {
  it('writes and reads back through multi-entry PRDTs (READ/WRITE 10 and 16)', async () => {
    const { driver } = createUfsRig({ luns: [{ sizeBytes: 16 << 20 }] });
    await driver.bringUp();
    const data = pattern(5 * 4096, 1);
    const w = await driver.writeBlocks(0, 100, data, { segments: 7 });
    assert.equal(w.ocs, OCS.SUCCESS);
    assert.equal(w.rsp.status, SCSI_STATUS.GOOD);
    assert.equal(w.rsp.flags, 0);
    assert.equal(w.rsp.residual, 0);
    const r = await driver.readBlocks(0, 100, 5, { segments: 3 });
    assert.equal(r.ocs, OCS.SUCCESS);
    assert.deepEqual(r.data, data);
    const r16 = await driver.readBlocks(0, 101, 2, { segments: 5, sixteen: true });
    assert.deepEqual(r16.data, data.subarray(4096, 3 * 4096));
    const w16 = await driver.writeBlocks(0, 4095, pattern(4096, 2), { sixteen: true });
    assert.equal(w16.rsp.status, SCSI_STATUS.GOOD);
    assert.deepEqual((await driver.readBlocks(0, 4095, 1)).data, pattern(4096, 2));
    assert.deepEqual((await driver.readBlocks(0, 0, 1)).data, new Uint8Array(4096), 'never written: zeros');
  });

  it('honours the RUO / RUL / PRDTO the driver programmed (not Linux\'s layout)', async () => {
    const layout = { ruo: 64, rul: 96, prdto: 160, maxPrdt: 8 };
    const { driver, mem } = createUfsRig({ luns: [{ sizeBytes: 1 << 20 }] }, { layout });
    await driver.bringUp();
    await driver.writeBlocks(0, 3, pattern(8192, 3), { segments: 4 });
    const r = await driver.readBlocks(0, 3, 2, { segments: 4 });
    assert.deepEqual(r.data, pattern(8192, 3));
    assert.equal(mem.view(driver.ucd[0]! + 64, 1)[0], 0x21, 'RESPONSE UPIU at UCDBA + RUO');
    // Only the 32-byte response was written: the rest of the (poisoned) response area is untouched.
    assert.ok(mem.view(driver.ucd[0]! + 64 + 32, 96 - 32).every((b) => b === 0xee));
  });

  it('makes FUA writes and SYNCHRONIZE CACHE durable: a new model over the same file reads them back', async () => {
    const file = join(dir, 'lu0.img');
    const params = { luns: [{ sizeBytes: 64 << 20, backingFile: file }] };
    const a = createUfsRig(params);
    await a.driver.bringUp();
    assert.equal(statSync(file).size, 64 << 20, 'sparse image sized to the LU');
    assert.equal((await a.driver.writeBlocks(0, 10, pattern(4096, 4), { fua: true })).rsp.status, SCSI_STATUS.GOOD);
    assert.equal((await a.driver.writeBlocks(0, 11, pattern(8192, 5))).rsp.status, SCSI_STATUS.GOOD);
    const sync = await a.driver.scsi(0, cdb10(SCSI_OP.SYNCHRONIZE_CACHE_10, 0, 0));
    assert.equal(sync.rsp.status, SCSI_STATUS.GOOD);
    const sync16 = await a.driver.scsi(0, cdb16(SCSI_OP.SYNCHRONIZE_CACHE_16, 0, 0));
    assert.equal(sync16.rsp.status, SCSI_STATUS.GOOD);
    a.model.unrealize();

    const b = createUfsRig(params);
    await b.driver.bringUp();
    assert.deepEqual((await b.driver.readBlocks(0, 10, 3, { segments: 2 })).data, Uint8Array.from([...pattern(4096, 4), ...pattern(8192, 5)]));
    b.model.unrealize();
  });

  it('UNMAP deallocates ranges: they read back as zeros, the rest is kept', async () => {
    const { driver } = createUfsRig({ luns: [{ sizeBytes: 4 << 20, backingFile: join(dir, 'unmap.img') }] });
    await driver.bringUp();
    await driver.writeBlocks(0, 0, pattern(8 * 4096, 6), { segments: 2 });
    const list = new Uint8Array(8 + 2 * 16);
    const v = new DataView(list.buffer);
    v.setUint16(0, list.length - 2);
    v.setUint16(2, 32);
    v.setBigUint64(8, 1n);
    v.setUint32(16, 2);
    v.setBigUint64(24, 6n);
    v.setUint32(32, 1);
    const cdb = new Uint8Array(10);
    cdb[0] = SCSI_OP.UNMAP;
    new DataView(cdb.buffer).setUint16(7, list.length);
    const u = await driver.scsi(0, cdb, { dataOut: list });
    assert.equal(u.ocs, OCS.SUCCESS);
    assert.equal(u.rsp.status, SCSI_STATUS.GOOD);
    const back = (await driver.readBlocks(0, 0, 8)).data;
    const expect = pattern(8 * 4096, 6);
    expect.fill(0, 4096, 3 * 4096);
    expect.fill(0, 6 * 4096, 7 * 4096);
    assert.deepEqual(back, expect);
  });

  it('keeps several LUs apart, each with its own size and block size', async () => {
    const { driver } = createUfsRig({ luns: [{ sizeBytes: 1 << 20 }, { sizeBytes: 2 << 20, blockSize: 512 }, { sizeBytes: 1 << 20 }] });
    await driver.bringUp();
    await driver.writeBlocks(0, 0, pattern(4096, 10));
    await driver.writeBlocks(1, 0, pattern(4096, 11), { blockSize: 512 });
    await driver.writeBlocks(2, 0, pattern(4096, 12));
    assert.deepEqual((await driver.readBlocks(0, 0, 1)).data, pattern(4096, 10));
    assert.deepEqual((await driver.readBlocks(1, 0, 8, { blockSize: 512 })).data, pattern(4096, 11));
    assert.deepEqual((await driver.readBlocks(2, 0, 1)).data, pattern(4096, 12));
    const cap = await driver.scsi(1, cdb10(SCSI_OP.READ_CAPACITY_10, 0, 0), { dataIn: 8 });
    assert.deepEqual([...cap.data], [0, 0, 0x0f, 0xff, 0, 0, 2, 0], '4096 blocks of 512 B');
    const rl = new Uint8Array(12);
    rl[0] = SCSI_OP.REPORT_LUNS;
    new DataView(rl.buffer).setUint32(6, 64);
    const luns = await driver.scsi(2, rl, { dataIn: 64 });
    assert.equal(new DataView(luns.data.buffer).getUint32(0), 24, 'select report 0: the three ordinary LUs');
  });

  it('answers the SCSI probe commands: TUR, REQUEST SENSE, MODE SENSE, VPD pages, START STOP UNIT', async () => {
    const { driver } = createUfsRig({ luns: [{ sizeBytes: 1 << 20 }] });
    await driver.bringUp();
    assert.equal((await driver.scsi(0, cdb6(SCSI_OP.TEST_UNIT_READY))).rsp.status, SCSI_STATUS.GOOD);
    const rs = await driver.scsi(0, cdb6(SCSI_OP.REQUEST_SENSE, 0, 0, 18), { dataIn: 18 });
    assert.equal(rs.data[0], 0x70);
    assert.equal(rs.data[2], 0, 'NO SENSE');
    const ms = new Uint8Array(10);
    ms[0] = SCSI_OP.MODE_SENSE_10;
    ms[2] = 0x08;
    new DataView(ms.buffer).setUint16(7, 64);
    const mode = await driver.scsi(0, ms, { dataIn: 64 });
    assert.equal(mode.rsp.status, SCSI_STATUS.GOOD);
    assert.equal(mode.data[3]! & 0x10, 0x10, 'DPOFUA');
    assert.equal(mode.data[8], 0x08, 'caching page');
    assert.equal(mode.data[10]! & 0x04, 0x04, 'WCE');
    const pages = await driver.scsi(0, cdb6(SCSI_OP.INQUIRY, 1, 0x00, 64), { dataIn: 64 });
    assert.deepEqual([...pages.data.subarray(4, 4 + pages.data[3]!)], [0x00, 0x80, 0x87, 0xb0, 0xb1, 0xb2]);
    const serial = await driver.scsi(0, cdb6(SCSI_OP.INQUIRY, 1, 0x80, 64), { dataIn: 64 });
    assert.equal(new TextDecoder().decode(serial.data.subarray(4, 4 + serial.data[3]!)), 'HMUFS00000001');
    const limits = await driver.scsi(0, cdb6(SCSI_OP.INQUIRY, 1, 0xb0, 64), { dataIn: 64 });
    assert.equal(new DataView(limits.data.buffer).getUint32(8), 256, 'max transfer: 1 MiB of 4 KiB blocks');
    const ssu = cdb6(SCSI_OP.START_STOP_UNIT, 0, 0, 0);
    ssu[4] = 0x20; // power condition: sleep
    assert.equal((await driver.scsi(0xd0, ssu)).rsp.status, SCSI_STATUS.GOOD);
    const wlunInq = await driver.scsi(0xd0, cdb6(SCSI_OP.INQUIRY, 0, 0, 36), { dataIn: 36 });
    assert.equal(wlunInq.data[0], 0x1e, 'well-known LU');
  });

  it('runs many slots at once; completions are reported in UTRLCNR and the doorbell', async () => {
    const { driver } = createUfsRig({ luns: [{ sizeBytes: 4 << 20 }], timing: 'ufs31' });
    await driver.bringUp();
    const bufs: number[] = [];
    let mask = 0;
    for (let slot = 0; slot < 32; slot++) {
      const buf = driver.alloc(4096);
      bufs.push(buf);
      driver.o.mem.view(buf, 4096).set(pattern(4096, slot));
      const upiu = buildCommandUpiu({ lun: 0, tag: slot, flags: UPIU_FLAGS.WRITE, edtl: 4096, cdb: cdb10(SCSI_OP.WRITE_10, slot, 1) });
      driver.prepare(slot, { upiu, dd: UTP_DD.HOST_TO_DEVICE, prdt: [{ addr: buf, len: 4096 }] });
      mask = (mask | (1 << slot)) >>> 0;
    }
    driver.ring(mask);
    assert.equal(driver.rd('UTRLDBR') >>> 0, mask);
    await driver.until(() => driver.rd('UTRLDBR') === 0, 'all slots');
    assert.equal(driver.rd('UTRLCNR') >>> 0, mask);
    for (let slot = 0; slot < 32; slot++) assert.equal(driver.ocs(slot), OCS.SUCCESS);
    driver.wr('UTRLCNR', mask);
    driver.wr('IS', driver.rd('IS'));
    assert.equal(driver.rd('UTRLCNR'), 0);
    for (const b of bufs) driver.free(b);
    const back = await driver.readBlocks(0, 0, 32, { segments: 32 });
    for (let slot = 0; slot < 32; slot++) assert.deepEqual(back.data.subarray(slot * 4096, (slot + 1) * 4096), pattern(4096, slot));
  });

  it('ufs31 timing: QD1 latency and queued throughput follow the model', async () => {
    const { driver, clock } = createUfsRig({ luns: [{ sizeBytes: 64 << 20 }], timing: 'ufs31' });
    await driver.bringUp();
    let t = clock.now();
    await driver.readBlocks(0, 0, 1);
    const qd1 = Number(clock.now() - t);
    assert.ok(qd1 >= 80_000 && qd1 < 81_000, `4 KiB QD1 read ≈ 70 µs + 10 µs, got ${qd1} ns`);
    t = clock.now();
    await driver.readBlocks(0, 0, 256);
    const mb = Number(clock.now() - t);
    const expect = 70_000 + (1 << 20) / 2.1;
    assert.ok(Math.abs(mb - expect) < 1000, `1 MiB read ≈ ${expect} ns, got ${mb}`);
    // 16 queued 4 KiB writes: IOPS-bound after the first latency (70 K IOPS → 14.3 µs each).
    let mask = 0;
    const buf = driver.alloc(4096);
    for (let slot = 0; slot < 16; slot++) {
      const upiu = buildCommandUpiu({ lun: 0, tag: slot, flags: UPIU_FLAGS.WRITE, edtl: 4096, cdb: cdb10(SCSI_OP.WRITE_10, slot, 1) });
      driver.prepare(slot, { upiu, dd: UTP_DD.HOST_TO_DEVICE, prdt: [{ addr: buf, len: 4096 }] });
      mask |= 1 << slot;
    }
    t = clock.now();
    driver.ring(mask);
    await driver.waitSlots(mask);
    const qd16 = Number(clock.now() - t);
    assert.ok(Math.abs(qd16 - (70_000 + 16 * 14_286)) < 100, `got ${qd16}`);
  });

  it('aggregates completions without the I bit: the counter threshold raises UTRCS', async () => {
    const { driver, irq } = createUfsRig({ luns: [{ sizeBytes: 1 << 20 }] });
    await driver.bringUp();
    const b = UFS_REGS.bits.UTRIACR;
    driver.wr('UTRIACR', b.IAEN | b.IAPWEN | (3 << 8) | 0);
    assert.equal(UFS_REGS.get(driver.rd('UTRIACR'), 'UTRIACR', 'IACTH'), 3);
    driver.wr('UTRIACR', b.IAEN | b.CTR);
    assert.equal(UFS_REGS.get(driver.rd('UTRIACR'), 'UTRIACR', 'IACTH'), 3, 'kept without IAPWEN');
    const nop = buildNopOut;
    for (let i = 0; i < 2; i++) {
      driver.prepare(i, { upiu: nop(i), intr: false });
      driver.ring(1 << i);
      await driver.until(() => (driver.rd('UTRLDBR') & (1 << i)) === 0, 'slot');
    }
    assert.equal(driver.rd('IS') & UFS_INTR.UTRCS, 0, 'held: 2 of 3');
    assert.equal(irq.level, false);
    assert.equal(driver.rd('UTRIACR') & b.IASB, b.IASB);
    driver.prepare(2, { upiu: nop(2), intr: false });
    driver.ring(1 << 2);
    await driver.until(() => irq.level, 'aggregated interrupt');
    assert.equal(driver.rd('UTRLCNR'), 0b111);
    assert.equal(driver.rd('UTRIACR') & b.IASB, 0);
  });

  it('aggregation timeout fires after IATOVAL × 40 µs', async () => {
    const { driver, irq, clock } = createUfsRig({ luns: [{ sizeBytes: 1 << 20 }] });
    await driver.bringUp();
    const b = UFS_REGS.bits.UTRIACR;
    driver.wr('UTRIACR', b.IAEN | b.IAPWEN | (8 << 8) | 5);
    driver.prepare(0, { upiu: buildNopOut(1), intr: false });
    driver.ring(1);
    await driver.until(() => (driver.rd('UTRLDBR') & 1) === 0, 'slot 0');
    const t = clock.now();
    await driver.until(() => irq.level, 'timeout interrupt');
    assert.equal(clock.now() - t, 200_000n);
  });

  it('without aggregation, a completion with I = 0 raises no interrupt (QEMU behaviour); UTRLCNR still reports it', async () => {
    const { driver, clock } = createUfsRig({ luns: [{ sizeBytes: 1 << 20 }] });
    await driver.bringUp();
    driver.wr('IS', driver.rd('IS'));
    const upiu = buildCommandUpiu({ lun: 0, tag: 5, flags: 0, edtl: 0, cdb: cdb6(SCSI_OP.TEST_UNIT_READY) });
    driver.prepare(4, { upiu, intr: false });
    driver.ring(1 << 4);
    clock.runUntilIdle();
    assert.equal(driver.rd('UTRLCNR'), 1 << 4);
    assert.equal(driver.rd('IS') & UFS_INTR.UTRCS, 0);
    assert.equal(decodeCommandResponse(driver.response(4)).status, SCSI_STATUS.GOOD);
  });

  it('runs over real time too (RealClock scheduler, ufs31 timing)', async () => {
    const mem = new PhysicalMemory({ size: 8 << 20, backing: 'heap' });
    const clock = new RealClock();
    const model = new UfsHostController({ memory: mem, scheduler: new Scheduler(clock), irq: new IrqLine(), params: { luns: [{ sizeBytes: 1 << 20 }], timing: { ...UFS31_TIMING, hceEnableNs: 100_000, linkStartupNs: 100_000, deviceInitNs: 100_000 } } });
    model.realize();
    const driver = new UfsTestDriver({ mmio: model.regions[0]!, mem, clock });
    await driver.bringUp();
    await driver.writeBlocks(0, 1, pattern(8192, 20), { segments: 2 });
    const t = clock.now();
    const r = await driver.readBlocks(0, 1, 2);
    assert.ok(clock.now() - t >= 80_000n, 'not faster than the modelled latency');
    assert.deepEqual(r.data, pattern(8192, 20));
    model.unrealize();
  });

  it('memory storage is sparse', () => {
    const s = new MemoryStorage(1 << 30);
    s.write((1 << 29) - 3, Uint8Array.of(1, 2, 3, 4, 5, 6));
    assert.equal(s.allocatedBytes, 2 * 65536);
    const out = new Uint8Array(8);
    s.read((1 << 29) - 4, out);
    assert.deepEqual([...out], [0, 1, 2, 3, 4, 5, 6, 0]);
    s.unmap(1 << 29, 65536);
    assert.equal(s.allocatedBytes, 65536);
  });
});

// The driver helper's splitter yields dword-multiple entries covering the buffer exactly.
describe('UfsTestDriver.split', () => {
  it('covers the range with dword-sized entries', () => {
    const segs = UfsTestDriver.split(0x1000, 20480, 7);
    assert.equal(segs.reduce((n, s) => n + s.len, 0), 20480);
    assert.ok(segs.every((s) => s.len % 4 === 0));
  });
});
