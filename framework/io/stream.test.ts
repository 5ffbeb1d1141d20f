/** The io tools on a stream device (no llseek): the VFS's echo FIFO fixture. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EchoDevice } from '../vfs/fake-devices.fixture.js';
import { Vfs } from '../vfs/vfs.js';
import { copy } from './copy.js';
import { runLoad } from './loadgen.js';

function echoVfs(): { vfs: Vfs; echo: EchoDevice } {
  const vfs = new Vfs();
  const echo = new EchoDevice();
  vfs.mkdirp('/dev');
  vfs.mknod('/dev/echo0', { major: 240, minor: 0, ops: echo });
  return { vfs, echo };
}

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'hmio-stream-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

describe('io on a stream device', () => {
  it('copy host → FIFO → host is byte-exact; draining ends at "nothing more" (EAGAIN)', async () => {
    const { vfs, echo } = echoVfs();
    const data = randomBytes(10_000);
    const src = join(dir, 'src.bin');
    const dst = join(dir, 'dst.bin');
    await writeFile(src, data);
    const w = await copy({ vfs, from: { host: src }, to: { vfs: '/dev/echo0' }, bs: 4096 });
    assert.equal(w.bytes, 10_000);
    assert.equal(echo.pending, 10_000);
    const r = await copy({ vfs, from: { vfs: '/dev/echo0' }, to: { host: dst }, bs: 3000 });
    assert.equal(r.stopReason, 'eof');
    assert.deepEqual(r.recordsIn, { full: 3, partial: 1 });
    assert.deepEqual(await readFile(dst), data);
  });

  it('skip on a stream reads and discards; seek on a stream is ESPIPE', async () => {
    const { vfs } = echoVfs();
    const fh = await vfs.open('/dev/echo0', 'r+');
    await fh.write(Buffer.from('0123456789'));
    const dst = join(dir, 'skip.bin');
    await copy({ vfs, from: { vfs: '/dev/echo0' }, to: { host: dst }, bs: 2, skip: 2 });
    assert.equal((await readFile(dst)).toString(), '456789');
    await assert.rejects(copy({ vfs, from: { host: dst }, to: { vfs: '/dev/echo0' }, bs: 2, seek: 1 }), { code: 'ESPIPE', offset: 0 });
    await fh.close();
  });

  it('loadgen: readwrite with verify checks the byte stream; random modes are ESPIPE', async () => {
    const { vfs } = echoVfs();
    const r = await runLoad({ vfs, path: '/dev/echo0', rw: 'readwrite', bs: 100, ioCount: 400, verify: true });
    assert.equal(r.stream, true);
    assert.equal(r.errors, 0);
    assert.ok(r.read.ios > 100 && r.write.ios > 100);
    assert.equal(r.ios + r.wouldBlock, 400);
    assert.equal(r.verify!.mismatches, 0);
    assert.equal(r.verify!.bytesChecked, r.read.bytes);
    assert.ok(r.read.bytes <= r.write.bytes);
    await assert.rejects(runLoad({ vfs, path: '/dev/echo0', rw: 'randread', bs: 100, ioCount: 1 }), { code: 'ESPIPE', message: /randread needs positioned I\/O/ });
    await assert.rejects(runLoad({ vfs, path: '/dev/echo0', rw: 'read', bs: 100 }), { code: 'EINVAL', message: /is a stream: say when to stop/ });
    await assert.rejects(runLoad({ vfs, path: '/dev/echo0', rw: 'readwrite', bs: 100, iodepth: 2, verify: true, ioCount: 9 }), /needs iodepth 1/);
  });

  it('loadgen: reads of an empty FIFO are would-block, not errors, and never hang', async () => {
    const { vfs } = echoVfs();
    const r = await runLoad({ vfs, path: '/dev/echo0', rw: 'read', bs: 64, iodepth: 4, runtimeMs: 100 });
    assert.equal(r.stopReason, 'runtime');
    assert.equal(r.ios, 0);
    assert.equal(r.errors, 0);
    assert.ok(r.wouldBlock > 0);
  });
});
