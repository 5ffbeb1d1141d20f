import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copy, validateCopyConfig, type CopyProgress } from './copy.js';
import { IoError } from './errors.js';
import { fakeDisk } from '../vfs/fake-block.fixture.js';

const KiB = 1024;
let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'hmio-copy-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

describe('copy between a host file and a VFS block device', () => {
  it('host → device, byte-exact, with dd record counts', async () => {
    const { vfs, dev, path } = fakeDisk({ size: 1 << 20 });
    const data = randomBytes(300 * KiB + 123);
    const file = join(dir, 'in.bin');
    await writeFile(file, data);
    const s = await copy({ vfs, from: { host: file }, to: { vfs: path }, bs: 64 * KiB, fsync: true });
    assert.deepEqual(Buffer.from(dev.data.subarray(0, data.length)), data);
    assert.ok(dev.data.subarray(data.length).every((b) => b === 0), 'nothing past the data');
    assert.equal(s.bytes, data.length);
    assert.deepEqual(s.recordsIn, { full: 4, partial: 1 });
    assert.deepEqual(s.recordsOut, { full: 4, partial: 1 });
    assert.equal(s.stopReason, 'eof');
    assert.equal(s.synced, true);
    assert.equal(dev.syncs, 1);
    assert.equal(s.from, `host:${file}`);
    assert.equal(s.to, '/dev/fake0');
    assert.ok(s.seconds > 0 && s.mbPerSec > 0);
    assert.equal(vfs.openFds().length, 0);
  });

  it('device → host, byte-exact, the whole device (capacity from stat)', async () => {
    const { vfs, dev, path } = fakeDisk({ size: 512 * KiB });
    dev.data.set(randomBytes(dev.data.length));
    const file = join(dir, 'out.bin');
    await writeFile(file, Buffer.alloc(2 << 20, 0xee)); // longer: must be truncated
    const s = await copy({ vfs, from: { vfs: path }, to: { host: file }, bs: 100 * KiB });
    assert.deepEqual(await readFile(file), Buffer.from(dev.data));
    assert.equal(s.bytes, 512 * KiB);
    assert.deepEqual(s.recordsIn, { full: 5, partial: 1 });
  });

  it('bs larger than the VFS per-call maximum still copies whole records', async () => {
    const { vfs, dev, path } = fakeDisk({ size: 4 << 20 });
    dev.data.set(randomBytes(dev.data.length));
    const file = join(dir, 'big.bin');
    const s = await copy({ vfs, from: { vfs: path }, to: { host: file }, bs: 3 << 20 });
    assert.deepEqual(s.recordsIn, { full: 1, partial: 1 });
    assert.deepEqual(await readFile(file), Buffer.from(dev.data));
  });

  it('count, skip and seek are in records, as dd', async () => {
    const { vfs, dev, path } = fakeDisk({ size: 64 * KiB });
    const data = randomBytes(16 * KiB);
    const file = join(dir, 'part.bin');
    await writeFile(file, data);
    const s = await copy({ vfs, from: { host: file }, to: { vfs: path }, bs: 1 * KiB, skip: 2, count: 3, seek: 10 });
    assert.equal(s.bytes, 3 * KiB);
    assert.equal(s.stopReason, 'count');
    assert.deepEqual(Buffer.from(dev.data.subarray(10 * KiB, 13 * KiB)), data.subarray(2 * KiB, 5 * KiB));
    assert.ok(dev.data.subarray(0, 10 * KiB).every((b) => b === 0));
    assert.ok(dev.data.subarray(13 * KiB).every((b) => b === 0));

    const out = join(dir, 'seek.bin');
    await copy({ vfs, from: { vfs: path }, to: { host: out }, bs: 1 * KiB, skip: 10, count: 3, seek: 1 });
    const got = await readFile(out);
    assert.equal(got.length, 4 * KiB);
    assert.deepEqual(got.subarray(1 * KiB), data.subarray(2 * KiB, 5 * KiB));
  });

  it('fails with the offset: a device error, and the end of the device (ENOSPC)', async () => {
    const file = join(dir, 'err.bin');
    await writeFile(file, randomBytes(64 * KiB));
    const failing = fakeDisk({ size: 1 << 20, failAt: (op, pos) => (op === 'write' && pos === 24 * KiB ? 'EIO' : undefined) });
    const err = await copy({ vfs: failing.vfs, from: { host: file }, to: { vfs: failing.path }, bs: 8 * KiB }).catch((e: unknown) => e);
    assert.ok(err instanceof IoError);
    assert.equal(err.code, 'EIO');
    assert.equal(err.offset, 24 * KiB);
    assert.equal(err.path, '/dev/fake0');
    assert.equal(err.syscall, 'write');
    assert.match(err.message, /^EIO: i\/o error, write '\/dev\/fake0' \(at offset 24576\)$/);

    const small = fakeDisk({ size: 20 * KiB });
    await assert.rejects(copy({ vfs: small.vfs, from: { host: file }, to: { vfs: small.path }, bs: 8 * KiB }),
      { code: 'ENOSPC', offset: 20 * KiB, path: '/dev/fake0' });
    assert.deepEqual(Buffer.from(small.dev.data), (await readFile(file)).subarray(0, 20 * KiB), 'filled up to the end');

    const rd = fakeDisk({ size: 64 * KiB, failAt: (op, pos) => (op === 'read' && pos === 16 * KiB ? 'ENODEV' : undefined) });
    await assert.rejects(copy({ vfs: rd.vfs, from: { vfs: rd.path }, to: { host: join(dir, 'x.bin') }, bs: 4 * KiB }),
      { code: 'ENODEV', offset: 16 * KiB, syscall: 'read' });
    await assert.rejects(copy({ vfs: rd.vfs, from: { host: join(dir, 'missing') }, to: { vfs: rd.path } }), { code: 'ENOENT' });
    assert.equal(rd.vfs.openFds().length, 0);
  });

  it('reports progress and can be aborted', async () => {
    const { vfs, path } = fakeDisk({ size: 1 << 20, delay: 2 });
    const seen: CopyProgress[] = [];
    const ac = new AbortController();
    const s = await copy({
      vfs, from: { vfs: path }, to: { host: join(dir, 'slow.bin') }, bs: 4 * KiB, progressIntervalMs: 30, signal: ac.signal,
      progress: (p) => { seen.push(p); if (seen.length === 4) ac.abort(); },
    });
    assert.equal(s.stopReason, 'aborted');
    assert.ok(s.bytes > 0 && s.bytes < 1 << 20);
    assert.equal(seen.length, 4);
    assert.equal(seen[0]!.total, 1 << 20);
    assert.ok(seen[3]!.bytes >= seen[0]!.bytes && seen[3]!.rate > 0 && seen[3]!.avgRate > 0);
  });

  it('validates its options', () => {
    const ends = { from: { vfs: '/dev/a' }, to: { host: '/tmp/b' } };
    assert.deepEqual(validateCopyConfig(ends), { bs: 128 * KiB, count: undefined, skip: 0, seek: 0 });
    assert.throws(() => validateCopyConfig({ ...ends, bs: 0 }), /bs must be an integer >= 1/);
    assert.throws(() => validateCopyConfig({ ...ends, bs: 128 << 20 }), /larger than/);
    assert.throws(() => validateCopyConfig({ ...ends, skip: -1 }), /skip must be/);
    assert.throws(() => validateCopyConfig({ from: { host: 'rel.img' }, to: { vfs: '/dev/a' } }), /must be absolute/);
    assert.throws(() => validateCopyConfig({ from: {} as never, to: { vfs: '/dev/a' } }), /from must be \{"vfs": PATH\} or \{"host": PATH\}/);
  });
});
