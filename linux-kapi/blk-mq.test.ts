/**
 * The block layer without hardware: a RAM disk driver (completions delayed and out of order)
 * behind blk-mq, driven through the disk node's file operations as the kernel calls them.
 * Splitting to the limits, queue depth, requeue, timeouts (with and without a handler), the
 * flush policy, read-modify-write, the ioctls' errnos and the sysfs statistics.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AttributeSpec, DeviceHandle, DriverEnv, DriverFile, DriverFileOps, NodeSpec, UserArg } from '../framework/driver-port.js';
import { setDriverEnv } from './kernel.js';
import { Device } from './device.js';
import {
  BLK_EH_DONE, BLK_EH_RESET_TIMER, blk_execute_rq, blk_mq_alloc_request, blk_mq_alloc_tag_set, blk_mq_free_request, BLK_MQ_REQ_NOWAIT, blk_mq_complete_request, blk_mq_end_request, blk_mq_free_tag_set,
  blk_mq_start_request, blk_rq_bytes, blk_rq_map_sg, blk_rq_pos, blk_should_fake_timeout, req_op, rq_for_each_segment,
  type BlkMqTagSet, type Request,
} from './blk-mq.js';
import {
  BLK_STS_OK, BLK_STS_RESOURCE, bvec_virt, REQ_FUA, REQ_OP_DISCARD, REQ_OP_DRV_IN, REQ_OP_FLUSH, REQ_OP_READ, REQ_OP_WRITE,
} from './blk_types.js';
import { BLK_FEAT_FUA, BLK_FEAT_WRITE_CACHE } from './blkdev.js';
import { blk_mq_alloc_disk, del_gendisk, device_add_disk, put_disk, set_capacity, type Gendisk } from './genhd.js';
import {
  BLKDISCARD, BLKFLSBUF, BLKGETSIZE64, BLKPBSZGET, BLKROGET, BLKROSET, BLKSSZGET, BLKZEROOUT,
} from './block-fops.js';
import { sg_init_table, sg_virt, type Scatterlist } from './scatterlist.js';

const O_RDONLY = 0, O_RDWR = 2, O_DSYNC = 0o10000, O_DIRECT = 0o40000;
const SIZE = 8 << 20;

interface Rig {
  disk: Gendisk;
  set: BlkMqTagSet;
  ops: DriverFileOps;
  attrs: Map<string, AttributeSpec>;
  node: NodeSpec;
  store: Uint8Array;
  log: string[];
  seen: { op: number; pos: number; bytes: number; flags: number; segs: number }[];
  maxInflight: number;
  /** Completions held back by the test (never completed unless released). */
  held: Request[];
  behaviour: { hold?: (rq: Request) => boolean; busy?: () => boolean };
}

