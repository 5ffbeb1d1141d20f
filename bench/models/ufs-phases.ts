// Where a 4 KiB UFS READ spends its time inside the model: the building blocks the controller
// calls per request (devices/ufs/ufs.utp.ts, ufs.device.ts), timed one by one in tight loops on
// one prepared slot, plus the V8 costs that dominate them. Diagnostic figures for the report,
// not cases: the loops re-run the same request, so caches are warm (an upper bound on speed),
// and each figure is the best of 3 loops.
//
//   readUtrd      UTRD fetch + decode into the slot's UtrdFields (readUtrdInto: scratch copy)
//   fetchCommand  command UPIU + PRDT fetch and checks into the slot's FetchedCommand
//   cost          device.cost(req): the timing model's peek at the CDB
//   execute       device.execute(req, PrdtPort): UPIU decode, SCSI READ(10), the 4 KiB copy
//                 from the LU's MemoryStorage into DMA memory, response UPIU (reused buffer)
//   storageRead   only the 4 KiB copy (MemoryStorage.read into the DMA buffer view)
//   writeResponse response UPIU -> UCD (dma.write)
//   writeOcs      OCS byte -> UTRD (dma.write of a scratch byte)

import { DmaSpace } from '../../devices/core/dma.js';
import { PhysicalMemory } from '../../devices/core/phys-mem.js';
import { UfsDevice } from '../../devices/ufs/ufs.device.js';
import { SCSI_OP, UPIU_FLAGS, UTP_DD } from '../../devices/ufs/ufs.regs.js';
import { LINUX_UCD_LAYOUT, UfsTestDriver, cdb10 } from '../../devices/ufs/ufs.testing.js';
import { buildCommandUpiu } from '../../devices/ufs/ufs.upiu.js';
import { FetchedCommand, fetchCommandInto, PrdtPort, readUtrdInto, writeOcs, writeResponse } from '../../devices/ufs/ufs.utp.js';
import { RealClock } from '../../devices/core/clock.js';
import { BLOCK } from './ufs.js';

export interface PhaseBreakdown {
  /** µs per call of each building block (see the module comment). */
  perIoUs: Record<string, number>;
  /** Sum of the model-side phases (readUtrd .. writeOcs, without storageRead, which execute includes). */
  modelSumUs: number;
  /** ns per `new DataView(u8.slice(0, n).buffer)` for small n: the V8 cost behind readUtrd & co. */
  v8: Record<string, number>;
}

/** µs per call: the best of 3 timed loops (this VM is shared: the minimum is the least disturbed). */
function timeIt(iterations: number, fn: () => unknown): number {
  for (let i = 0; i < Math.min(2000, iterations); i++) fn();
  let best = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) fn();
    best = Math.min(best, ((performance.now() - t0) * 1000) / iterations);
  }
  return best;
}

export function ufsPhaseBreakdown(iterations = 50_000): PhaseBreakdown {
  const mem = new PhysicalMemory({ size: 8 << 20, backing: 'heap' });
  const dma = new DmaSpace(mem, 'ufs-phases');
  const alloc = (size: number, align = 4096) => {
    const a = mem.alloc(size, align, 'phases')!;
    dma.grant(a.addr, a.size, 'bidirectional');
    return a.addr;
  };
  const L = LINUX_UCD_LAYOUT;
  const driver = new UfsTestDriver({ mmio: { name: 'none', size: 0, read: () => 0, write: () => {} }, mem, clock: new RealClock(), layout: L });
  driver.utrl = alloc(32 * 32, 1024);
  driver.ucd.push(alloc(L.prdto + L.maxPrdt * 16, 128));
  const buf = alloc(BLOCK);
  const lba = 1234;
  const device = new UfsDevice([{ sizeBytes: 64 << 20 }], 32, () => 0n, 0n);
  const stamp = new Uint8Array(BLOCK);
  new DataView(stamp.buffer).setUint32(0, lba, true);
  device.lus[0]!.storage.write(lba * BLOCK, stamp);
  driver.prepare(0, {
    upiu: buildCommandUpiu({ lun: 0, tag: 1, flags: UPIU_FLAGS.READ, edtl: BLOCK, cdb: cdb10(SCSI_OP.READ_10, lba, 1) }),
    dd: UTP_DD.DEVICE_TO_HOST, prdt: [{ addr: buf, len: BLOCK }],
  });
  const log = () => {};
  const f = new FetchedCommand();
  const utrd = f.utrd;
  if (!readUtrdInto(dma, driver.utrl, utrd) || fetchCommandInto(dma, f, true, log) !== undefined) throw new Error('ufs phases: fetchCommand failed');
  const port = new PrdtPort(dma, f);
  const reply = device.execute(f.request, port);
  if (new DataView(mem.buffer).getUint32(buf, true) !== lba) throw new Error('ufs phases: READ did not land in the buffer');
  const view = mem.view(buf, BLOCK);
  const storage = device.lus[0]!.storage;

  const perIoUs: Record<string, number> = {
    readUtrd: timeIt(iterations, () => readUtrdInto(dma, driver.utrl, utrd)),
    fetchCommand: timeIt(iterations, () => fetchCommandInto(dma, f, true, log)),
    cost: timeIt(iterations, () => device.cost(f.request)),
    execute: timeIt(iterations, () => device.execute(f.request, port)),
    storageRead: timeIt(iterations, () => storage.read(lba * BLOCK, view)),
    writeResponse: timeIt(iterations, () => writeResponse(dma, utrd, reply.response)),
    writeOcs: timeIt(iterations, () => writeOcs(dma, driver.utrl, 0)),
  };
  device.close();
  const modelSumUs = perIoUs.readUtrd! + perIoUs.fetchCommand! + perIoUs.cost! + perIoUs.execute! + perIoUs.writeResponse! + perIoUs.writeOcs!;

  const big = mem.bytes;
  const v8: Record<string, number> = {};
  for (const n of [16, 32, 64]) {
    v8[`sliceDataView${n}Ns`] = timeIt(iterations, () => {
      const s = big.slice(64, 64 + n);
      return new DataView(s.buffer, s.byteOffset, s.byteLength).getUint8(0);
    }) * 1000;
  }
  v8.slice32Ns = timeIt(iterations, () => big.slice(64, 96)[0]) * 1000;
  v8.dataViewOverSabNs = timeIt(iterations, () => new DataView(big.buffer, 64, 32).getUint8(0)) * 1000;
  const small = new Uint8Array(64);
  v8.onHeapSubarrayNs = timeIt(iterations, () => {
    const x = new Uint8Array(64);
    x[0] = 1;
    return x.subarray(0, 60)[0];
  }) * 1000;
  v8.onHeapIndexNs = timeIt(iterations, () => {
    const x = new Uint8Array(64);
    x[0] = small[0]!;
    return x[0];
  }) * 1000;
  return { perIoUs, modelSumUs, v8 };
}
