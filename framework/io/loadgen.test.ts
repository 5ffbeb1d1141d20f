import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { O } from '../vfs/types.js';
import { fakeDisk } from '../vfs/fake-block.fixture.js';
import { runLoad, validateLoadConfig, type LoadProgress } from './loadgen.js';

const KiB = 1024;

describe('runLoad: accounting and offsets', () => {
  it('a sequential read pass reads every block once and counts IOPS and bandwidth', async () => {
    const { vfs, dev, path } = fakeDisk({ size: 256 * KiB });
    const r = await runLoad({ vfs, path, rw: 'read', bs: 4 * KiB });
    assert.equal(r.stopReason, 'count');
    assert.equal(r.ios, 64);
    assert.equal(r.read.ios, 64);
    assert.equal(r.write.ios, 0);
    assert.equal(r.bytes, 256 * KiB);
    assert.equal(r.errors, 0);
    assert.equal(r.config.ioCount, 64);
    assert.deepEqual(dev.log.map((l) => l.position), Array.from({ length: 64 }, (_, i) => i * 4 * KiB));
    assert.ok(Math.abs(r.iops - r.ios / r.seconds) <= 0.1 + r.iops * 1e-3, `${r.iops} vs ${r.ios / r.seconds}`);
    assert.ok(Math.abs(r.bwBytesPerSec - r.bytes / r.seconds) <= r.bwBytesPerSec * 1e-3);
    assert.equal(r.latencyUs.count, 64);
    assert.equal(dev.openFlags[0]! & O.ACCMODE, O.RDONLY);
    assert.equal(vfs.openFds().length, 0, 'the fd is closed');
  });

  it('random offsets are block-aligned, inside the region, and reproducible per seed', async () => {
    const offsets = async (seed: number) => {
      const { vfs, dev, path } = fakeDisk({ size: 1 << 20 });
      const r = await runLoad({ vfs, path, rw: 'randread', bs: 4 * KiB, offset: 64 * KiB, size: 256 * KiB, ioCount: 300, seed });
      assert.equal(r.ios, 300);
      return dev.log.map((l) => l.position);
    };
    const a = await offsets(1);
    for (const o of a) assert.ok(o % (4 * KiB) === 0 && o >= 64 * KiB && o < 320 * KiB, String(o));
    assert.ok(new Set(a).size > 40, 'spread over the region');
    assert.deepEqual(await offsets(1), a);
    assert.notDeepEqual(await offsets(2), a);
  });

  it('randrw follows rwmixread and a sequential write pass opens write-only', async () => {
    const { vfs, path } = fakeDisk({ size: 1 << 20 });
    const r = await runLoad({ vfs, path, rw: 'randrw', rwmixread: 70, bs: 512, ioCount: 4000, iodepth: 4 });
    assert.equal(r.read.ios + r.write.ios, 4000);
    const frac = r.read.ios / 4000;
    assert.ok(frac > 0.66 && frac < 0.74, `read fraction ${frac}`);
    assert.equal(r.bytes, 4000 * 512);

    const w = fakeDisk({ size: 64 * KiB });
    const rw = await runLoad({ vfs: w.vfs, path: w.path, rw: 'write', bs: 8 * KiB, endFsync: true, fsyncEvery: 2 });
    assert.equal(rw.write.ios, 8);
    assert.equal(w.dev.openFlags[0]! & O.ACCMODE, O.WRONLY);
    assert.equal(rw.syncs.count, 5); // 4 (every 2 writes) + the final one
    assert.equal(w.dev.syncs, 5);
    assert.ok(w.dev.data.some((b) => b !== 0), 'data written');
  });
});

