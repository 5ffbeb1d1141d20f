/**
 * `hmdrv io`: argument parsing, output formatting and the job session at unit level (with the
 * io handlers in-process over a fake disk), the library against the real platform's
 * /dev/hmecho (a stream device), and the command end to end through the real bin twice, against
 * a ControlServer to which the test adds the io handlers (as the platform will).
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../devices/native/index.js';
import { after, before, describe, it } from 'node:test';
import { bootPlatform } from '../containers/boot.js';
import { ControlServer } from '../framework/control/server.js';
import { createFakeKernel } from '../framework/control/testing/fake-kernel.js';
import { createIoMethods } from '../framework/io/control.js';
import { copy, type CopySummary } from '../framework/io/copy.js';
import { FakeBlockDevice, fakeDisk } from '../framework/vfs/fake-block.fixture.js';
import type { IoJobParams, IoJobStatus } from '../framework/io/jobs.js';
import { runLoad, type LoadResult } from '../framework/io/loadgen.js';
import { buildIoParams } from './lib/io-args.js';
import { formatCopySummary, formatLoadResult, formatProgress } from './lib/io-format.js';
import { runIoJob, type IoCaller } from './lib/io-session.js';
import { ProgressLine } from './lib/progress-line.js';

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'hmio-cli-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

describe('hmdrv io: arguments', () => {
  it('load mode: sizes, durations, defaults', () => {
    assert.deepEqual(buildIoParams('/dev/sda', { rw: 'randread', bs: '4k', iodepth: 32, size: '64m', runtime: '10', verify: true }, '/'), {
      mode: 'load', path: '/dev/sda', rw: 'randread', bs: 4096, iodepth: 32, size: 64 << 20, runtimeMs: 10_000, verify: true,
    });
    assert.deepEqual(buildIoParams('/dev/sda', {}, '/'), { mode: 'load', path: '/dev/sda', rw: 'read', bs: 4096 });
    assert.deepEqual(buildIoParams('/dev/sda', { rw: 'randrw', rwmixread: 70, 'io-count': 100, fsync: 8, 'end-fsync': true, 'max-errors': 0, seed: 3, offset: '1m', direct: true }, '/'), {
      mode: 'load', path: '/dev/sda', rw: 'randrw', bs: 4096, rwmixread: 70, ioCount: 100, fsyncEvery: 8, endFsync: true, maxErrors: 0, seed: 3, offset: 1 << 20, direct: true,
    });
  });

  it('copy mode: --if writes the device, --of reads it; host paths resolve against the cwd', () => {
    assert.deepEqual(buildIoParams('/dev/sda', { if: 'disk.img', bs: '1m', conv: 'fsync,notrunc', seek: 2 }, '/home/me'), {
      mode: 'copy', from: { host: '/home/me/disk.img' }, to: { vfs: '/dev/sda' }, bs: 1 << 20, seek: 2, fsync: true, truncate: false,
    });
    assert.deepEqual(buildIoParams('/dev/sda', { of: '/tmp/dump.img', count: 4, skip: 1, blocking: true }, '/home/me'), {
      mode: 'copy', from: { vfs: '/dev/sda' }, to: { host: '/tmp/dump.img' }, count: 4, skip: 1, blocking: true,
    });
  });

  it('refuses mixed or bad combinations with a message that says what to do', () => {
    const fails = (flags: Parameters<typeof buildIoParams>[1], re: RegExp) => assert.throws(() => buildIoParams('/dev/sda', flags, '/'), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'EINVAL');
      assert.match(e.message, re);
      return true;
    });
    fails({ if: 'a', of: 'b' }, /give --if FILE .* or --of FILE .*, not both/);
    fails({ if: 'a', rw: 'write', iodepth: 4 }, /--rw and --iodepth are load-generator options: not for a copy/);
    fails({ of: 'a', verify: true }, /--verify is a load-generator option/);
    fails({ count: 3, skip: 1 }, /--count and --skip apply to a copy: give --if FILE or --of FILE/);
    fails({ bs: '4q' }, /invalid --bs '4q'/);
    fails({ bs: '2m' }, /--bs must be an integer from 1 to 1048576/);
    fails({ size: '1k', bs: '4k' }, /size \(1024\) is smaller than bs \(4096\)/);
    fails({ rw: 'randread', rwmixread: 50 }, /rwmixread only applies to readwrite and randrw/);
    fails({ runtime: 'soon' }, /invalid --runtime 'soon'/);
    fails({ runtime: '0' }, /--runtime must be more than 0/);
    fails({ of: 'x', conv: 'sparse' }, /unknown --conv 'sparse'/);
    fails({ rw: 'read', fsync: 2 }, /fsync options need a workload with writes/);
  });
});

const latency = { count: 10, min: 12.5, max: 5400, mean: 250.123, stdev: 30.2, p50: 230, p90: 400, p99: 900, p999: 2000 };
const dir0 = { ios: 0, bytes: 0, iops: 0, bwBytesPerSec: 0, mbPerSec: 0, latencyUs: { ...latency, count: 0 }, errors: 0, shortIos: 0 };
const sample: LoadResult = {
  config: { path: '/dev/sda', rw: 'randread', bs: 4096, iodepth: 32, size: 64 << 20, offset: 0, rwmixread: 100, seed: 7, verify: true, direct: false, endFsync: false, maxErrors: 1, runtimeMs: 10_000 },
  stream: false, stopReason: 'runtime', seconds: 10,
  ios: 123_000, bytes: 123_000 * 4096, iops: 12_300, bwBytesPerSec: 50_380_800, mbPerSec: 50.381, latencyUs: latency, errors: 0,
  read: { ios: 123_000, bytes: 123_000 * 4096, iops: 12_300, bwBytesPerSec: 50_380_800, mbPerSec: 50.381, latencyUs: latency, errors: 0, shortIos: 0 },
  write: dir0, syncs: { count: 0, latencyUs: dir0.latencyUs }, wouldBlock: 0, maxInflight: 32, inflightAbandoned: 0,
  verify: { blocksChecked: 123_000, bytesChecked: 123_000 * 4096, mismatches: 2, seconds: 0, errors: 0, firstMismatch: { offset: 8200, expected: 0x3a, actual: 0x3b, ioOffset: 8192, ioLength: 4096, phase: 'run' } },
  latencyPrecision: 1 / 128,
};

describe('hmdrv io: output', () => {
  it('prints a fio-style summary of a load run', () => {
    assert.deepEqual(formatLoadResult(sample), [
      '/dev/sda: rw=randread, bs=4KiB, iodepth=32, size=64MiB, runtime=10.0s, seed=7, verify',
      '  read: IOPS=12.3k, BW=48.0MiB/s (50.4MB/s)(480MiB/10.0s)',
      '    lat (usec): min=12.5, max=5400, avg=250, stdev=30.2',
      '    lat percentiles (usec): 50.00th=[230], 90.00th=[400], 99.00th=[900], 99.90th=[2000]',
      '  total: ios=123000, IOPS=12.3k, BW=48.0MiB/s (50.4MB/s), in flight max=32, errors=0',
      '  verify: 123000 reads (480MiB) checked, 2 mismatched',
      '  verify: first mismatch at offset 8200: expected 0x3a, read 0x3b (read of 4KiB at 8192, during the run)',
    ]);
    const failed = formatLoadResult({ ...sample, verify: undefined, stopReason: 'errors', errors: 1,
      firstError: { code: 'EIO', message: "EIO: i/o error, read '/dev/sda' (at offset 40960)", direction: 'read', offset: 40960 },
      latencyUs: { ...latency, p50: 20_000 }, read: { ...sample.read, latencyUs: { ...latency, p50: 20_000 }, errors: 1 } });
    assert.ok(failed.includes('  read: IOPS=12.3k, BW=48.0MiB/s (50.4MB/s)(480MiB/10.0s), errors=1'));
    assert.ok(failed.includes('    lat (msec): min=0.01, max=5.4, avg=0.25, stdev=0.03'), 'msec for slow devices');
    assert.ok(failed.includes("  first error: EIO: i/o error, read '/dev/sda' (at offset 40960)"));
    assert.equal(failed.at(-1), '  stopped on error after 10.0s');
  });

  it('prints dd-style copy lines and progress lines', () => {
    const s: CopySummary = { from: 'host:/a', to: '/dev/sda', bs: 65536, skip: 0, seek: 0, recordsIn: { full: 4, partial: 1 }, recordsOut: { full: 4, partial: 1 },
      bytes: 307_323, seconds: 0.0123, bytesPerSec: 24_985_609, mbPerSec: 24.986, stopReason: 'eof', synced: false };
    assert.deepEqual(formatCopySummary(s), ['4+1 records in', '4+1 records out', '307323 bytes (307kB, 300KiB) copied, 0.0123 s, 25.0MB/s']);
    const load: IoJobParams = { mode: 'load', path: '/dev/sda', rw: 'randread', bs: 4096 };
    const st = (progress: IoJobStatus['progress']): IoJobStatus => ({ job: 'io-1', mode: 'load', state: 'running', seq: 1, elapsedMs: 0, ...(progress ? { progress } : {}) });
    assert.equal(formatProgress(load, st(undefined)), undefined);
    assert.equal(formatProgress(load, st({ phase: 'run', elapsedMs: 4500, ios: 55_300, bytes: 0, readIos: 55_300, writeIos: 0, errors: 0, iops: 12_300, bwBytesPerSec: 50_380_800, inflight: 32, percent: 45 })),
      'randread /dev/sda: 45.0% 4.50s ios=55.3k 12.3k IOPS 48.0MiB/s (50.4MB/s) in flight=32 errors=0');
    const cp: IoJobParams = { mode: 'copy', from: { vfs: '/dev/sda' }, to: { host: '/x' } };
    assert.equal(formatProgress(cp, { ...st({ bytes: 52_428_800, seconds: 1.02, rate: 52_428_800, avgRate: 51e6, total: 104_857_600 }), mode: 'copy' }),
      '52428800 bytes (52.4MB, 50MiB) (50.0%) copied, 1 s, 52.4MB/s');
  });

  it('progress: one rewritten line on a terminal, periodic lines otherwise', () => {
    const tty = { isTTY: true, columns: 20, text: '', write(s: string) { this.text += s; return true; } };
    const a = new ProgressLine(tty);
    a.update('first');
    a.update('a much longer second line');
    a.done();
    assert.equal(tty.text, '\rfirst\x1b[K\ra much longer secon\x1b[K\r\x1b[K');
    let now = 0;
    const log = { text: '', write(s: string) { this.text += s; return true; } };
    const b = new ProgressLine(log, 2000, () => now);
    for (const t of [0, 500, 1000, 2000, 2500, 4100]) { now = t; b.update(`at ${t}`); }
    b.done();
    assert.equal(log.text, 'at 0\nat 2000\nat 4100\n');
  });
});

/** The io handlers in-process, as the ControlClient would reach them. */
function inProcess(vfs: Parameters<typeof createIoMethods>[0]): IoCaller & { calls: string[] } {
  const { handlers } = createIoMethods(vfs, { progressIntervalMs: 30 });
  const conn = new AbortController();
  const calls: string[] = [];
  return {
    calls,
    call: async (method, params = {}) => {
      calls.push(method);
      const h = (handlers as Record<string, (p: Record<string, unknown>, s: AbortSignal) => Promise<unknown>>)[method];
      if (!h) throw Object.assign(new Error(`unknown method '${method}'`), { code: 'ENOSYS' });
      return JSON.parse(JSON.stringify(await h(params, conn.signal))) as unknown;
    },
  };
}