async function rig(o: { depth?: number; lim?: Record<string, number>; timeoutOp?: 'done' | 'reset' | 'complete'; timeoutMs?: number } = {}): Promise<Rig> {
  const log: string[] = [];
  const attrs = new Map<string, AttributeSpec>();
  let node: NodeSpec | undefined, fops: DriverFileOps | undefined;
  let id = 1;
  const env = {
    isolation: 'ic0', mmio: null,
    log: (_l: number, m: string) => { log.push(m); },
    reportFault: (e: unknown) => { log.push(`FAULT ${String(e)}`); },
    registerNode: async (_b: number, spec: NodeSpec, ops: DriverFileOps) => { node = spec; fops = ops; return { node: id++, major: spec.major, minor: spec.minor }; },
    unregisterNode: async () => undefined,
    addAttribute: async (_b: number, spec: AttributeSpec) => { attrs.set(`${spec.dir}/${spec.name}`, spec); return id++; },
    removeAttribute: async () => undefined,
  } as unknown as DriverEnv;
  setDriverEnv(env);
  const dev = new Device(env, { binding: 1, spec: { name: 'ram0', compatible: [], reg: [], interrupts: [], properties: {} }, params: {} } as DeviceHandle, 'ram0');
  const store = new Uint8Array(SIZE);
  const r = { log, attrs, store, seen: [], maxInflight: 0, held: [], behaviour: {} } as unknown as Rig;
  let inflight = 0;
  const sgl: Scatterlist[] = [];
  sg_init_table(sgl, 4);
  const set: BlkMqTagSet = {
    nr_hw_queues: 1, queue_depth: o.depth ?? 8, cmd_size: 16, timeout: o.timeoutMs,
    ops: {
      queue_rq(_h, bd) {
        const rq = bd.rq;
        if (r.behaviour.busy?.()) return BLK_STS_RESOURCE;
        blk_mq_start_request(rq);
        const segs = blk_rq_map_sg(rq.q!, rq, sgl);
        r.seen.push({ op: req_op(rq), pos: blk_rq_pos(rq), bytes: blk_rq_bytes(rq), flags: rq.cmd_flags, segs });
        inflight++;
        r.maxInflight = Math.max(r.maxInflight, inflight);
        // Later requests may complete first: a random delay per request.
        setTimeout(() => {
          if (r.behaviour.hold?.(rq)) { r.held.push(rq); return; }
          inflight--;
          if (!blk_should_fake_timeout(rq.q)) blk_mq_complete_request(rq);
        }, Math.floor(Math.random() * 3));
        return BLK_STS_OK;
      },
      complete(rq) {
        const pos = blk_rq_pos(rq) * 512;
        let at = pos;
        rq_for_each_segment(rq, (bv) => {
          const v = bvec_virt(bv);
          if (req_op(rq) === REQ_OP_READ) v.set(store.subarray(at, at + v.length));
          else if (req_op(rq) === REQ_OP_WRITE) store.set(v, at);
          at += v.length;
        });
        if (req_op(rq) === REQ_OP_DISCARD) store.fill(0, pos, pos + blk_rq_bytes(rq));
        blk_mq_end_request(rq, BLK_STS_OK);
      },
      timeout: o.timeoutOp === undefined ? undefined : (rq) => {
        log.push(`timeout tag ${rq.tag}`);
        if (o.timeoutOp === 'reset') return BLK_EH_RESET_TIMER;
        if (o.timeoutOp === 'complete') { inflight--; blk_mq_end_request(rq, 10 /* IOERR */); }
        return BLK_EH_DONE;
      },
    },
  };
  assert.equal(blk_mq_alloc_tag_set(set), 0);
  const disk = blk_mq_alloc_disk(set, { logical_block_size: 4096, features: BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA, max_hw_discard_sectors: 1 << 16, ...(o.lim ?? {}) }, null);
  assert.ok(typeof disk !== 'number');
  disk.disk_name = 'ram0';
  disk.major = 8;
  set_capacity(disk, SIZE / 512);
  assert.equal(await device_add_disk(dev, disk, null), 0);
  return Object.assign(r, { disk, set, ops: fops!, node: node! });
}

let files = 1;
const file = (flags = O_RDWR, uid = 0): DriverFile => ({ id: files++, flags, cred: { uid, gid: 0 } });
const arg = (buf: Uint8Array | null, value = 0): UserArg => ({ value, in: buf, out: null });

async function pread(r: Rig, f: DriverFile, len: number, pos: number): Promise<Uint8Array | number> {
  return r.ops.read!(f, len, { value: pos });
}
async function pwrite(r: Rig, f: DriverFile, data: Uint8Array, pos: number): Promise<number> {
  return r.ops.write!(f, data, { value: pos });
}
const show = async (r: Rig, path: string): Promise<string> => String(await r.attrs.get(path)!.show!());

async function teardown(r: Rig): Promise<void> {
  await del_gendisk(r.disk);
  put_disk(r.disk);
  blk_mq_free_tag_set(r.set);
}

