// Smoke test of the models bench suite's rigs and driver loops: a few hundred UFS IOs (every
// read checked against the LBA stamps the fill wrote, in this thread over real and virtual time
// and through the machine thread), frames between two e1000s on a wire (lengths and sequence
// numbers checked, nothing dropped), vblanks and flips of the display (this thread, a display
// thread, virtual time), and the memcpy loop. Never asserts on speed: this VM is shared.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { displayInThread, displayThread, virtualFlipLoop } from './models/display.js';
import { memcpyLoop, memcpyRegions } from './models/memcpy.js';
import { idealFrameLoop, loadNicTesting, NicPair } from './models/nic.js';
import { ufsPhaseBreakdown } from './models/ufs-phases.js';
import { inThreadUfs, machineUfs, UfsQueue, type UfsHost } from './models/ufs.js';
import { MODEL_CASE, vblankSeconds, VBLANK_SECONDS_ENV } from './suites/models.js';

const LU = 4 << 20;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function ufsRounds(host: UfsHost): Promise<void> {
  try {
    const q = await UfsQueue.create(host, { qd: 32, luBytes: LU, bufBytes: 4 << 20 });
    await q.fill(); // 128 KiB writes stamping every block with its LBA
    assert.equal(q.stats.ios >= LU / (128 << 10), true);
    q.workload = { dir: 'read', blocks: 1, pattern: 'random' };
    const before = q.stats.ios;
    await q.run(300); // throws on a bad OCS, response or stamp
    assert.ok(q.stats.ios - before >= 300);
    assert.equal(q.busy, 32, 'QD32 stays full between runs');
    q.qd = 8;
    q.workload = { dir: 'read', blocks: 32, pattern: 'seq' };
    await q.run(40);
    q.workload = { dir: 'write', blocks: 1, pattern: 'random' };
    await q.run(100);
    q.workload = { dir: 'read', blocks: 1, pattern: 'random' };
    await q.run(100); // reads after random writes: the stamps must still match
    await q.drain();
    assert.equal(q.busy, 0);
    if (host.model) {
      assert.equal(host.model.stats.busErrors, 0);
      assert.deepEqual(Object.keys(host.model.stats.ocs), ['0'], 'every request completed with OCS SUCCESS');
    }
  } finally {
    await host.close();
  }
}

describe('models bench: UFS', { timeout: 30_000 }, () => {
  test('in this thread over a real clock: fill, 4K random reads verified, 128K reads, writes', () => ufsRounds(inThreadUfs({ luBytes: LU, memBytes: 16 << 20 })));
  test('in this thread over a virtual clock', () => ufsRounds(inThreadUfs({ luBytes: LU, memBytes: 16 << 20, virtual: true })));
  test('a read whose data is not what the fill wrote fails the run', async () => {
    const host = inThreadUfs({ luBytes: LU, memBytes: 16 << 20 });
    try {
      const q = await UfsQueue.create(host, { qd: 4, luBytes: LU, bufBytes: 1 << 20 });
      await q.fill();
      // Overwrite every block's stamp behind the driver's back (the LU's storage is internal).
      const storage = (host.model as unknown as { device: { lus: { storage: { write(o: number, b: Uint8Array): void } }[] } }).device.lus[0]!.storage;
      for (let off = 0; off < LU; off += 4096) storage.write(off, Uint8Array.of(0xef, 0xbe, 0xad, 0xde));
      q.workload = { dir: 'read', blocks: 1, pattern: 'random' };
      await assert.rejects(q.run(10), /stamps/);
    } finally {
      await host.close();
    }
  });
  test('through the machine thread (IRQ wait, then polling)', async () => {
    const host = await machineUfs({ wait: 'irq', luBytes: LU, memBytes: 16 << 20 });
    try {
      const q = await UfsQueue.create(host, { qd: 32, luBytes: LU, bufBytes: 4 << 20 });
      await q.fill();
      q.workload = { dir: 'read', blocks: 1, pattern: 'random' };
      await q.run(200);
      host.setWaitMode!('poll');
      await q.run(64);
      host.setWaitMode!('irq');
      await q.drain();
    } finally {
      await host.close(); // throws if the machine logged a fault
    }
  });
  test('the phase breakdown times every building block', () => {
    const p = ufsPhaseBreakdown(200);
    for (const k of ['readUtrd', 'fetchCommand', 'cost', 'execute', 'storageRead', 'writeResponse', 'writeOcs']) {
      assert.ok(Number.isFinite(p.perIoUs[k]) && p.perIoUs[k]! > 0, k);
    }
  });
});