describe('hmdrv io: job session', () => {
  it('starts, follows progress and returns the result', async () => {
    const { vfs } = fakeDisk({ size: 1 << 20, delay: 1 });
    const c = inProcess(vfs);
    const seen: IoJobStatus[] = [];
    const params = buildIoParams('/dev/fake0', { rw: 'randwrite', iodepth: 4, runtime: '200ms', verify: true }, '/');
    const st = await runIoJob(c, params, { onStatus: (s) => seen.push(s), pollMs: 1000 });
    assert.equal(st.state, 'done');
    const r = st.result as LoadResult;
    assert.equal(r.stopReason, 'runtime');
    assert.equal(r.verify!.mismatches, 0);
    assert.ok(seen.length >= 2 && seen.every((s) => s.progress !== undefined));
    assert.deepEqual([...new Set(c.calls)], ['io', 'ioStatus']);
  });

  it('cancels on the signal (Ctrl-C) and throws a failed job as its error', async () => {
    const { vfs } = fakeDisk({ size: 1 << 20, delay: 2 });
    const c = inProcess(vfs);
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 80);
    const st = await runIoJob(c, buildIoParams('/dev/fake0', { runtime: '60' }, '/'), { signal: stop.signal, pollMs: 500 });
    assert.equal((st.result as LoadResult).stopReason, 'aborted');
    assert.ok(c.calls.includes('ioCancel'));
    await assert.rejects(runIoJob(c, buildIoParams('/dev/missing', {}, '/')), { code: 'ENOENT', message: /stat '\/dev\/missing'/ });
  });
});

