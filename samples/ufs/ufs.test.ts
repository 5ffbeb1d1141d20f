/**
 * The UFS driver end to end, in every isolation class, through /dev and /sys only: bring-up
 * and the disks' sysfs attributes, statistics moving, 256 MiB written with a pattern and read
 * back, flush and FUA, the block ioctls' answers and errnos, discard, and a lost completion
 * that times out.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runLoad } from '../../framework/io/loadgen.js';
import { VerifyPattern } from '../../framework/io/pattern.js';
import { O } from '../../framework/vfs/types.js';
import type { IsolationClass } from '../../framework/platform/types.js';
import {
  BLKDISCARD, BLKFLSBUF, BLKGETSIZE64, BLKPBSZGET, BLKROGET, BLKRRPART, BLKSSZGET, BLKZEROOUT,
} from '../../linux-kapi/block-fops.js';
import { bootUfs, diskStat, sysfs, type UfsRig } from './ufs-rig.testing.js';

const LU0 = 256 << 20;
const BIG = Number(process.env.HMDRV_UFS_TEST_BYTES ?? LU0);

const u64 = (...v: number[]): Uint8Array => {
  const b = new Uint8Array(8 * v.length);
  v.forEach((x, i) => new DataView(b.buffer).setBigUint64(8 * i, BigInt(x), true));
  return b;
};

for (const ic of ['ic0', 'ic1', 'ic2'] as IsolationClass[]) {
  describe(`UFS driver (samples/ufs) in ${ic}`, () => {
    let rig: UfsRig;
    before(async () => { rig = await bootUfs(ic); });
    after(async () => { await rig.dispose(); });

    it('brings the host up and adds one disk per LU, with /sys/block attributes', async () => {
      const { k } = rig;
      const dev = k.devices().find((d) => d.name === 'ufs0')!;
      assert.equal(dev.state, 'bound', dev.error);
      assert.deepEqual(dev.nodes, ['/dev/sda', '/dev/sdb']);
      const st = await k.vfs.stat('/dev/sda');
      assert.ok(st.isBlockDevice());
      assert.equal(st.size, LU0);
      assert.equal(await sysfs(k, '/sys/block/sda/dev'), '8:0');
      assert.equal(await sysfs(k, '/sys/block/sdb/dev'), '8:16');
      assert.equal(await sysfs(k, '/sys/block/sda/size'), String(LU0 / 512));
      assert.equal(await sysfs(k, '/sys/block/sdb/size'), String((16 << 20) / 512));
      assert.equal(await sysfs(k, '/sys/block/sda/ro'), '0');
      assert.equal(await sysfs(k, '/sys/block/sda/removable'), '0');
      const q = (a: string) => sysfs(k, `/sys/block/sda/queue/${a}`);
      assert.equal(await q('logical_block_size'), '4096');
      assert.equal(await q('physical_block_size'), '4096');
      assert.equal(await q('hw_sector_size'), '4096');
      assert.equal(await q('nr_requests'), '31');
      assert.equal(await q('max_hw_sectors_kb'), '1024');
      assert.equal(await q('max_sectors_kb'), '1024');
      assert.equal(await q('rotational'), '0');
      assert.equal(await q('write_cache'), 'write back');
      assert.equal(await q('fua'), '1');
      assert.ok(Number(await q('discard_max_bytes')) > 0, 'UNMAP is advertised as discard');
      assert.equal(await sysfs(k, '/sys/class/block/sda/dev'), '8:0');
      assert.equal(await sysfs(k, '/sys/devices/platform/ufs0/power_info/gear'), 'HS_GEAR4');
      assert.match(k.log.entries().map((e) => e.message).join('\n'), /\[sda\] 65536 4096-byte logical blocks/);
    });

    it('moves /sys/block/sda/stat (reads, writes, flushes) and keeps inflight at rest', async () => {
      const { k } = rig;
      const s0 = await diskStat(k);
      assert.equal(s0.length, 17);
      const fh = await k.vfs.open('/dev/sda', O.RDWR);
      try {
        await fh.write(new Uint8Array(64 << 10).fill(3), 0, 64 << 10, 1 << 20);
        await fh.read(new Uint8Array(128 << 10), 0, 128 << 10, 1 << 20);
        await fh.sync();
      } finally { await fh.close(); }
      const s1 = await diskStat(k);
      assert.ok(s1[0]! >= s0[0]! + 1, 'read I/Os');
      assert.ok(s1[2]! >= s0[2]! + 256, 'read sectors');
      assert.ok(s1[4]! >= s0[4]! + 1, 'write I/Os');
      assert.ok(s1[6]! >= s0[6]! + 128, 'write sectors');
      assert.equal(s1[8], 0, 'in flight');
      assert.ok(s1[15]! >= s0[15]! + 1, 'flush I/Os');
      assert.equal(await sysfs(k, '/sys/block/sda/inflight'), '0        0');
    });

    it(`writes ${BIG >> 20} MiB with a pattern (128 KiB I/Os, 8 in flight) and reads it back`, { timeout: 120_000 }, async () => {
      const r = await runLoad({ vfs: rig.k.vfs, path: '/dev/sda', rw: 'write', bs: 128 << 10, iodepth: 8, size: BIG, verify: true, seed: 0x1c0 + ic.length });
      assert.equal(r.errors, 0, JSON.stringify(r.firstError));
      assert.equal(r.bytes, BIG);
      assert.ok(r.maxInflight > 1);
      assert.equal(r.verify?.mismatches, 0, JSON.stringify(r.verify?.firstMismatch));
      assert.equal(r.verify?.bytesChecked, BIG);
    });

    it('fsync sends a flush (SYNCHRONIZE CACHE); O_DSYNC writes use FUA, not a flush; no cache, no flush', async () => {
      const { k } = rig;
      const flushes = async () => (await diskStat(k))[15]!;
      const f0 = await flushes();
      const fh = await k.vfs.open('/dev/sda', O.RDWR);
      await fh.sync();
      await fh.close();
      assert.equal(await flushes(), f0 + 1);
      const sync = await k.vfs.open('/dev/sda', O.RDWR | O.DSYNC);
      const data = new VerifyPattern(5);
      const buf = new Uint8Array(32 << 10);
      data.fill(buf, 2 << 20);
      assert.equal((await sync.write(buf, 0, buf.length, 2 << 20)).bytesWritten, buf.length);
      await sync.close();
      assert.equal(await flushes(), f0 + 1, 'the device does FUA: no flush needed');
      const back = new Uint8Array(buf.length);
      const rd = await k.vfs.open('/dev/sda', O.RDONLY);
      await rd.read(back, 0, back.length, 2 << 20);
      assert.equal(data.firstMismatch(back, 2 << 20), undefined);
      await k.vfs.writeFile('/sys/block/sda/queue/write_cache', 'write through');
      await rd.sync();
      assert.equal(await flushes(), f0 + 1, 'write-through: fsync has nothing to flush');
      await k.vfs.writeFile('/sys/block/sda/queue/write_cache', 'write back');
      await rd.sync();
      assert.equal(await flushes(), f0 + 2);
      await rd.close();
      await assert.rejects(k.vfs.writeFile('/sys/block/sda/queue/write_cache', 'sometimes'), { code: 'EINVAL' });
    });

    it('answers block ioctls and refuses bad ones, sizes and offsets with the right errno', async () => {
      const { k } = rig;
      const fh = await k.vfs.open('/dev/sda', O.RDWR);
      const ro = await k.vfs.open('/dev/sda', O.RDONLY);
      try {
        const b8 = new Uint8Array(8), b4 = new Uint8Array(4);
        await fh.ioctl(BLKGETSIZE64, b8);
        assert.equal(Number(new DataView(b8.buffer).getBigUint64(0, true)), LU0);
        await fh.ioctl(BLKSSZGET, b4);
        assert.equal(new DataView(b4.buffer).getInt32(0, true), 4096);
        await fh.ioctl(BLKPBSZGET, b4);
        assert.equal(new DataView(b4.buffer).getUint32(0, true), 4096);
        await fh.ioctl(BLKROGET, b4);
        assert.equal(new DataView(b4.buffer).getInt32(0, true), 0);
        await assert.rejects(fh.ioctl(BLKGETSIZE64, new Uint8Array(4)), { code: 'EFAULT' });
        await assert.rejects(fh.ioctl(BLKSSZGET, 0), { code: 'EFAULT' });
        await assert.rejects(fh.ioctl(0x4004_12ff), { code: 'ENOTTY' });
        await assert.rejects(fh.ioctl(BLKRRPART), { code: 'EINVAL' });
        await fh.ioctl(BLKFLSBUF);
        await assert.rejects(fh.ioctl(BLKDISCARD, u64(512, 4096)), { code: 'EINVAL' });
        await assert.rejects(fh.ioctl(BLKDISCARD, u64(0, 0)), { code: 'EINVAL' });
        await assert.rejects(fh.ioctl(BLKDISCARD, u64(LU0 - 4096, 8192)), { code: 'EINVAL' });
        await assert.rejects(fh.ioctl(BLKDISCARD, u64(0)), { code: 'EFAULT' });
        await assert.rejects(ro.ioctl(BLKDISCARD, u64(0, 4096)), { code: 'EBADF' });
        // Discard and zero-out really clear the blocks.
        await fh.write(new Uint8Array(16384).fill(0x77), 0, 16384, 8 << 20);
        await fh.ioctl(BLKDISCARD, u64(8 << 20, 4096));
        await fh.ioctl(BLKZEROOUT, u64((8 << 20) + 8192, 4096));
        const back = new Uint8Array(16384);
        await fh.read(back, 0, back.length, 8 << 20);
        assert.deepEqual([back[0], back[4096], back[8192], back[12288]], [0, 0x77, 0, 0x77]);
        // The end of the disk: EOF for reads, ENOSPC for writes, short I/O across it.
        assert.equal((await fh.read(new Uint8Array(4096), 0, 4096, LU0)).bytesRead, 0);
        assert.equal((await fh.read(new Uint8Array(8192), 0, 8192, LU0 - 4096)).bytesRead, 4096);
        await assert.rejects(fh.write(new Uint8Array(4096), 0, 4096, LU0), { code: 'ENOSPC' });
        assert.equal((await fh.write(new Uint8Array(8192), 0, 8192, LU0 - 4096)).bytesWritten, 4096);
        // Unaligned: read-modify-write, except with O_DIRECT.
        await fh.write(new Uint8Array(3).fill(0xab), 0, 3, (8 << 20) + 4094);
        const rmw = new Uint8Array(6);
        await fh.read(rmw, 0, 6, (8 << 20) + 4093);
        assert.deepEqual([...rmw], [0, 0xab, 0xab, 0xab, 0x77, 0x77]);
        const direct = await k.vfs.open('/dev/sda', O.RDWR | O.DIRECT);
        await assert.rejects(direct.read(new Uint8Array(512), 0, 512, 0), { code: 'EINVAL' });
        await assert.rejects(direct.write(new Uint8Array(4096), 0, 4096, 1024), { code: 'EINVAL' });
        await direct.close();
      } finally {
        await fh.close();
        await ro.close();
      }
    });

    it('a lost completion times out: the read fails with EIO, it is logged, the disk keeps working', async () => {
      const { k } = rig;
      await k.vfs.writeFile('/sys/block/sdb/queue/io_timeout', '200');
      await k.vfs.writeFile('/sys/block/sdb/io-timeout-fail', '1');
      const fh = await k.vfs.open('/dev/sdb', O.RDONLY);
      try {
        await assert.rejects(fh.read(new Uint8Array(4096), 0, 4096, 0), { code: 'EIO' });
        assert.match(k.log.entries().map((e) => e.message).join('\n'), /\[sdb\] tag \d+ sector 0 timed out/);
        assert.equal((await fh.read(new Uint8Array(4096), 0, 4096, 0)).bytesRead, 4096);
      } finally { await fh.close(); }
    });

    it('unbind removes the disks (node and /sys/block), bind brings them back with their data', async () => {
      const { k } = rig;
      const fh = await k.vfs.open('/dev/sda', O.RDWR);
      const p = new VerifyPattern(11);
      const buf = new Uint8Array(64 << 10);
      p.fill(buf, 100 << 20);
      await fh.write(buf, 0, buf.length, 100 << 20);
      await fh.sync();
      await k.unbind('ufs0');
      await assert.rejects(fh.read(new Uint8Array(4096), 0, 4096, 0), { code: 'ENODEV' });
      await fh.close().catch(() => undefined);
      await assert.rejects(k.vfs.stat('/dev/sda'), { code: 'ENOENT' });
      await assert.rejects(k.vfs.stat('/sys/block/sda'), { code: 'ENOENT' });
      await k.bind('ufs0');
      const again = await k.vfs.open('/dev/sda', O.RDONLY);
      try {
        const back = new Uint8Array(buf.length);
        await again.read(back, 0, back.length, 100 << 20);
        assert.equal(p.firstMismatch(back, 100 << 20), undefined);
        assert.equal(await sysfs(k, '/sys/block/sda/size'), String(LU0 / 512));
      } finally { await again.close(); }
    });
  });
}