describe('blk-mq block layer (RAM disk driver)', () => {
  // The block layer's timeout timers do not keep a process alive (a kernel has other things that
  // do); this test has nothing else, so it keeps the event loop going itself.
  let keepAlive: NodeJS.Timeout;
  before(() => { keepAlive = setInterval(() => undefined, 1000); });
  after(() => clearInterval(keepAlive));
  beforeEach(() => { files = 1; });

  it('registers /dev/<disk> as a block node with its size, and /sys/block attributes', async () => {
    const r = await rig();
    assert.equal(r.node.path, '/dev/ram0');
    assert.equal(r.node.kind, 'blk');
    assert.equal(r.node.className, 'block');
    assert.equal(r.node.size, SIZE);
    assert.equal(await show(r, 'block/ram0/size'), `${SIZE / 512}\n`);
    assert.equal(await show(r, 'block/ram0/queue/logical_block_size'), '4096\n');
    assert.equal(await show(r, 'block/ram0/queue/hw_sector_size'), '4096\n');
    assert.equal(await show(r, 'block/ram0/queue/write_cache'), 'write back\n');
    assert.equal(await show(r, 'block/ram0/queue/fua'), '1\n');
    assert.equal(await show(r, 'block/ram0/queue/rotational'), '0\n');
    assert.equal((await show(r, 'block/ram0/stat')).split(/\s+/).filter(Boolean).length, 17);
    await teardown(r);
  });

  it('reads back what it wrote, splitting large I/O to max_sectors with several requests in flight', async () => {
    const r = await rig({ lim: { max_hw_sectors: 64 } }); // 32 KiB per request
    const f = file();
    const data = new Uint8Array(128 << 10).map((_, i) => (i * 7 + 3) & 0xff);
    assert.equal(await pwrite(r, f, data, 64 << 10), data.length);
    assert.equal(r.seen.filter((s) => s.op === REQ_OP_WRITE).length, 4);
    assert.ok(r.seen.every((s) => s.bytes <= 32 << 10));
    const back = await pread(r, f, data.length, 64 << 10);
    assert.ok(back instanceof Uint8Array);
    assert.ok(Buffer.from(back).equals(data), 'read back differs');
    // Concurrent readers: more than one request in the driver at once, never more than the depth.
    await Promise.all(Array.from({ length: 32 }, (_, i) => pread(r, f, 4096, i * 4096)));
    assert.ok(r.maxInflight > 1 && r.maxInflight <= 8, `max in flight ${r.maxInflight}`);
    await teardown(r);
  });

  it('splits to max_segments x max_segment_size and maps each request to that many segments', async () => {
    const r = await rig({ lim: { max_segments: 2, max_segment_size: 8192, max_hw_sectors: 2048 } });
    const data = new Uint8Array(64 << 10).fill(9);
    assert.equal(await pwrite(r, file(), data, 0), data.length);
    const w = r.seen.filter((s) => s.op === REQ_OP_WRITE);
    assert.equal(w.length, 4);
    assert.ok(w.every((s) => s.segs === 2 && s.bytes === 16384), JSON.stringify(w));
    await teardown(r);
  });

  it('EOF and ENOSPC at the end, short I/O across it, EPERM when read-only', async () => {
    const r = await rig();
    const f = file();
    assert.equal((await pread(r, f, 4096, SIZE) as Uint8Array).length, 0);
    assert.equal((await pread(r, f, 8192, SIZE - 4096) as Uint8Array).length, 4096);
    assert.equal(await pwrite(r, f, new Uint8Array(4096), SIZE), -28);
    assert.equal(await pwrite(r, f, new Uint8Array(8192), SIZE - 4096), 4096);
    assert.equal(await pwrite(r, f, new Uint8Array(0), SIZE), 0);
    const on = new Uint8Array(4);
    new DataView(on.buffer).setInt32(0, 1, true);
    assert.equal(await r.ops.ioctl!(f, BLKROSET, arg(on)), 0);
    assert.equal(await pwrite(r, f, new Uint8Array(4096), 0), -1);
    const a = arg(new Uint8Array(4));
    assert.equal(await r.ops.ioctl!(f, BLKROGET, a), 0);
    assert.equal(new DataView(a.out!.buffer).getInt32(0, true), 1);
    assert.equal(await show(r, 'block/ram0/ro'), '1\n');
    await teardown(r);
  });

  it('does read-modify-write for unaligned I/O, and refuses it with O_DIRECT', async () => {
    const r = await rig();
    const f = file();
    await pwrite(r, f, new Uint8Array(16384).fill(0xaa), 0);
    assert.equal(await pwrite(r, f, new Uint8Array(5000).fill(0x55), 100), 5000);
    const back = await pread(r, f, 16384, 0) as Uint8Array;
    assert.equal(back[99], 0xaa);
    assert.equal(back[100], 0x55);
    assert.equal(back[5099], 0x55);
    assert.equal(back[5100], 0xaa);
    const mid = await pread(r, f, 10, 95) as Uint8Array;
    assert.deepEqual([...mid], [0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0x55, 0x55, 0x55, 0x55, 0x55]);
    const d = file(O_RDWR | O_DIRECT);
    assert.equal(await pread(r, d, 100, 0), -22);
    assert.equal(await pwrite(r, d, new Uint8Array(4096), 512), -22);
    assert.ok(await pread(r, d, 4096, 4096) instanceof Uint8Array);
    await teardown(r);
  });

  it('fsync sends REQ_OP_FLUSH; O_DSYNC writes carry REQ_FUA; no cache means no flush', async () => {
    const r = await rig();
    assert.equal(await r.ops.fsync!(file()), 0);
    assert.ok(r.seen.some((s) => s.op === REQ_OP_FLUSH));
    await pwrite(r, file(O_RDWR | O_DSYNC), new Uint8Array(4096), 0);
    assert.ok(r.seen.some((s) => s.op === REQ_OP_WRITE && (s.flags & REQ_FUA) !== 0));
    const stat = (await show(r, 'block/ram0/stat')).trim().split(/\s+/).map(Number);
    assert.equal(stat[15], 1, 'one flush counted');
    await teardown(r);
    const nofua = await rig({ lim: { features: BLK_FEAT_WRITE_CACHE } });
    await pwrite(nofua, file(O_RDWR | O_DSYNC), new Uint8Array(4096), 0);
    assert.deepEqual(nofua.seen.map((s) => s.op), [REQ_OP_WRITE, REQ_OP_FLUSH], 'FUA emulated by a post-flush');
    await teardown(nofua);
    const wt = await rig({ lim: { features: 0 } });
    assert.equal(await wt.ops.fsync!(file()), 0);
    await pwrite(wt, file(O_RDWR | O_DSYNC), new Uint8Array(4096), 0);
    assert.ok(wt.seen.every((s) => s.op !== REQ_OP_FLUSH && !(s.flags & REQ_FUA)));
    assert.equal(await show(wt, 'block/ram0/queue/write_cache'), 'write through\n');
    await teardown(wt);
  });

  it('answers the block ioctls, with EFAULT/EINVAL/EBADF/EACCES/ENOTTY for bad use', async () => {
    const r = await rig();
    const f = file();
    const a8 = arg(new Uint8Array(8));
    assert.equal(await r.ops.ioctl!(f, BLKGETSIZE64, a8), 0);
    assert.equal(Number(new DataView(a8.out!.buffer).getBigUint64(0, true)), SIZE);
    const a4 = arg(new Uint8Array(4));
    assert.equal(await r.ops.ioctl!(f, BLKSSZGET, a4), 0);
    assert.equal(new DataView(a4.out!.buffer).getInt32(0, true), 4096);
    assert.equal(await r.ops.ioctl!(f, BLKPBSZGET, a4), 0);
    assert.equal(await r.ops.ioctl!(f, BLKGETSIZE64, arg(new Uint8Array(4))), -14, 'buffer too small');
    assert.equal(await r.ops.ioctl!(f, BLKSSZGET, arg(null, 0)), -14, 'no buffer');
    assert.equal(await r.ops.ioctl!(f, 0x12345678, arg(null)), -25);
    assert.equal(await r.ops.ioctl!(file(O_RDWR, 1000), BLKFLSBUF, arg(null)), -13);
    assert.equal(await r.ops.ioctl!(f, BLKFLSBUF, arg(null)), 0);
    const range = (start: number, len: number) => {
      const b = new Uint8Array(16);
      new DataView(b.buffer).setBigUint64(0, BigInt(start), true);
      new DataView(b.buffer).setBigUint64(8, BigInt(len), true);
      return arg(b);
    };
    await pwrite(r, f, new Uint8Array(8192).fill(1), 0);
    assert.equal(await r.ops.ioctl!(f, BLKDISCARD, range(0, 4096)), 0);
    assert.equal((await pread(r, f, 8192, 0) as Uint8Array)[0], 0);
    assert.equal((await pread(r, f, 8192, 0) as Uint8Array)[4096], 1);
    assert.equal(await r.ops.ioctl!(f, BLKDISCARD, range(512, 4096)), -22, 'unaligned start');
    assert.equal(await r.ops.ioctl!(f, BLKDISCARD, range(0, 0)), -22, 'empty');
    assert.equal(await r.ops.ioctl!(f, BLKDISCARD, range(SIZE - 4096, 8192)), -22, 'past the end');
    assert.equal(await r.ops.ioctl!(f, BLKDISCARD, arg(new Uint8Array(8))), -14, 'short range');
    assert.equal(await r.ops.ioctl!(file(O_RDONLY), BLKDISCARD, range(0, 4096)), -9, 'read-only file');
    assert.equal(await r.ops.ioctl!(f, BLKZEROOUT, range(4096, 4096)), 0);
    assert.equal((await pread(r, f, 8192, 0) as Uint8Array)[4096], 0);
    await teardown(r);
  });

  it('requeues on BLK_STS_RESOURCE and dispatches again', async () => {
    const r = await rig();
    let busy = 3;
    r.behaviour.busy = () => busy-- > 0;
    const got = await pread(r, file(), 4096, 0);
    assert.ok(got instanceof Uint8Array);
    assert.equal(busy, -1);
    await teardown(r);
  });

  it('fails a request the driver never completes (no timeout handler) with EIO, keeping its tag', async () => {
    const r = await rig({ timeoutMs: 50, depth: 2 });
    let holdNext = true;
    r.behaviour.hold = () => { const h = holdNext; holdNext = false; return h; };
    const t0 = performance.now();
    assert.equal(await pread(r, file(), 4096, 0), -5);
    assert.ok(performance.now() - t0 >= 40);
    assert.ok(r.log.some((l) => /timed out/.test(l)), r.log.join('\n'));
    // Its tag stays with the driver: the other one still serves I/O.
    assert.ok(await pread(r, file(), 4096, 4096) instanceof Uint8Array);
    assert.equal(r.held.length, 1);
    blk_mq_end_request(r.held[0]!, BLK_STS_OK); // the late completion frees the tag, answers nobody
    assert.ok(await pread(r, file(), 4096, 0) instanceof Uint8Array);
    const direct = file(O_RDONLY | O_DIRECT);
    holdNext = true;
    assert.equal(await pread(r, direct, 4096, 0), -110, 'O_DIRECT reports ETIMEDOUT');
    await teardown(r);
  });

  it('calls the timeout handler, honours BLK_EH_RESET_TIMER a few times, and its completion', async () => {
    const r = await rig({ timeoutMs: 30, timeoutOp: 'complete' });
    r.behaviour.hold = () => true;
    assert.equal(await pread(r, file(), 4096, 0), -5);
    assert.ok(r.log.some((l) => /timeout tag/.test(l)));
    await teardown(r);
    const reset = await rig({ timeoutMs: 20, timeoutOp: 'reset' });
    reset.behaviour.hold = () => true;
    assert.equal(await pread(reset, file(), 4096, 0), -5);
    assert.equal(reset.log.filter((l) => /timeout tag/.test(l)).length, 3);
    await teardown(reset);
  });

  it('io-timeout-fail loses completions, so they time out', async () => {
    const r = await rig({ timeoutMs: 30 });
    assert.equal(await r.attrs.get('block/ram0/io-timeout-fail')!.store!('1'), 0);
    assert.equal(await pread(r, file(), 4096, 0), -5);
    assert.ok(await pread(r, file(), 4096, 0) instanceof Uint8Array);
    assert.equal(await r.attrs.get('block/ram0/io-timeout-fail')!.store!('x'), -22);
    await teardown(r);
  });

  it('counts I/O in stat and inflight (Linux field order)', async () => {
    const r = await rig();
    const f = file();
    await pwrite(r, f, new Uint8Array(8192), 0);
    await pread(r, f, 4096, 0);
    await pread(r, f, 4096, 4096);
    const s = (await show(r, 'block/ram0/stat')).trim().split(/\s+/).map(Number);
    assert.equal(s[0], 2, 'read I/Os');
    assert.equal(s[2], 16, 'read sectors');
    assert.equal(s[4], 1, 'write I/Os');
    assert.equal(s[6], 16, 'write sectors');
    assert.equal(s[8], 0, 'in flight');
    assert.equal(await show(r, 'block/ram0/inflight'), '       0        0\n');
    // max_sectors_kb checks its input.
    const store = r.attrs.get('block/ram0/queue/max_sectors_kb')!.store!;
    assert.equal(await store('1'), -22);
    assert.equal(await store('64'), 0);
    assert.equal(await show(r, 'block/ram0/queue/max_sectors_kb'), '64\n');
    await teardown(r);
  });

  it('fails bios submitted after del_gendisk and waiting bios at del_gendisk', async () => {
    const r = await rig({ depth: 1, timeoutMs: 200 });
    let release: (() => void) | undefined;
    r.behaviour.hold = (rq) => { release = () => { blk_mq_complete_request(rq); }; return true; };
    const first = pread(r, file(), 4096, 0);
    await new Promise((res) => setTimeout(res, 5));
    const waiting = pread(r, file(), 4096, 4096); // no tag left: waits
    const del = del_gendisk(r.disk);
    assert.equal(await waiting, -5);
    release!();
    assert.ok(await first instanceof Uint8Array);
    await del;
    assert.equal(await r.ops.open!(file()), -6);
    put_disk(r.disk);
    blk_mq_free_tag_set(r.set);
  });

  it('runs passthrough requests (blk_mq_alloc_request + blk_execute_rq), NOWAIT gives EAGAIN without a tag', async () => {
    const r = await rig({ depth: 1 });
    const rq = await blk_mq_alloc_request(r.disk.queue, REQ_OP_DRV_IN);
    assert.ok(typeof rq !== 'number');
    assert.equal(await blk_mq_alloc_request(r.disk.queue, REQ_OP_DRV_IN, BLK_MQ_REQ_NOWAIT), -11);
    assert.equal(await blk_execute_rq(rq, false), BLK_STS_OK);
    assert.ok(r.seen.some((s) => s.op === REQ_OP_DRV_IN));
    const again = await blk_mq_alloc_request(r.disk.queue, REQ_OP_DRV_IN, BLK_MQ_REQ_NOWAIT);
    assert.ok(typeof again !== 'number', 'the tag came back');
    blk_mq_free_request(again);
    await teardown(r);
  });

  it('maps a request to scatterlist entries covering its bytes', async () => {
    const r = await rig();
    const data = new Uint8Array(12288).map((_, i) => i & 0xff);
    let bytes: number[] = [];
    const orig = r.set.ops.queue_rq;
    r.set.ops.queue_rq = (h, bd) => {
      const sgl: Scatterlist[] = [];
      const n = blk_rq_map_sg(bd.rq.q!, bd.rq, sgl);
      bytes = sgl.slice(0, n).flatMap((sg) => [...sg_virt(sg)]);
      return orig(h, bd);
    };
    await pwrite(r, file(), data, 0);
    assert.deepEqual(bytes, [...data]);
    await teardown(r);
  });
});