describe('io against the real platform (/dev/hmecho, a stream device)', () => {
  it('loads the FIFO with verify, copies through it byte-exact, and refuses random I/O', async () => {
    const k = await bootPlatform({ platform: join(packageRoot(), 'samples', 'platforms', 'echo.platform.json'), watchdogMs: 2000 });
    try {
      const r = await runLoad({ vfs: k.vfs, path: '/dev/hmecho', rw: 'readwrite', bs: 256, ioCount: 300, verify: true });
      assert.equal(r.stream, true);
      assert.equal(r.errors, 0);
      assert.ok(r.read.ios > 50 && r.write.ios > 50, `${r.read.ios} reads, ${r.write.ios} writes`);
      assert.equal(r.verify!.mismatches, 0);
      assert.equal(r.verify!.bytesChecked, r.read.bytes);
      await assert.rejects(runLoad({ vfs: k.vfs, path: '/dev/hmecho', rw: 'randwrite', bs: 256, ioCount: 1 }), { code: 'ESPIPE' });
      // Drain what the load left, then host → FIFO → host (the FIFO holds 4 KiB).
      await copy({ vfs: k.vfs, from: { vfs: '/dev/hmecho' }, to: { host: join(dir, 'drain.bin') } });
      const data = randomBytes(3000);
      const src = join(dir, 'echo-in.bin');
      const dst = join(dir, 'echo-out.bin');
      await writeFile(src, data);
      const w = await copy({ vfs: k.vfs, from: { host: src }, to: { vfs: '/dev/hmecho' }, bs: 1024 });
      assert.equal(w.bytes, 3000);
      const back = await copy({ vfs: k.vfs, from: { vfs: '/dev/hmecho' }, to: { host: dst }, bs: 512 });
      assert.equal(back.stopReason, 'eof');
      assert.deepEqual(await readFile(dst), data);
    } finally {
      await k.shutdown();
    }
  });
});

