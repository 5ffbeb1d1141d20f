/**
 * Completion batching and per-slot reuse in the UFS model: slots that fall due at the same
 * instant run in one scheduler event, in slot order, and are published together at its end,
 * still one by one, each with the order Linux relies on (OCS, doorbell bit cleared, UTRLCNR bit
 * set, then IS and the line); between slots the machine may answer register accesses
 * (preemption points), which see the batch still pending; a slot cleared meanwhile never
 * completes; slot buffers reused for the next request carry nothing over.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OCS, SCSI_OP, UFS_INTR, UPIU_FLAGS, UTP_DD } from './ufs.regs.js';
import { cdb10, createUfsRig, type UfsRig } from './ufs.testing.js';
import { buildCommandUpiu, decodeCommandResponse } from './ufs.upiu.js';

const BLOCK = 4096;

async function up(timing: 'zero' | 'ufs31' = 'zero'): Promise<UfsRig> {
  const rig = createUfsRig({ luns: [{ sizeBytes: 1 << 20 }], timing });
  await rig.driver.bringUp();
  const d = rig.driver;
  d.wr('IS', d.rd('IS'));
  d.wr('UTRLCNR', d.rd('UTRLCNR'));
  return rig;
}

/** Writes each block `lba` as bytes `lba + 1` (through slot 0: do this before preparing slots). */
async function fill(rig: UfsRig, lbas: readonly number[]): Promise<void> {
  for (const lba of lbas) assert.equal((await rig.driver.writeBlocks(0, lba, new Uint8Array(BLOCK).fill(lba + 1))).ocs, OCS.SUCCESS);
}

/** Prepares `slot` to READ block `lba` into a fresh buffer; returns the buffer. */
function prepareRead(rig: UfsRig, slot: number, lba: number): number {
  const d = rig.driver;
  const buf = d.alloc(BLOCK);
  const upiu = buildCommandUpiu({ lun: 0, tag: 0x40 + slot, flags: UPIU_FLAGS.READ, edtl: BLOCK, cdb: cdb10(SCSI_OP.READ_10, lba, 1) });
  d.prepare(slot, { upiu, dd: UTP_DD.DEVICE_TO_HOST, prdt: [{ addr: buf, len: BLOCK }] });
  return buf;
}

