/**
 * UFS host controller, black box (QEMU qtest style): reset values, HCE, UIC commands and the
 * Linux-like bring-up, driven only through MMIO, DMA memory, the IRQ line and virtual time.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DESC_IDN, DME, FLAG_IDN, OCS, PA, PWR_MODE, QUERY_OP, QUERY_RESULT, SCSI_OP, SCSI_STATUS, UFS_INTR, UFS_REGS, UIC,
  UIC_RESULT, UPIU_TC, UPMCRS, ATTR_IDN, uicArgMib,
} from './ufs.regs.js';
import { cdb16, cdb6, createUfsRig } from './ufs.testing.js';
import { buildNopOut } from './ufs.upiu.js';
import { UfsConfigError, UfsHostController, type UfsParams } from './ufs.model.js';
import { PhysicalMemory } from '../core/phys-mem.js';
import { Scheduler } from '../core/scheduler.js';
import { VirtualClock } from '../core/clock.js';
import { IrqLine } from '../core/irq.js';

const { offsets: A, bits: B } = UFS_REGS;
const oneLu = { luns: [{ sizeBytes: 4 << 20 }] };

describe('UFS controller: registers and reset', () => {
  it('comes out of reset with QEMU-like capabilities, version 3.0 and the line low', () => {
    const { mmio, irq } = createUfsRig({ ...oneLu, nutrs: 16, nutmrs: 4 });
    const cap = mmio.read(A.CAP, 4);
    assert.equal(UFS_REGS.get(cap, 'CAP', 'NUTRS'), 15);
    assert.equal(UFS_REGS.get(cap, 'CAP', 'NUTMRS'), 3);
    assert.equal(UFS_REGS.get(cap, 'CAP', 'RTT'), 2);
    assert.equal(cap & B.CAP.AS64, B.CAP.AS64);
    assert.equal(cap & B.CAP.MCQS, 0);
    assert.equal(mmio.read(A.VER, 4), 0x0300);
    assert.equal(mmio.read(A.HCS, 4), 0);
    assert.equal(mmio.read(A.HCE, 4), 0);
    assert.equal(irq.level, false);
    assert.equal(UFS_REGS.size, 0x1000);
  });

  it('keeps HCE reading 0 until the scheduled enable has run, then sets HCS.UCRDY', () => {
    const { mmio, clock, model } = createUfsRig({ ...oneLu, timing: 'ufs31' });
    mmio.write(A.HCE, 4, B.HCE.HCE);
    assert.equal(mmio.read(A.HCE, 4) & 1, 0, 'not enabled inside the MMIO write');
    clock.advance(500_000);
    assert.equal(mmio.read(A.HCE, 4) & 1, 0, 'still enabling after 0.5 ms (ufs31: 1 ms)');
    clock.advance(500_000);
    assert.equal(mmio.read(A.HCE, 4) & 1, 1);
    assert.equal(mmio.read(A.HCS, 4) & B.HCS.UCRDY, B.HCS.UCRDY);
    mmio.write(A.HCE, 4, 0);
    assert.equal(mmio.read(A.HCE, 4), 0);
    assert.equal(mmio.read(A.HCS, 4), 0, 'HCE 1→0 resets HCS');
    assert.equal(model.regs.stats.guestErrors, 0);
  });

  it('ignores UIC commands while disabled (logged), and never completes them inside the write', async () => {
    const { mmio, clock, logs, driver } = createUfsRig(oneLu);
    mmio.write(A.UICCMD, 4, UIC.DME_LINK_STARTUP);
    clock.runUntilIdle();
    assert.equal(mmio.read(A.IS, 4), 0);
    assert.ok(logs.some((l) => /UIC command 0x16 while the controller is disabled/.test(l)));
    await driver.enable();
    mmio.write(A.UICCMD, 4, UIC.DME_LINK_STARTUP);
    assert.equal(mmio.read(A.IS, 4) & UFS_INTR.UCCS, 0, 'asynchronous');
    assert.equal(mmio.read(A.HCS, 4) & B.HCS.UCRDY, 0, 'busy while running');
    clock.runUntilIdle();
    assert.equal(mmio.read(A.IS, 4) & (UFS_INTR.UCCS | UFS_INTR.ULSS), UFS_INTR.UCCS | UFS_INTR.ULSS);
    const hcs = mmio.read(A.HCS, 4);
    assert.equal(hcs & (B.HCS.DP | B.HCS.UTRLRDY | B.HCS.UTMRLRDY | B.HCS.UCRDY), B.HCS.DP | B.HCS.UTRLRDY | B.HCS.UTMRLRDY | B.HCS.UCRDY);
    assert.equal(mmio.read(A.UCMDARG2, 4) & 0xff, UIC_RESULT.SUCCESS);
  });

  it('drives the line from IS & IE only: UCCS raises it when enabled, W1C drops it', async () => {
    const { mmio, irq, driver, clock } = createUfsRig(oneLu);
    await driver.enable();
    mmio.write(A.UICCMD, 4, UIC.DME_LINK_STARTUP);
    clock.runUntilIdle();
    assert.equal(irq.level, false, 'IE = 0');
    mmio.write(A.IE, 4, UFS_INTR.UCCS);
    assert.equal(irq.level, true);
    mmio.write(A.IS, 4, UFS_INTR.ULSS);
    assert.equal(irq.level, true, 'ULSS is not enabled');
    mmio.write(A.IS, 4, UFS_INTR.UCCS);
    assert.equal(irq.level, false);
    mmio.write(A.IE, 4, UFS_INTR.ULSS);
    assert.equal(irq.level, false, 'ULSS already cleared');
  });
});

describe('UFS controller: lifecycle', () => {
  it('realize refuses bad configurations with a UfsConfigError', () => {
    const mk = (params: UfsParams) => new UfsHostController({
      memory: new PhysicalMemory({ size: 1 << 20, backing: 'heap' }), scheduler: new Scheduler(new VirtualClock()), irq: new IrqLine(), params,
    });
    assert.throws(() => mk({ ...oneLu, nutrs: 33 }).realize(), UfsConfigError);
    assert.throws(() => mk({ ...oneLu, nutmrs: 0 }).realize(), /nutmrs must be 1..8/);
    assert.throws(() => mk({ luns: [] }).realize(), /luns must list/);
    assert.throws(() => mk({ luns: [{ sizeBytes: 4097 }] }).realize(), /multiple of 4096/);
    assert.throws(() => mk({ luns: [{ sizeBytes: 4096, blockSize: 3000 }] }).realize(), /power of two/);
    assert.throws(() => mk({ luns: [{ sizeBytes: 4096, backingFile: '/nonexistent-dir/x.img' }] }).realize(), /cannot open LU storage/);
  });

  it('reset() puts every register back and drops the line; unrealize() lowers it too', async () => {
    const { driver, model, mmio, irq } = createUfsRig(oneLu);
    await driver.bringUp();
    driver.prepare(0, { upiu: buildNopOut(1) });
    driver.ring(1);
    await driver.until(() => irq.level, 'completion');
    model.reset();
    assert.equal(irq.level, false);
    for (const r of UFS_REGS.registers) {
      const expect = r.name === 'CAP' ? mmio.read(A.CAP, 4) : r.reset & r.modes.readable;
      assert.equal(mmio.read(r.offset, 4), expect, r.name);
    }
    model.unrealize();
    mmio.write(A.HCE, 4, 1);
    assert.equal(mmio.read(A.HCE, 4), 0, 'an unrealized controller stays disabled');
  });
});

describe('UFS controller: UIC / DME attributes', () => {
  it('answers the attributes Linux reads to pick the power mode (2 lanes, HS-G4)', async () => {
    const { driver } = createUfsRig(oneLu);
    await driver.enable();
    assert.deepEqual(await driver.dmeGet(PA.CONNECTEDRXDATALANES), { result: 0, value: 2 });
    assert.deepEqual(await driver.dmeGet(PA.CONNECTEDTXDATALANES), { result: 0, value: 2 });
    assert.deepEqual(await driver.dmeGet(PA.MAXRXHSGEAR), { result: 0, value: 4 });
    assert.equal((await driver.dmeGet(PA.MAXRXHSGEAR, true)).result, UIC_RESULT.PEER_COMMUNICATION_FAILURE, 'no peer before link startup');
    await driver.linkStartup();
    assert.deepEqual(await driver.dmeGet(PA.MAXRXHSGEAR, true), { result: 0, value: 4 });
    assert.deepEqual(await driver.dmeGet(DME.VS_POWERSTATE), { result: 0, value: 2 });
    assert.equal((await driver.dmeGet(0x1234)).result, UIC_RESULT.INVALID_MIB_ATTRIBUTE);
    assert.equal((await driver.dmeGet(PA.TXGEAR, false, 1)).result, UIC_RESULT.BAD_INDEX);
    assert.equal(await driver.dmeSet(PA.CONNECTEDRXDATALANES, 1), UIC_RESULT.READ_ONLY_MIB_ATTRIBUTE);
    assert.equal(await driver.dmeSet(0x1234, 1), UIC_RESULT.INVALID_MIB_ATTRIBUTE, 'strict: unknown attribute');
    assert.equal(await driver.dmeSet(PA.TXTERMINATION, 1), 0);
    assert.deepEqual(await driver.dmeGet(PA.TXTERMINATION), { result: 0, value: 1 });
  });

  it('stores unknown (vendor) attributes when not strict', async () => {
    const { driver } = createUfsRig({ ...oneLu, strict: false });
    await driver.enable();
    assert.equal(await driver.dmeSet(0xd0a0, 7), 0);
    assert.deepEqual(await driver.dmeGet(0xd0a0), { result: 0, value: 7 });
  });

  it('changes power mode on PA_PWRMODE: UCCS, then UPMS with UPMCRS = PWR_LOCAL', async () => {
    const { driver, mmio, irq } = createUfsRig({ ...oneLu, timing: 'ufs31' });
    await driver.enable();
    await driver.linkStartup();
    assert.equal(await driver.changePowerMode({ gear: 4, lanes: 2, mode: PWR_MODE.FAST }), UPMCRS.PWR_LOCAL);
    assert.deepEqual(await driver.dmeGet(PA.PWRMODE), { result: 0, value: 0x11 });
    // Out of range: HS-G5 on a 3.1 link.
    mmio.write(A.IE, 4, UFS_INTR.UPMS);
    assert.equal(await driver.changePowerMode({ gear: 5 }).catch(() => -1), UPMCRS.PWR_ERROR_CAP);
    assert.equal(irq.level, false, 'the driver acknowledged UPMS');
  });

  it('enters and leaves hibernate (UHES / UHXS, UPMCRS = PWR_LOCAL); holds transfers meanwhile', async () => {
    const { driver, mmio, clock } = createUfsRig(oneLu);
    await driver.bringUp();
    assert.equal((await driver.uic(UIC.DME_HIBER_ENTER)).result, 0);
    clock.runUntilIdle();
    assert.equal(mmio.read(A.IS, 4) & UFS_INTR.UHES, UFS_INTR.UHES);
    assert.equal(UFS_REGS.get(mmio.read(A.HCS, 4), 'HCS', 'UPMCRS'), UPMCRS.PWR_LOCAL);
    driver.prepare(1, { upiu: buildNopOut(9) });
    driver.ring(1 << 1);
    clock.runUntilIdle();
    assert.equal(mmio.read(A.UTRLDBR, 4), 1 << 1, 'held while the link hibernates');
    assert.equal((await driver.uic(UIC.DME_HIBER_EXIT)).result, 0);
    await driver.waitSlots(1 << 1);
    assert.equal(driver.ocs(1), OCS.SUCCESS);
    assert.equal(mmio.read(A.IS, 4) & UFS_INTR.UHXS, 0, 'acknowledged by waitSlots');
  });

  it('refuses a second UIC command while one is running', async () => {
    const { driver, mmio, model, clock } = createUfsRig({ ...oneLu, timing: 'ufs31' });
    await driver.enable();
    mmio.write(A.UICCMD, 4, UIC.DME_LINK_STARTUP);
    mmio.write(A.UCMDARG1, 4, uicArgMib(PA.TXGEAR));
    mmio.write(A.UICCMD, 4, UIC.DME_GET);
    assert.equal(model.regs.stats.guestErrors, 1);
    clock.runUntilIdle();
    assert.equal(mmio.read(A.HCS, 4) & B.HCS.DP, B.HCS.DP);
  });
});

describe('UFS: Linux-like bring-up', () => {
  it('enables, links, gears up, verifies with NOP, completes fDeviceInit and scans the LUs', async () => {
    const { driver, irq, clock, logs } = createUfsRig({ luns: [{ sizeBytes: 8 << 20 }, { sizeBytes: 2 << 20, blockSize: 4096 }], timing: 'ufs31' });
    const t0 = clock.now();
    driver.wr('IE', 0);
    await driver.enable();
    driver.wr('IE', UFS_INTR.UCCS);
    await driver.linkStartup();
    driver.makeOperational();

    // NOP OUT → NOP IN with the same task tag; the line rises for UTRCS (I = 1).
    driver.prepare(0, { upiu: buildNopOut(42) });
    driver.ring(1);
    assert.equal(driver.rd('UTRLDBR'), 1);
    await driver.until(() => irq.level, 'the completion interrupt');
    assert.equal(driver.rd('UTRLDBR') & 1, 0, 'doorbell cleared before UTRCS is seen');
    assert.equal(driver.rd('UTRLCNR') & 1, 1);
    assert.equal(driver.rd('IS') & UFS_INTR.UTRCS, UFS_INTR.UTRCS);
    driver.wr('IS', driver.rd('IS'));
    driver.wr('UTRLCNR', 1);
    assert.equal(irq.level, false);
    assert.equal(driver.ocs(0), OCS.SUCCESS);
    const nopIn = driver.response(0);
    assert.equal(nopIn[0], UPIU_TC.NOP_IN);
    assert.equal(nopIn[3], 42);

    // fDeviceInit: set, then poll until it reads 0 (at least two reads).
    const reads = await driver.deviceInit();
    assert.ok(reads >= 2, `polled ${reads} times`);

    assert.equal(await driver.changePowerMode(), UPMCRS.PWR_LOCAL);

    // Descriptors Linux reads.
    const dev = await driver.readDescriptor(DESC_IDN.DEVICE);
    assert.equal(dev.length, 0x59);
    assert.equal(dev[1], DESC_IDN.DEVICE);
    assert.equal(dev[0x06], 2, 'bNumberLU');
    assert.equal((dev[0x10]! << 8) | dev[0x11]!, 0x0310, 'wSpecVersion');
    assert.equal(dev[0x21], 32, 'bQueueDepth');
    const name = await driver.readDescriptor(DESC_IDN.STRING, dev[0x15]!);
    assert.equal(String.fromCharCode(...Array.from({ length: (name[0]! - 2) / 2 }, (_, i) => (name[2 + 2 * i]! << 8) | name[3 + 2 * i]!)), 'Virtual UFS 3.1');
    const unit = await driver.readDescriptor(DESC_IDN.UNIT, 1);
    assert.equal(unit[0x03], 1, 'bLUEnable');
    assert.equal(unit[0x0a], 12, 'bLogicalBlockSize');
    assert.equal(new DataView(unit.buffer).getBigUint64(0x0b), 512n, 'qLogicalBlockCount');
    const geo = await driver.readDescriptor(DESC_IDN.GEOMETRY);
    assert.equal(geo.length, 0x57);
    assert.equal(new DataView(geo.buffer).getBigUint64(4), (10n << 20n) / 512n);
    const refclk = await driver.query({ opcode: QUERY_OP.READ_ATTR, idn: ATTR_IDN.bRefClkFreq });
    assert.equal(refclk.rsp.value, 1);
    assert.equal((await driver.query({ opcode: QUERY_OP.WRITE_ATTR, idn: ATTR_IDN.bRefClkFreq, value: 2 })).rsp.response, 0);
    assert.equal((await driver.query({ opcode: QUERY_OP.READ_ATTR, idn: ATTR_IDN.bRefClkFreq })).rsp.value, 2);

    // SCSI scan: REPORT LUNS on the REPORT LUNS W-LU, INQUIRY, READ CAPACITY(16).
    const rl = new Uint8Array(12);
    rl[0] = SCSI_OP.REPORT_LUNS;
    rl[2] = 0x02;
    new DataView(rl.buffer).setUint32(6, 256);
    const luns = await driver.scsi(0x81, rl, { dataIn: 256 });
    assert.equal(luns.ocs, OCS.SUCCESS);
    assert.equal(luns.rsp.status, SCSI_STATUS.GOOD);
    const listLen = new DataView(luns.data.buffer).getUint32(0);
    assert.equal(listLen, 8 * 6);
    assert.deepEqual([...luns.data.subarray(8, 10)], [0, 0]);
    assert.deepEqual([...luns.data.subarray(16, 18)], [0, 1]);
    assert.deepEqual([...luns.data.subarray(32, 34)], [0xc1, 0x50], 'UFS DEVICE W-LUN');
    assert.equal(luns.rsp.residual, 256 - 56, 'underflow residual');

    const inq = await driver.scsi(0, cdb6(SCSI_OP.INQUIRY, 0, 0, 36), { dataIn: 36 });
    assert.equal(inq.rsp.status, SCSI_STATUS.GOOD);
    assert.equal(inq.data[0], 0x00, 'direct-access block device');
    assert.equal(new TextDecoder().decode(inq.data.subarray(8, 16)).trim(), 'HMDRV');

    const rc = cdb16(SCSI_OP.SERVICE_ACTION_IN_16, 0, 0);
    rc[1] = 0x10;
    new DataView(rc.buffer).setUint32(10, 32);
    const cap = await driver.scsi(0, rc, { dataIn: 32 });
    const cv = new DataView(cap.data.buffer);
    assert.equal(cv.getBigUint64(0), 2047n, 'last LBA of 8 MiB in 4 KiB blocks');
    assert.equal(cv.getUint32(8), 4096);
    assert.equal(cap.data[14]! & 0xc0, 0xc0, 'LBPME | LBPRZ');

    assert.ok(clock.now() - t0 > 3_000_000n, 'ufs31: HCE + link startup + device init take milliseconds');
    assert.deepEqual(logs, []);
  });

  it('answers query errors with the device\'s own result codes', async () => {
    const { driver } = createUfsRig(oneLu);
    await driver.bringUp();
    const q = async (opcode: number, idn: number, extra: object = {}) => (await driver.query({ opcode, idn, ...extra })).rsp.response;
    assert.equal(await q(QUERY_OP.READ_DESC, 3), QUERY_RESULT.INVALID_IDN);
    assert.equal(await q(QUERY_OP.READ_DESC, DESC_IDN.UNIT, { index: 8 }), QUERY_RESULT.INVALID_INDEX);
    assert.equal(await q(QUERY_OP.READ_DESC, DESC_IDN.DEVICE, { selector: 1 }), QUERY_RESULT.INVALID_SELECTOR);
    assert.equal(await q(QUERY_OP.WRITE_DESC, DESC_IDN.DEVICE), QUERY_RESULT.NOT_WRITEABLE);
    assert.equal(await q(QUERY_OP.READ_ATTR, 0x7f), QUERY_RESULT.INVALID_IDN);
    assert.equal(await q(QUERY_OP.WRITE_ATTR, ATTR_IDN.bBackgroundOpStatus, { value: 1 }), QUERY_RESULT.NOT_WRITEABLE);
    assert.equal(await q(QUERY_OP.WRITE_ATTR, ATTR_IDN.bRefClkFreq, { value: 9 }), QUERY_RESULT.INVALID_VALUE);
    assert.equal(await q(QUERY_OP.CLEAR_FLAG, FLAG_IDN.fDeviceInit), QUERY_RESULT.NOT_WRITEABLE);
    assert.equal(await q(QUERY_OP.READ_FLAG, 0x30), QUERY_RESULT.INVALID_IDN);
    assert.equal(await q(0x20, 0), QUERY_RESULT.INVALID_OPCODE);
    assert.equal(await q(QUERY_OP.READ_FLAG, FLAG_IDN.fDeviceInit, { fn: 0x81 }), QUERY_RESULT.GENERAL_FAILURE);
    const part = await driver.query({ opcode: QUERY_OP.READ_DESC, idn: DESC_IDN.DEVICE, length: 16 });
    assert.equal(part.rsp.length, 16);
    assert.equal(part.rsp.data.length, 16);
    const toggled = await driver.query({ opcode: QUERY_OP.TOGGLE_FLAG, idn: FLAG_IDN.fBackgroundOpsEn });
    assert.equal(toggled.rsp.value & 0xff, 0, 'fBackgroundOpsEn defaults to 1');
  });
});