describe('hmdrv io end to end (the real bin, a server with the io methods added)', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const bin = join(root, 'cli', 'bin', 'run.js');
  const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', HMDRV_SOCKET: '', OCLIF_COLUMNS: '500' };
  const hmdrv = (...args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [bin, ...args], { env, timeout: 20_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });

  it('a verifying load (--json, exit 1 on a corrupting disk) and a copy (dd lines)', async () => {
    const kernel = createFakeKernel();
    const bad = new FakeBlockDevice({ size: 256 * 1024, corrupt: (op, data, pos) => { if (op === 'write' && pos === 65536) data[10] = data[10]! ^ 0xff; } });
    const disk = new FakeBlockDevice({ size: 256 * 1024 });
    kernel.vfs.mknod('/dev/bad0', { major: 8, minor: 0, block: true, ops: bad });
    kernel.vfs.mknod('/dev/disk0', { major: 8, minor: 16, block: true, ops: disk });
    const sock = join(dir, 'control.sock');
    const server = await ControlServer.listen(kernel, sock);
    // What the lead's control method registration will do.
    // The io methods are part of every ControlServer (framework/control/methods.ts).
    try {
      const input = randomBytes(100_000);
      await writeFile(join(dir, 'in.bin'), input);
      const [load, cp] = await Promise.all([
        hmdrv('io', '/dev/bad0', '--rw', 'write', '--bs', '16k', '--iodepth', '4', '--verify', '--json', '--socket', sock),
        hmdrv('io', '/dev/disk0', '--if', join(dir, 'in.bin'), '--bs', '32k', '--socket', sock),
      ]);
      assert.equal(load.code, 1, load.stderr);
      const r = JSON.parse(load.stdout) as LoadResult;
      assert.equal(r.write.ios, 16);
      assert.equal(r.verify!.mismatches, 1);
      assert.equal(r.verify!.firstMismatch!.offset, 65536 + 10);
      assert.equal(cp.code, 0, cp.stderr);
      assert.deepEqual(cp.stdout.split('\n'), ['3+1 records in', '3+1 records out', cp.stdout.split('\n')[2], '']);
      assert.match(cp.stdout, /^100000 bytes \(100kB, 97.7KiB\) copied, [\d.e-]+ s, [\d.]+[kMG]?B\/s$/m);
      assert.deepEqual(Buffer.from(disk.data.subarray(0, 100_000)), input);
    } finally {
      await server.close();
    }
  });
});