describe('runLoad: concurrency, latency, progress', () => {
  it('keeps exactly iodepth requests in flight', async () => {
    for (const iodepth of [1, 8, 32]) {
      const { vfs, dev, path } = fakeDisk({ size: 1 << 20, delay: 2 });
      const r = await runLoad({ vfs, path, rw: 'randread', bs: 4 * KiB, iodepth, ioCount: iodepth * 6 });
      assert.equal(dev.maxActive, iodepth, `device saw ${dev.maxActive} at iodepth ${iodepth}`);
      assert.equal(r.maxInflight, iodepth);
      assert.equal(r.ios, iodepth * 6);
    }
  });

  it('reports sane latency percentiles for a known latency mix', async () => {
    // 90 % of requests take ~2 ms, 10 % ~25 ms (by request number, so exactly 10 %).
    let n = 0;
    const { vfs, path } = fakeDisk({ size: 1 << 20, delay: () => (n++ % 10 === 9 ? 25 : 2) });
    const r = await runLoad({ vfs, path, rw: 'randread', bs: 4 * KiB, iodepth: 16, ioCount: 400 });
    const l = r.latencyUs;
    assert.equal(l.count, 400);
    assert.ok(l.min <= l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max, JSON.stringify(l));
    // Node's timers may fire up to ~1 ms early against the clock (they start from the loop's cached time).
    assert.ok(l.min >= 900, `min ${l.min}us`);
    assert.ok(l.p50 >= 900 && l.p50 < 15_000, `p50 ${l.p50}us`);
    assert.ok(l.p99 >= 23_000, `p99 ${l.p99}us`);
    assert.ok(l.mean > l.p50, 'the slow tail pulls the mean up');
    assert.equal(r.read.latencyUs.count, 400);
  });

  it('calls progress while running, with growing counts', async () => {
    const { vfs, path } = fakeDisk({ size: 1 << 20, delay: 1 });
    const seen: LoadProgress[] = [];
    const r = await runLoad({ vfs, path, rw: 'randwrite', bs: 4 * KiB, iodepth: 4, runtimeMs: 300, progressIntervalMs: 50, progress: (p) => seen.push(p) });
    assert.equal(r.stopReason, 'runtime');
    assert.ok(r.seconds >= 0.3 && r.seconds < 1.5, String(r.seconds));
    assert.ok(seen.length >= 3, `${seen.length} progress calls`);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.ios >= seen[i - 1]!.ios);
    const last = seen.at(-1)!;
    assert.equal(last.phase, 'run');
    assert.ok(last.iops > 0 && last.bwBytesPerSec > 0 && last.writeIos > 0);
    assert.ok(last.percent! > 0 && last.percent! <= 100);
  });

  it('stops early when aborted and returns the partial result', async () => {
    const { vfs, dev, path } = fakeDisk({ size: 1 << 20, delay: 5 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = performance.now();
    const r = await runLoad({ vfs, path, rw: 'randread', bs: 4 * KiB, iodepth: 4, runtimeMs: 30_000, signal: ac.signal });
    assert.equal(r.stopReason, 'aborted');
    assert.ok(performance.now() - t0 < 2000);
    assert.ok(r.ios > 0);
    assert.equal(r.inflightAbandoned, 0);
    assert.equal(dev.active, 0);
    const pre = new AbortController();
    pre.abort();
    assert.equal((await runLoad({ vfs, path, rw: 'read', bs: 4096, signal: pre.signal })).ios, 0);
  });
});

describe('runLoad: errors and verify', () => {
  it('stops at the first error by default and reports its offset; max-errors 0 keeps going', async () => {
    const failAt = (op: string, pos: number) => (op === 'read' && pos === 40 * KiB ? 'EIO' as const : undefined);
    const { vfs, path } = fakeDisk({ size: 128 * KiB, failAt });
    const r = await runLoad({ vfs, path, rw: 'read', bs: 4 * KiB });
    assert.equal(r.stopReason, 'errors');
    assert.equal(r.errors, 1);
    assert.equal(r.read.errors, 1);
    assert.equal(r.ios, 10);
    assert.deepEqual({ ...r.firstError, message: undefined }, { code: 'EIO', direction: 'read', offset: 40 * KiB, message: undefined });
    assert.match(r.firstError!.message, /EIO: i\/o error, read '\/dev\/fake0' \(at offset 40960\)/);

    const all = await runLoad({ vfs, path, rw: 'read', bs: 4 * KiB, maxErrors: 0 });
    assert.equal(all.stopReason, 'count');
    assert.equal(all.errors, 1);
    assert.equal(all.ios, 31);
  });

  it('verify: a clean device passes; a read-only run re-checks a region written with the same seed', async () => {
    const { vfs, path } = fakeDisk({ size: 256 * KiB });
    const w = await runLoad({ vfs, path, rw: 'randwrite', bs: 4 * KiB, iodepth: 8, ioCount: 200, verify: true, seed: 5 });
    assert.equal(w.verify!.mismatches, 0);
    const distinct = w.verify!.blocksChecked;
    assert.ok(distinct > 30 && distinct <= 64, `read back ${distinct} written blocks`);
    assert.equal(w.verify!.bytesChecked, distinct * 4 * KiB);

    const seq = await runLoad({ vfs, path, rw: 'write', bs: 4 * KiB, verify: true, seed: 5 });
    assert.equal(seq.verify!.blocksChecked, 64);
    const again = await runLoad({ vfs, path, rw: 'randread', bs: 16 * KiB, iodepth: 4, ioCount: 50, verify: true, seed: 5 });
    assert.equal(again.verify!.blocksChecked, 50);
    assert.equal(again.verify!.mismatches, 0);
    const other = await runLoad({ vfs, path, rw: 'read', bs: 4 * KiB, verify: true, seed: 6 });
    assert.equal(other.verify!.mismatches, 64, 'another seed is another pattern');
  });

  it('verify catches a corrupting device and reports the first bad offset', async () => {
    const bad = 100 * KiB + 123;
    const corrupt = (op: string, data: Uint8Array, pos: number) => {
      if (op === 'write' && bad >= pos && bad < pos + data.length) data[bad - pos] ^= 0x01;
    };
    const { vfs, path } = fakeDisk({ size: 256 * KiB, corrupt });
    const r = await runLoad({ vfs, path, rw: 'write', bs: 8 * KiB, iodepth: 4, verify: true });
    const v = r.verify!;
    assert.equal(v.mismatches, 1);
    assert.equal(v.blocksChecked, 32);
    assert.equal(v.firstMismatch!.offset, bad);
    assert.equal(v.firstMismatch!.ioOffset, 96 * KiB);
    assert.equal(v.firstMismatch!.actual, v.firstMismatch!.expected ^ 0x01);
    assert.equal(v.firstMismatch!.phase, 'verify');

    // A mixed run checks reads of blocks it wrote before, during the run.
    const lying = fakeDisk({ size: 64 * KiB, corrupt: (op, data) => { if (op === 'read') data[0] = data[0]! ^ 0xff; } });
    const m = await runLoad({ vfs: lying.vfs, path: lying.path, rw: 'randrw', bs: 4 * KiB, ioCount: 300, verify: true });
    assert.ok(m.verify!.mismatches > 0);
    assert.equal(m.verify!.firstMismatch!.phase, 'run');
    assert.equal(m.verify!.firstMismatch!.offset % (4 * KiB), 0);
  });
});

describe('validateLoadConfig and device checks', () => {
  it('rejects bad combinations with clear messages', () => {
    const base = { path: '/dev/x', rw: 'randread' as const, bs: 4096 };
    assert.throws(() => validateLoadConfig({ ...base, rw: 'sideways' as never }), /rw must be one of read, write, randread/);
    assert.throws(() => validateLoadConfig({ ...base, bs: 0 }), /bs must be an integer from 1 to 1048576/);
    assert.throws(() => validateLoadConfig({ ...base, bs: 2 << 20 }), /bs must be/);
    assert.throws(() => validateLoadConfig({ ...base, iodepth: 0 }), /iodepth must be an integer from 1 to 1024/);
    assert.throws(() => validateLoadConfig({ ...base, rwmixread: 30 }), /rwmixread only applies to readwrite and randrw/);
    assert.throws(() => validateLoadConfig({ ...base, rw: 'randrw', rwmixread: 101 }), /rwmixread must be an integer from 0 to 100/);
    assert.throws(() => validateLoadConfig({ ...base, fsyncEvery: 4 }), /fsync options need a workload with writes/);
    assert.throws(() => validateLoadConfig({ ...base, size: 1000 }), /size \(1000\) is smaller than bs \(4096\)/);
    assert.deepEqual(validateLoadConfig({ ...base, rw: 'randrw' }).rwmixread, 50);
  });

  it('checks the region against the capacity, and needs a size when it is unknown', async () => {
    const { vfs, path } = fakeDisk({ size: 64 * KiB });
    await assert.rejects(runLoad({ vfs, path, rw: 'read', bs: 4096, size: 128 * KiB }), { code: 'EINVAL', message: /beyond the end of \/dev\/fake0 \(capacity 65536 bytes\)/ });
    await assert.rejects(runLoad({ vfs, path: '/dev/nope', rw: 'read', bs: 4096 }), { code: 'ENOENT' });
    assert.equal(vfs.openFds().length, 0);
  });
});
