/**
 * UFS model against bad input, black box: SCSI errors give CHECK CONDITION with the right
 * sense; malformed descriptors give the controller's OCS (and IS.SBFES for DMA faults); nothing
 * throws and nothing outside the request is written (checked byte by byte over all memory).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DmaSpace } from '../core/dma.js';
import {
  OCS, SCSI_OP, SCSI_STATUS, SENSE_KEY, TM_FUNC, TM_SERVICE, UFS_INTR, UPIU_FLAGS, UPIU_RESPONSE, UPIU_TC, UTP_DD, UTRD,
} from './ufs.regs.js';
import { cdb10, cdb16, cdb6, createUfsRig, type SlotRequest, type UfsRig } from './ufs.testing.js';
import { buildCommandUpiu, buildNopOut, decodeCommandResponse, decodeHeader } from './ufs.upiu.js';

const LU = { luns: [{ sizeBytes: 1 << 20 }] };

/** [addr, len) ranges whose bytes differ between `before` and memory now. */
function changedRanges(before: Uint8Array, now: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < now.length; i++) {
    if (before[i] === now[i]) continue;
    const start = i;
    while (i < now.length && before[i] !== now[i]) i++;
    out.push([start, i - start]);
  }
  return out;
}

function assertOnlyChanged(changed: [number, number][], allowed: [number, number][]): void {
  for (const [a, n] of changed) {
    assert.ok(allowed.some(([b, m]) => a >= b && a + n <= b + m), `memory 0x${a.toString(16)}+${n} changed outside the request`);
  }
}

interface Outcome { ocs: number; is: number; irq: boolean; changed: [number, number][]; dbr: number; cnr: number }

/** Prepares `slot`, snapshots memory, rings, runs to idle; does not acknowledge anything. */
function run(rig: UfsRig, slot: number, req: SlotRequest): Outcome {
  const d = rig.driver;
  d.wr('IS', d.rd('IS'));
  d.wr('UTRLCNR', d.rd('UTRLCNR'));
  d.prepare(slot, req);
  const before = rig.mem.bytes.slice();
  d.ring(1 << slot);
  rig.clock.runUntilIdle();
  return { ocs: d.ocs(slot), is: d.rd('IS'), irq: rig.irq.level, changed: changedRanges(before, rig.mem.bytes), dbr: d.rd('UTRLDBR'), cnr: d.rd('UTRLCNR') };
}

const ocsByte = (rig: UfsRig, slot: number): [number, number] => [rig.driver.utrl + slot * UTRD.SIZE + UTRD.DW2, 1];
const rspArea = (rig: UfsRig, slot: number): [number, number] => [rig.driver.ucd[slot]! + rig.driver.layout.ruo, rig.driver.layout.rul];

async function up(params = LU as Parameters<typeof createUfsRig>[0], o: Parameters<typeof createUfsRig>[1] = {}): Promise<UfsRig> {
  const rig = createUfsRig(params, o);
  await rig.driver.bringUp();
  return rig;
}