describe('models bench: e1000', { timeout: 30_000 }, () => {
  for (const frameBytes of [60, 1514]) {
    test(`${frameBytes + 4}-byte frames from one NIC to the other, batched, nothing dropped`, async (t) => {
      const nic = await loadNicTesting();
      if ('unavailable' in nic) return t.skip(nic.unavailable);
      for (const virtual of [false, true]) {
        const p = await NicPair.create(nic, { frameBytes, ring: 256, virtual });
        try {
          await p.run(2000); // throws on a wrong length or sequence number
          await p.drain();
          assert.equal(p.stats.rx, p.stats.tx);
          assert.ok(p.stats.tdtWrites < p.stats.tx / 10, 'TDT is written once per batch');
          p.check();
          assert.equal(p.models[1].counters.rxFrames, p.stats.rx);
          assert.ok(p.stats.verified >= Math.floor(p.stats.rx / 64), 'every 64th frame compared byte for byte, FCS included');
        } finally {
          p.close();
        }
      }
    });
  }

  test('a frame that arrives different from what was sent fails the run', async (t) => {
    const nic = await loadNicTesting();
    if ('unavailable' in nic) return t.skip(nic.unavailable);
    const p = await NicPair.create(nic, { frameBytes: 60, ring: 256, virtual: true });
    try {
      p.mem.bytes[p.a.drv.txBufs + 20]! ^= 0xff; // frame 0 (compared in full) leaves with a flipped byte
      await assert.rejects(p.run(100), /frame 0: byte 20/);
    } finally {
      p.close();
    }
  });
});

test('the ideal frame loop runs (no model needed)', () => {
  const l = idealFrameLoop(60, 100, 64);
  assert.equal(typeof l.run(), 'number');
});

describe('models bench: display', { timeout: 30_000 }, () => {
  test('virtual clock: every flip latches at the next vblank', () => {
    const f = virtualFlipLoop(1000);
    for (let i = 0; i < 100; i++) f.flip();
    assert.deepEqual(f.stats(), { frames: 100, missedVblanks: 0, flips: 100 });
    f.close();
  });
  test('this thread, real clock: vblanks counted, flips latched', async () => {
    const d = displayInThread({ refreshHz: 200, flip: true });
    await sleep(300);
    const s = d.stop();
    assert.ok(s.frames > 10, `frames ${s.frames}`);
    assert.equal(s.frameCount, s.frames + s.missedVblanks, 'FRAME_COUNT counts processed and missed vblanks');
    assert.ok(s.flips > 0 && s.flips <= s.frames);
    assert.ok(s.latenessUs.max >= 0);
  });
  test('display thread: mark() opens a window, stop() returns its figures', async () => {
    const th = await displayThread({ refreshHz: 100, flip: true });
    await sleep(100);
    const warm = await th.mark();
    assert.ok(warm.frames >= 1);
    await sleep(300);
    const s = await th.stop();
    assert.ok(s.frames >= 10, `frames ${s.frames}`);
    assert.ok(s.seconds > 0.2 && s.seconds < 5);
  });
});

describe('models bench: suite plumbing', () => {
  test('memcpy loop copies the bytes it claims to', () => {
    const r = memcpyRegions(1 << 20);
    for (let i = 0; i < r.src.length; i++) r.src[i] = (i * 31) & 0xff;
    const m = memcpyLoop(4096, r);
    m.set(); // block 0 -> block 0
    assert.deepEqual(r.dst.subarray(0, 4096), r.src.subarray(0, 4096));
    m.copy(); // block 1 -> block 7
    assert.deepEqual(r.dst.subarray(7 * 4096, 8 * 4096), r.src.subarray(4096, 8192));
  });
  test(`${VBLANK_SECONDS_ENV} sets the vblank check's duration`, () => {
    assert.equal(vblankSeconds(true, {}), 2);
    assert.equal(vblankSeconds(false, {}), 10);
    assert.equal(vblankSeconds(false, { [VBLANK_SECONDS_ENV]: '60' }), 60);
    assert.equal(vblankSeconds(true, { [VBLANK_SECONDS_ENV]: 'x' }), 2);
  });
  test('case names are unique', () => {
    const names = Object.values(MODEL_CASE);
    assert.equal(new Set(names).size, names.length);
  });
});