describe('UFS completion batching', () => {
  it('zero timing: one doorbell write of 32 slots completes in one batch after the bottom half, in 64 KiB pieces', async () => {
    const rig = await up();
    const d = rig.driver;
    const slots = Array.from({ length: 32 }, (_, s) => s);
    await fill(rig, slots);
    const bufs = slots.map((s) => prepareRead(rig, s, s));
    d.ring(0xffffffff);
    assert.equal(d.rd('UTRLDBR') >>> 0, 0xffffffff, 'the MMIO write only records the doorbell');
    assert.equal(d.rd('UTRLCNR'), 0);
    assert.equal(d.ocs(5), OCS.INVALID_COMMAND_STATUS);
    // The batch moves 32 x 4 KiB; after every 64 KiB it lets the machine serve register accesses.
    assert.equal(rig.clock.runUntilIdle(), 1 + (32 * BLOCK) / (64 << 10), 'the dispatch bottom half, then the batch in two pieces');
    assert.equal(d.rd('UTRLDBR'), 0);
    assert.equal(d.rd('UTRLCNR') >>> 0, 0xffffffff);
    for (let s = 0; s < 32; s++) {
      assert.equal(d.ocs(s), OCS.SUCCESS);
      assert.ok(rig.mem.view(bufs[s]!, BLOCK).every((b) => b === s + 1), `slot ${s} read its own block`);
      const rsp = decodeCommandResponse(d.response(s));
      assert.equal(rsp.tag, 0x40 + s, `slot ${s} has its own response`);
      assert.equal(rsp.status, 0);
    }
  });

  it('completes the slots of a batch one by one: each doorbell bit is cleared before the line rises', async () => {
    const rig = await up();
    const d = rig.driver;
    await fill(rig, [1, 4, 9]);
    for (const s of [1, 4, 9]) prepareRead(rig, s, s);
    const seen: { dbr: number; cnr: number; is: number }[] = [];
    rig.irq.onChange((level) => {
      if (!level) return;
      seen.push({ dbr: d.rd('UTRLDBR'), cnr: d.rd('UTRLCNR'), is: d.rd('IS') });
      d.wr('IS', UFS_INTR.UTRCS); // acknowledge, so the next completion raises the line again
    });
    d.ring((1 << 1) | (1 << 4) | (1 << 9));
    rig.clock.runUntilIdle();
    assert.deepEqual(seen, [
      { dbr: (1 << 4) | (1 << 9), cnr: 1 << 1, is: UFS_INTR.UTRCS },
      { dbr: 1 << 9, cnr: (1 << 1) | (1 << 4), is: UFS_INTR.UTRCS },
      { dbr: 0, cnr: (1 << 1) | (1 << 4) | (1 << 9), is: UFS_INTR.UTRCS },
    ]);
  });

  it('a slot cleared (UTRLCLR) at a preemption point of its batch never runs nor completes; the others do', async () => {
    const rig = await up();
    const d = rig.driver;
    const bufs = new Map<number, number>();
    await fill(rig, [0, 2, 3]);
    for (const s of [0, 2, 3]) {
      bufs.set(s, prepareRead(rig, s, s));
      rig.mem.view(bufs.get(s)!, BLOCK).fill(0x77);
    }
    // The machine answers the driver's accesses at preemption points; once slot 0's data has
    // moved (the batch is running), the driver clears slot 2, still pending in the batch.
    let cleared = false;
    rig.sched.setAccessService(() => {
      if (!cleared && rig.mem.view(bufs.get(0)!, 1)[0] === 1) { cleared = true; d.wr('UTRLCLR', ~(1 << 2)); }
    });
    d.ring(0b1101);
    assert.equal(rig.clock.runUntilIdle(), 2);
    assert.ok(cleared);
    assert.equal(d.rd('UTRLDBR'), 0);
    assert.equal(d.rd('UTRLCNR'), 0b1001);
    assert.equal(d.ocs(2), OCS.INVALID_COMMAND_STATUS);
    assert.ok(rig.mem.view(bufs.get(2)!, BLOCK).every((b) => b === 0x77), 'no data moved for the cleared slot');
    assert.equal(d.ocs(3), OCS.SUCCESS);
    assert.ok(rig.mem.view(bufs.get(3)!, BLOCK).every((b) => b === 4));
  });

  it('a slot cleared at a preemption point of the fetch pass is never fetched', async () => {
    const rig = await up();
    const d = rig.driver;
    await fill(rig, [0, 1, 2]);
    const bufs = [0, 1, 2].map((s) => prepareRead(rig, s, s));
    rig.mem.view(bufs[2]!, BLOCK).fill(0x77);
    let points = 0;
    rig.sched.setAccessService(() => { if (points++ === 0) d.wr('UTRLCLR', ~(1 << 2)); }); // the first point: fetching slot 1
    const requests = rig.model.stats.requests;
    d.ring(0b111);
    rig.clock.runUntilIdle();
    assert.equal(rig.model.stats.requests - requests, 2, 'slot 2 was not fetched');
    assert.equal(d.rd('UTRLCNR'), 0b011);
    assert.equal(d.ocs(2), OCS.INVALID_COMMAND_STATUS);
    assert.ok(rig.mem.view(bufs[2]!, BLOCK).every((b) => b === 0x77));
  });

  it('registers read at a preemption point show the batch as pending; it completes as a whole at its end, under one interrupt', async () => {
    const rig = await up();
    const d = rig.driver;
    await fill(rig, [0, 1, 2, 3]);
    for (const s of [0, 1, 2, 3]) prepareRead(rig, s, s);
    const atPoints: { dbr: number; cnr: number; is: number }[] = [];
    rig.sched.setAccessService(() => atPoints.push({ dbr: d.rd('UTRLDBR'), cnr: d.rd('UTRLCNR'), is: d.rd('IS') }));
    let rises = 0;
    rig.irq.onChange((level) => { if (level) rises++; });
    d.ring(0b1111);
    rig.clock.runUntilIdle();
    // Slots 1..3 each begin with a preemption point, when fetched and when run; nothing is
    // published before the batch ends.
    assert.deepEqual(atPoints, Array.from({ length: 6 }, () => ({ dbr: 0b1111, cnr: 0, is: 0 })));
    assert.equal(rises, 1, 'one interrupt for the batch');
    assert.equal(d.rd('UTRLDBR'), 0);
    assert.equal(d.rd('UTRLCNR'), 0b1111);
    for (const s of [0, 1, 2, 3]) assert.equal(d.ocs(s), OCS.SUCCESS);
  });

  it('a slot that already ran but is cleared before its batch publishes does not complete; a reset at a preemption point stops the batch', async () => {
    const rig = await up();
    const d = rig.driver;
    await fill(rig, [0, 1, 2]);
    let bufs = [0, 1, 2].map((s) => prepareRead(rig, s, s));
    const ran = (s: number): boolean => rig.mem.view(bufs[s]!, 1)[0] === s + 1;
    let acted = false;
    rig.sched.setAccessService(() => { if (!acted && ran(0)) { acted = true; d.wr('UTRLCLR', ~1); } });
    d.ring(0b111);
    rig.clock.runUntilIdle();
    assert.ok(acted);
    assert.equal(d.rd('UTRLCNR'), 0b110, 'slot 0 never completes');
    assert.equal(d.ocs(0), OCS.INVALID_COMMAND_STATUS);
    assert.equal(d.ocs(1), OCS.SUCCESS);

    // Controller reset (HCE 1 -> 0) once slot 0 ran: nothing more runs or completes.
    d.wr('UTRLCNR', 0b110);
    bufs = [0, 1, 2].map((s) => prepareRead(rig, s, s));
    for (const b of bufs) rig.mem.view(b, BLOCK).fill(0x77);
    acted = false;
    rig.sched.setAccessService(() => { if (!acted && ran(0)) { acted = true; d.wr('HCE', 0); } });
    const logs = rig.logs.length;
    d.ring(0b111);
    rig.clock.runUntilIdle();
    assert.ok(acted);
    assert.equal(d.rd('UTRLDBR'), 0);
    assert.equal(d.rd('UTRLCNR'), 0);
    assert.equal(d.rd('IS') & UFS_INTR.UTRCS, 0);
    for (const s of [0, 1, 2]) assert.equal(d.ocs(s), OCS.INVALID_COMMAND_STATUS, `slot ${s} after the reset`);
    assert.ok(!ran(1) && !ran(2), 'slots 1 and 2 never ran');
    assert.deepEqual(rig.logs.slice(logs).filter((l) => /error|fault/i.test(l)), []);
  });

  it('ufs31 timing: media commands keep their own completion times', async () => {
    const rig = await up('ufs31');
    const d = rig.driver;
    await fill(rig, [0, 1]);
    for (const s of [0, 1]) prepareRead(rig, s, s);
    const t0 = rig.clock.now();
    d.ring(0b11);
    const done: bigint[] = [];
    rig.irq.onChange((level) => {
      if (!level) return;
      done.push(rig.clock.now() - t0);
      d.wr('IS', UFS_INTR.UTRCS);
    });
    rig.clock.runUntilIdle();
    // 70 µs overhead (overlapping), then 10 µs of service each (100 K IOPS), serialised.
    assert.deepEqual(done, [80_000n, 90_000n]);
  });

  it('reuses slot and response buffers without carrying anything over: query, command with sense, command without', async () => {
    const rig = await up();
    const d = rig.driver;
    const desc = await d.readDescriptor(0); // device descriptor: a response with a data segment
    assert.ok(desc.length > 0);
    const r1 = await d.readBlocks(0, 3, 1);
    assert.equal(r1.ocs, OCS.SUCCESS);
    assert.equal(r1.rsp.sense.length, 0);
    const bad = await d.readBlocks(0, 1 << 20, 1); // out of range: CHECK CONDITION with sense
    assert.equal(bad.rsp.sense.length, 18);
    const r2 = await d.readBlocks(0, 3, 1);
    assert.equal(r2.ocs, OCS.SUCCESS);
    assert.equal(r2.rsp.sense.length, 0, 'no sense data left over from the failed command');
    assert.equal(r2.rsp.status, 0);
  });
});