describe('UFS SCSI errors: CHECK CONDITION with sense data', () => {
  const sense = (r: { rsp: { sense: Uint8Array } }): [number, number, number] => [r.rsp.sense[2]! & 0xf, r.rsp.sense[12]!, r.rsp.sense[13]!];

  it('LBA out of range (READ and WRITE): ILLEGAL REQUEST 21h/00h, nothing moved', async () => {
    const rig = await up();
    const r = await rig.driver.readBlocks(0, 255, 2);
    assert.equal(r.ocs, OCS.SUCCESS, 'a SCSI error is still OCS SUCCESS');
    assert.equal(r.rsp.status, SCSI_STATUS.CHECK_CONDITION);
    assert.equal(r.rsp.response, UPIU_RESPONSE.TARGET_FAILURE);
    assert.deepEqual(sense(r), [SENSE_KEY.ILLEGAL_REQUEST, 0x21, 0x00]);
    assert.equal(r.rsp.sense[0], 0x70);
    assert.deepEqual(r.data, new Uint8Array(8192));
    assert.equal(r.rsp.flags, UPIU_FLAGS.UNDERFLOW);
    assert.equal(r.rsp.residual, 8192);
    const w = await rig.driver.writeBlocks(0, 256, new Uint8Array(4096).fill(1), { sixteen: true });
    assert.deepEqual(sense(w), [SENSE_KEY.ILLEGAL_REQUEST, 0x21, 0x00]);
    const big = await rig.driver.scsi(0, cdb16(SCSI_OP.READ_16, 1n << 40n, 1), { dataIn: 4096 });
    assert.deepEqual(sense(big), [SENSE_KEY.ILLEGAL_REQUEST, 0x21, 0x00]);
  });

  it('unknown opcode: INVALID COMMAND OPERATION CODE 20h/00h', async () => {
    const rig = await up();
    const r = await rig.driver.scsi(0, cdb6(0xc0));
    assert.deepEqual(sense(r), [SENSE_KEY.ILLEGAL_REQUEST, 0x20, 0x00]);
    const w = await rig.driver.scsi(0xd0, cdb10(SCSI_OP.READ_10, 0, 1), { dataIn: 4096 });
    assert.deepEqual(sense(w), [SENSE_KEY.ILLEGAL_REQUEST, 0x20, 0x00], 'no media commands on a W-LU');
  });

  it('LUN without a logical unit: LOGICAL UNIT NOT SUPPORTED 25h/00h; INQUIRY reports PQ 011b', async () => {
    const rig = await up();
    const tur = await rig.driver.scsi(3, cdb6(SCSI_OP.TEST_UNIT_READY));
    assert.deepEqual(sense(tur), [SENSE_KEY.ILLEGAL_REQUEST, 0x25, 0x00]);
    const inq = await rig.driver.scsi(3, cdb6(SCSI_OP.INQUIRY, 0, 0, 36), { dataIn: 36 });
    assert.equal(inq.rsp.status, SCSI_STATUS.GOOD);
    assert.equal(inq.data[0], 0x7f);
    const rs = await rig.driver.scsi(3, cdb6(SCSI_OP.REQUEST_SENSE, 0, 0, 18), { dataIn: 18 });
    assert.deepEqual([rs.data[2], rs.data[12]], [SENSE_KEY.ILLEGAL_REQUEST, 0x25]);
  });

  it('invalid fields in the CDB: 24h/00h; saving parameters: 39h/00h', async () => {
    const rig = await up();
    const d = rig.driver;
    assert.deepEqual(sense(await d.scsi(0, cdb6(SCSI_OP.INQUIRY, 0, 0x80, 36), { dataIn: 36 })), [5, 0x24, 0], 'page without EVPD');
    assert.deepEqual(sense(await d.scsi(0, cdb6(SCSI_OP.INQUIRY, 1, 0x83, 64), { dataIn: 64 })), [5, 0x24, 0], 'unsupported VPD page');
    const rc = cdb16(SCSI_OP.SERVICE_ACTION_IN_16, 0, 0);
    rc[1] = 0x11;
    assert.deepEqual(sense(await d.scsi(0, rc, { dataIn: 32 })), [5, 0x24, 0], 'bad service action');
    const ms = new Uint8Array(10);
    ms[0] = SCSI_OP.MODE_SENSE_10;
    ms[2] = 0xc8; // saved values of the caching page
    ms[8] = 64;
    assert.deepEqual(sense(await d.scsi(0, ms, { dataIn: 64 })), [5, 0x39, 0]);
    const rl = new Uint8Array(12);
    rl[0] = SCSI_OP.REPORT_LUNS;
    rl[9] = 8;
    assert.deepEqual(sense(await d.scsi(0, rl, { dataIn: 8 })), [5, 0x24, 0], 'allocation length < 16');
    const w = cdb10(SCSI_OP.WRITE_10, 0, 2);
    assert.deepEqual(sense(await d.scsi(0, w, { dataOut: new Uint8Array(4096) })), [5, 0x24, 0], 'WRITE longer than the expected length');
  });

  it('a READ longer than the expected length moves only that much and reports OVERFLOW + residual', async () => {
    const rig = await up();
    await rig.driver.writeBlocks(0, 0, new Uint8Array(8192).fill(7));
    const r = await rig.driver.scsi(0, cdb10(SCSI_OP.READ_10, 0, 2), { dataIn: 4096 });
    assert.equal(r.rsp.status, SCSI_STATUS.GOOD);
    assert.equal(r.rsp.flags, UPIU_FLAGS.OVERFLOW);
    assert.equal(r.rsp.residual, 4096);
    assert.ok(r.data.every((b) => b === 7));
  });

  it('UNMAP with a bad parameter list or range changes nothing', async () => {
    const rig = await up();
    await rig.driver.writeBlocks(0, 0, new Uint8Array(4096).fill(9));
    const list = new Uint8Array(24);
    const v = new DataView(list.buffer);
    v.setUint16(2, 16);
    v.setBigUint64(8, 0n);
    v.setUint32(16, 1000);
    const cdb = new Uint8Array(10);
    cdb[0] = SCSI_OP.UNMAP;
    cdb[8] = 24;
    assert.deepEqual(sense(await rig.driver.scsi(0, cdb, { dataOut: list })), [5, 0x21, 0]);
    v.setUint16(2, 13);
    assert.deepEqual(sense(await rig.driver.scsi(0, cdb, { dataOut: list })), [5, 0x26, 0]);
    assert.ok((await rig.driver.readBlocks(0, 0, 1)).data.every((b) => b === 9));
  });
});

