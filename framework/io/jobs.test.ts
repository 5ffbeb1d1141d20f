import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createIoMethods, parseIoParams } from './control.js';
import type { CopySummary } from './copy.js';
import { fakeDisk } from '../vfs/fake-block.fixture.js';
import { IoJobs, type IoJobStatus } from './jobs.js';
import type { LoadResult } from './loadgen.js';

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'hmio-jobs-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

async function finish(jobs: IoJobs, st: IoJobStatus): Promise<{ final: IoJobStatus; updates: IoJobStatus[] }> {
  const updates: IoJobStatus[] = [];
  let cur = st;
  while (cur.state === 'running') {
    cur = await jobs.status(cur.job, { since: cur.seq, waitMs: 1000 });
    updates.push(cur);
  }
  return { final: cur, updates };
}

describe('IoJobs', () => {
  it('runs a load job; status long-polls progress until the result', async () => {
    const { vfs } = fakeDisk({ size: 1 << 20, delay: 1 });
    const jobs = new IoJobs(vfs, { progressIntervalMs: 40 });
    const st = jobs.start({ mode: 'load', path: '/dev/fake0', rw: 'randread', bs: 4096, iodepth: 4, runtimeMs: 250 });
    assert.equal(st.state, 'running');
    assert.match(st.job, /^io-\d+$/);
    const { final, updates } = await finish(jobs, st);
    assert.equal(final.state, 'done');
    assert.ok(updates.filter((u) => u.state === 'running' && u.progress).length >= 2, 'progress while running');
    for (let i = 1; i < updates.length; i++) assert.ok(updates[i]!.seq > updates[i - 1]!.seq, 'every answer is news');
    const r = final.result as LoadResult;
    assert.equal(r.stopReason, 'runtime');
    assert.ok(r.ios > 0);
    assert.deepEqual(jobs.list().map((j) => j.job), [st.job]);
  });

  it('cancel gives the partial result; a closed owner connection aborts too, unless detached', async () => {
    const { vfs } = fakeDisk({ size: 1 << 20, delay: 2 });
    const jobs = new IoJobs(vfs);
    const st = jobs.start({ mode: 'load', path: '/dev/fake0', rw: 'read', bs: 4096, runtimeMs: 60_000 });
    await new Promise((r) => setTimeout(r, 50));
    jobs.cancel(st.job);
    const { final } = await finish(jobs, st);
    assert.equal((final.result as LoadResult).stopReason, 'aborted');

    const conn = new AbortController();
    const owned = jobs.start({ mode: 'load', path: '/dev/fake0', rw: 'read', bs: 4096, runtimeMs: 60_000 }, { owner: conn.signal });
    const detached = jobs.start({ mode: 'load', path: '/dev/fake0', rw: 'read', bs: 4096, runtimeMs: 300 }, { owner: conn.signal, detach: true });
    conn.abort();
    assert.equal(((await finish(jobs, owned)).final.result as LoadResult).stopReason, 'aborted');
    assert.equal(((await finish(jobs, detached)).final.result as LoadResult).stopReason, 'runtime');
  });

  it('reports failures in the status; rejects bad parameters, unknown jobs and too many jobs at once', async () => {
    const { vfs } = fakeDisk({ size: 1 << 20, delay: 5 });
    const jobs = new IoJobs(vfs, { maxRunning: 1 });
    const bad = jobs.start({ mode: 'load', path: '/dev/nothing', rw: 'read', bs: 4096 });
    const { final } = await finish(jobs, bad);
    assert.equal(final.state, 'failed');
    assert.deepEqual({ ...final.error, message: undefined }, { code: 'ENOENT', errno: -2, syscall: 'stat', path: '/dev/nothing', suggestions: [], message: undefined });
    assert.throws(() => jobs.start({ mode: 'load', path: '/dev/fake0', rw: 'read', bs: 0 }), { code: 'EINVAL', message: /bs must be/ });
    const running = jobs.start({ mode: 'load', path: '/dev/fake0', rw: 'read', bs: 4096, runtimeMs: 5000 });
    assert.throws(() => jobs.start({ mode: 'load', path: '/dev/fake0', rw: 'read', bs: 4096 }), { code: 'EBUSY' });
    jobs.dispose();
    await finish(jobs, running);
    await assert.rejects(jobs.status('io-999'), { code: 'ESRCH', message: "no io job 'io-999'" });
  });
});

describe('control handlers (io, ioStatus, ioCancel)', () => {
  it('parse JSON parameters: sizes and durations as numbers or strings', () => {
    assert.deepEqual(parseIoParams({ path: '/dev/sda', rw: 'randread', bs: '4k', size: '64m', runtimeMs: '10s', iodepth: 32, verify: true }), {
      mode: 'load', path: '/dev/sda', rw: 'randread', bs: 4096, size: 64 << 20, runtimeMs: 10_000, iodepth: 32, verify: true,
    });
    assert.deepEqual(parseIoParams({ mode: 'copy', from: { host: '/tmp/a' }, to: { vfs: '/dev/sda' }, bs: 1 << 20, count: 4, waitMs: 500 }), {
      mode: 'copy', from: { host: '/tmp/a' }, to: { vfs: '/dev/sda' }, bs: 1 << 20, count: 4, waitMs: 500,
    });
    assert.throws(() => parseIoParams({ path: '/dev/sda', rw: 'read' }), /params\.bs: expected the block size/);
    assert.throws(() => parseIoParams({ path: '/dev/sda', rw: 'read', bs: '4q' }), /invalid params\.bs '4q'/);
    assert.throws(() => parseIoParams({ path: '/dev/sda', rw: 'read', bs: 4096, verify: 'yes' }), /params\.verify: expected a boolean/);
    assert.throws(() => parseIoParams({ mode: 'copy', from: '/tmp/a', to: { vfs: '/dev/a' } }), /params\.from: expected \{"vfs": PATH\}/);
    assert.throws(() => parseIoParams({ mode: 'fio' }), /params\.mode/);
  });

  it('a copy job through the handlers, waiting for the end in the io call itself', async () => {
    const { vfs, dev } = fakeDisk({ size: 64 * 1024 });
    dev.data.fill(7);
    const { handlers, jobs } = createIoMethods(vfs);
    const conn = new AbortController();
    const out = join(dir, 'dump.bin');
    const st = await handlers.io({ mode: 'copy', from: { vfs: '/dev/fake0' }, to: { host: out }, bs: '16k', waitMs: 5000 }, conn.signal) as IoJobStatus;
    assert.equal(st.state, 'done');
    assert.equal((st.result as CopySummary).bytes, 64 * 1024);
    assert.deepEqual(await readFile(out), Buffer.alloc(64 * 1024, 7));
    const again = await handlers.ioStatus({ job: st.job }, conn.signal) as IoJobStatus;
    assert.equal(again.seq, st.seq);
    assert.equal((await handlers.ioCancel({ job: st.job }, conn.signal) as IoJobStatus).state, 'done');
    await assert.rejects(handlers.ioStatus({}, conn.signal), { code: 'EINVAL', message: 'params.job: expected a non-empty string' });
    jobs.dispose();
  });
});