describe('UFS controller errors: OCS, SBFES and untouched memory', () => {
  const read1 = (rig: UfsRig, buf: number, len = 4096, lba = 0): SlotRequest => ({
    upiu: buildCommandUpiu({ lun: 0, tag: 1, flags: UPIU_FLAGS.READ, edtl: 4096, cdb: cdb10(SCSI_OP.READ_10, lba, 1) }),
    dd: UTP_DD.DEVICE_TO_HOST,
    prdt: [{ addr: buf, len }],
  });

  it('UCD address outside memory: INVALID_CMD_TABLE_ATTR, IS.SBFES and the line, a DMA fault counted', async () => {
    const rig = await up();
    const d = rig.driver;
    d.prepare(2, { upiu: buildNopOut(1) });
    const utrd = new DataView(rig.mem.buffer, d.utrl + 2 * UTRD.SIZE, UTRD.SIZE);
    utrd.setUint32(UTRD.UCDBA, 0, true);
    utrd.setUint32(UTRD.UCDBAU, 1, true); // 4 GiB: beyond the 16 MiB of memory
    const before = rig.mem.bytes.slice();
    d.ring(1 << 2);
    rig.clock.runUntilIdle();
    assert.equal(d.ocs(2), OCS.INVALID_CMD_TABLE_ATTR);
    assert.equal(d.rd('IS') & (UFS_INTR.SBFES | UFS_INTR.UTRCS), UFS_INTR.SBFES | UFS_INTR.UTRCS);
    assert.equal(rig.irq.level, true);
    assert.equal(d.rd('UTRLDBR'), 0);
    assert.equal(d.rd('UTRLCNR'), 1 << 2);
    assert.ok(rig.model.dma.faults['decode-error'] >= 1);
    assertOnlyChanged(changedRanges(before, rig.mem.bytes), [ocsByte(rig, 2)]);
    assert.equal(rig.model.stats.busErrors, 1);
  });

  it('PRDT table or data buffer outside memory: INVALID_PRDT_ATTR + SBFES, nothing else written', async () => {
    const rig = await up();
    const d = rig.driver;
    const far = rig.mem.size + 4096;
    const o = run(rig, 0, read1(rig, far));
    assert.equal(o.ocs, OCS.INVALID_PRDT_ATTR);
    assert.equal(o.is & UFS_INTR.SBFES, UFS_INTR.SBFES);
    assertOnlyChanged(o.changed, [ocsByte(rig, 0), rspArea(rig, 0)]);
    // PRDT itself unreachable: PRDTO points past the end of memory.
    d.prepare(1, read1(rig, d.alloc(4096)));
    const utrd = new DataView(rig.mem.buffer, d.utrl + UTRD.SIZE, UTRD.SIZE);
    utrd.setUint32(UTRD.DW7, ((0xfff0 << 16) | 1) >>> 0, true);
    utrd.setUint32(UTRD.UCDBA, rig.mem.size - 4096, true);
    d.wr('IS', d.rd('IS'));
    d.ring(1 << 1);
    rig.clock.runUntilIdle();
    assert.equal(d.ocs(1), OCS.INVALID_PRDT_ATTR, 'the UPIU is reachable, the PRDT 256 KiB further is not');
    assert.equal(d.rd('IS') & UFS_INTR.SBFES, UFS_INTR.SBFES);
  });

  it('a data buffer the kernel did not grant: access-denied fault, INVALID_PRDT_ATTR, LU data unchanged', async () => {
    const rig = await up(LU, { dma: (mem) => new DmaSpace(mem, 'ufs0') });
    const d = rig.driver;
    await d.writeBlocks(0, 0, new Uint8Array(4096).fill(5));
    const a = rig.mem.alloc(4096, 4096, 'not granted')!;
    rig.mem.view(a.addr, 4096).fill(0xaa);
    const write: SlotRequest = {
      upiu: buildCommandUpiu({ lun: 0, tag: 2, flags: UPIU_FLAGS.WRITE, edtl: 4096, cdb: cdb10(SCSI_OP.WRITE_10, 0, 1) }),
      dd: UTP_DD.HOST_TO_DEVICE,
      prdt: [{ addr: a.addr, len: 4096 }],
    };
    const o = run(rig, 3, write);
    assert.equal(o.ocs, OCS.INVALID_PRDT_ATTR);
    assert.equal(o.is & UFS_INTR.SBFES, UFS_INTR.SBFES);
    assert.ok(rig.model.dma.faults['access-denied'] >= 1);
    assertOnlyChanged(o.changed, [ocsByte(rig, 3), rspArea(rig, 3)]);
    d.wr('IS', d.rd('IS'));
    assert.ok((await d.readBlocks(0, 0, 1)).data.every((b) => b === 5), 'nothing was written to the LU');
    const r = run(rig, 4, read1(rig, a.addr));
    assert.equal(r.ocs, OCS.INVALID_PRDT_ATTR);
    assert.ok(rig.mem.view(a.addr, 4096).every((b) => b === 0xaa), 'the buffer was not written');
  });

  it('PRDT smaller than the data, or the wrong direction: MISMATCH_DATA_BUF_SIZE, buffer untouched', async () => {
    const rig = await up();
    const buf = rig.driver.alloc(8192);
    rig.mem.view(buf, 8192).fill(0x55);
    const small = run(rig, 0, read1(rig, buf, 2048));
    assert.equal(small.ocs, OCS.MISMATCH_DATA_BUF_SIZE);
    assert.equal(small.is & UFS_INTR.SBFES, 0, 'not a bus error');
    assert.equal(small.is & UFS_INTR.UTRCS, UFS_INTR.UTRCS);
    assertOnlyChanged(small.changed, [ocsByte(rig, 0), rspArea(rig, 0)]);
    const wrongDir = run(rig, 0, { ...read1(rig, buf), dd: UTP_DD.HOST_TO_DEVICE });
    assert.equal(wrongDir.ocs, OCS.MISMATCH_DATA_BUF_SIZE);
    assert.ok(rig.mem.view(buf, 8192).every((b) => b === 0x55));
  });

  it('response area too small for the response: MISMATCH_RESP_UPIU_SIZE, nothing past RUL written', async () => {
    const rig = await up(LU, { layout: { ruo: 512, rul: 32, prdto: 1024, maxPrdt: 16 } });
    const buf = rig.driver.alloc(4096);
    const good = run(rig, 0, read1(rig, buf));
    assert.equal(good.ocs, OCS.SUCCESS, 'a GOOD response is exactly 32 bytes');
    const bad = run(rig, 0, read1(rig, buf, 4096, 9999));
    assert.equal(bad.ocs, OCS.MISMATCH_RESP_UPIU_SIZE);
    assertOnlyChanged(bad.changed, [ocsByte(rig, 0), [rig.driver.ucd[0]! + 512, 32]]);
    assert.equal(decodeCommandResponse(rig.mem.view(rig.driver.ucd[0]! + 512, 32).slice()).status, SCSI_STATUS.CHECK_CONDITION);
  });

  it('unknown transaction code: INVALID_CMD_TABLE_ATTR and a REJECT UPIU', async () => {
    const rig = await up();
    const upiu = buildNopOut(7);
    upiu[0] = UPIU_TC.DATA_OUT;
    const o = run(rig, 5, { upiu });
    assert.equal(o.ocs, OCS.INVALID_CMD_TABLE_ATTR);
    assert.equal(o.is & UFS_INTR.SBFES, 0);
    assert.equal(decodeHeader(rig.driver.response(5)).type, UPIU_TC.REJECT);
    assertOnlyChanged(o.changed, [ocsByte(rig, 5), rspArea(rig, 5)]);
  });

  it('strict: bad UTRD command type, misaligned UCDBA, odd DBC are refused before any data moves', async () => {
    const rig = await up();
    const buf = rig.driver.alloc(4096);
    assert.equal(run(rig, 0, { ...read1(rig, buf), ct: 0 }).ocs, OCS.INVALID_CMD_TABLE_ATTR);
    const odd = run(rig, 0, { ...read1(rig, buf), rawDbc: [4094] });
    assert.equal(odd.ocs, OCS.INVALID_PRDT_ATTR);
    assert.equal(odd.is & UFS_INTR.SBFES, 0);
    assertOnlyChanged(odd.changed, [ocsByte(rig, 0)]);
    rig.driver.prepare(0, read1(rig, buf));
    const utrd = new DataView(rig.mem.buffer, rig.driver.utrl, UTRD.SIZE);
    utrd.setUint32(UTRD.UCDBA, rig.driver.ucd[0]! + 64, true);
    rig.driver.ring(1);
    rig.clock.runUntilIdle();
    assert.equal(rig.driver.ocs(0), OCS.INVALID_CMD_TABLE_ATTR);
    assert.ok(rig.logs.some((l) => /not 128-byte aligned/.test(l)));
  });

  it('not strict: the same odd DBC is accepted (and logged)', async () => {
    const rig = await up({ ...LU, strict: false });
    const buf = rig.driver.alloc(4096);
    const o = run(rig, 0, { ...read1(rig, buf), rawDbc: [4094], ct: 0 });
    assert.equal(o.ocs, OCS.MISMATCH_DATA_BUF_SIZE, '4095 bytes cannot take a 4096-byte block');
    assert.ok(rig.logs.some((l) => /accepted: not strict/.test(l)));
  });

  it('UTRD outside memory: the slot still completes with SBFES (no OCS can be written)', async () => {
    const rig = await up();
    rig.driver.wr('UTRLBAU', 1);
    const before = rig.mem.bytes.slice();
    rig.driver.ring(1 << 6);
    rig.clock.runUntilIdle();
    assert.equal(rig.driver.rd('UTRLDBR'), 0);
    assert.equal(rig.driver.rd('IS') & (UFS_INTR.SBFES | UFS_INTR.UTRCS), UFS_INTR.SBFES | UFS_INTR.UTRCS);
    assert.deepEqual(changedRanges(before, rig.mem.bytes), []);
  });

  it('doorbells are ignored (strict) while the list is stopped or the controller disabled', async () => {
    const rig = await up();
    const d = rig.driver;
    d.wr('UTRLRSR', 0);
    d.prepare(0, { upiu: buildNopOut(1) });
    d.ring(1);
    rig.clock.runUntilIdle();
    assert.equal(d.rd('UTRLDBR'), 0);
    assert.equal(d.ocs(0), OCS.INVALID_COMMAND_STATUS, 'never processed');
    assert.equal(rig.model.stats.ignoredDoorbells, 1);
    assert.ok(rig.logs.some((l) => /UTRLRSR = 0/.test(l)));
    d.wr('HCE', 0);
    d.ring(1);
    assert.equal(d.rd('UTRLDBR'), 0);
    assert.equal(rig.model.stats.ignoredDoorbells, 2);
  });

  it('not strict: a doorbell while stopped is processed (QEMU behaviour), logged', async () => {
    const rig = await up({ ...LU, strict: false });
    rig.driver.wr('UTRLRSR', 0);
    const o = run(rig, 0, { upiu: buildNopOut(1) });
    assert.equal(o.ocs, OCS.SUCCESS);
    assert.ok(rig.logs.some((l) => /processed \(not strict\)/.test(l)));
  });

  it('UTRLCLR clears a slot in flight: no completion, no data, no interrupt', async () => {
    const rig = await up({ ...LU, timing: 'ufs31' });
    const d = rig.driver;
    const buf = d.alloc(4096);
    rig.mem.view(buf, 4096).fill(0x33);
    d.wr('IS', d.rd('IS'));
    d.prepare(7, read1(rig, buf));
    d.ring(1 << 7);
    rig.clock.advance(10_000);
    assert.equal(d.rd('UTRLDBR'), 1 << 7);
    d.wr('UTRLCLR', ~(1 << 7));
    assert.equal(d.rd('UTRLDBR'), 0);
    rig.clock.runUntilIdle();
    assert.equal(d.rd('UTRLCNR'), 0);
    assert.equal(d.rd('IS') & UFS_INTR.UTRCS, 0);
    assert.equal(d.ocs(7), OCS.INVALID_COMMAND_STATUS);
    assert.ok(rig.mem.view(buf, 4096).every((b) => b === 0x33));
  });

  it('HCE 1→0 with requests in flight drops them: no completion, no DMA', async () => {
    const rig = await up({ ...LU, timing: 'ufs31' });
    const d = rig.driver;
    const buf = d.alloc(4096);
    d.prepare(0, read1(rig, buf));
    const before = rig.mem.bytes.slice();
    d.ring(1);
    rig.clock.advance(5_000);
    d.wr('HCE', 0);
    rig.clock.runUntilIdle();
    assert.equal(d.rd('UTRLDBR'), 0);
    assert.equal(d.rd('UTRLCNR'), 0);
    assert.equal(d.rd('IS'), 0);
    assert.equal(rig.irq.level, false);
    assert.deepEqual(changedRanges(before, rig.mem.bytes), []);
    await d.bringUp();
    assert.equal((await d.readBlocks(0, 0, 1)).ocs, OCS.SUCCESS, 'usable again after re-initialisation');
  });

  it('task management: QUERY TASK finds a held task, ABORT TASK drops it, UTRLCLR frees the slot', async () => {
    const rig = await up({ ...LU, timing: 'ufs31' });
    const d = rig.driver;
    const buf = d.alloc(4096);
    const req = read1(rig, buf);
    d.prepare(3, req);
    const tag = req.upiu[3]!;
    d.ring(1 << 3);
    rig.clock.advance(1_000);
    const q = await d.taskManagement(0, TM_FUNC.QUERY_TASK, 0, tag);
    assert.deepEqual(q, { ocs: OCS.SUCCESS, service: TM_SERVICE.SUCCEEDED, type: UPIU_TC.TASK_RSP });
    assert.equal((await d.taskManagement(1, TM_FUNC.ABORT_TASK, 0, tag)).service, TM_SERVICE.COMPLETE);
    rig.clock.advance(1_000_000);
    assert.equal(d.rd('UTRLDBR'), 1 << 3, 'an aborted task never completes by itself');
    assert.equal((await d.taskManagement(0, TM_FUNC.QUERY_TASK, 0, tag)).service, TM_SERVICE.COMPLETE);
    d.wr('UTRLCLR', ~(1 << 3));
    assert.equal(d.rd('UTRLDBR'), 0);
    assert.equal((await d.taskManagement(2, TM_FUNC.QUERY_TASK_SET, 5, 0)).service, TM_SERVICE.INCORRECT_LUN);
    assert.equal((await d.taskManagement(2, 0x42, 0, 0)).service, TM_SERVICE.NOT_SUPPORTED);
    assert.equal((await d.taskManagement(2, TM_FUNC.LOGICAL_UNIT_RESET, 0xd0, 0)).service, TM_SERVICE.COMPLETE);
  });

  it('TM completion raises UTMRCS and the line', async () => {
    const rig = await up();
    const d = rig.driver;
    const at = d.utmrl;
    rig.mem.view(at, 80).fill(0);
    new DataView(rig.mem.buffer, at, 80).setUint32(0, 1 << 24, true);
    rig.mem.view(at + 16, 1)[0] = UPIU_TC.TASK_REQ;
    d.wr('IS', d.rd('IS'));
    d.wr('UTMRLDBR', 1);
    rig.clock.runUntilIdle();
    assert.equal(d.rd('IS') & UFS_INTR.UTMRCS, UFS_INTR.UTMRCS);
    assert.equal(rig.irq.level, true);
    assert.equal(d.rd('UTMRLDBR'), 0);
  });
});
