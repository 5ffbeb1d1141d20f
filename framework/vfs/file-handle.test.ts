import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Vfs } from './vfs.js';
import { FileHandle } from './file-handle.js';
import { MemoryDevice } from './fake-devices.fixture.js';

function setup(): { vfs: Vfs; mem: MemoryDevice } {
  const vfs = new Vfs();
  const mem = new MemoryDevice(new SharedArrayBuffer(64));
  mem.memory.set(Buffer.from('0123456789abcdef'));
  vfs.mknod('/mem', { major: 1, minor: 1, ops: mem });
  return { vfs, mem };
}

describe('FileHandle', () => {
  it('read(buffer, offset, length, position) follows fs FileHandle.read', async () => {
    const { vfs } = setup();
    const fh = await vfs.open('/mem', 'r');
    assert.ok(fh instanceof FileHandle);
    assert.equal(fh.path, '/mem');
    const buf = Buffer.alloc(8, '.');
    let r = await fh.read(buf, 2, 3);
    assert.equal(r.bytesRead, 3);
    assert.equal(r.buffer, buf);
    assert.equal(buf.toString(), '..012...');
    r = await fh.read(buf, 0, undefined, null);
    assert.equal(r.bytesRead, 8, 'length defaults to buffer.length - offset');
    assert.equal(buf.toString(), '3456789a');
    r = await fh.read(buf, 4, undefined, 12);
    assert.equal(r.bytesRead, 4);
    assert.equal(buf.toString(), '3456cdef');
    assert.equal(await fh.seek(0, 1), 11, 'a positioned read does not move the position');
    await fh.close();
  });

  it('write accepts buffers and strings with offset, length and position', async () => {
    const { vfs, mem } = setup();
    const fh = await vfs.open('/mem', 'r+');
    assert.deepEqual(await fh.write('hello world', 6, 5), { bytesWritten: 5 });
    assert.equal(Buffer.from(mem.memory.subarray(0, 5)).toString(), 'world');
    assert.deepEqual(await fh.write(Uint8Array.from([65, 66]), 0, 2, 20), { bytesWritten: 2 });
    assert.equal(Buffer.from(mem.memory.subarray(20, 22)).toString(), 'AB');
    assert.equal(await fh.seek(0, 1), 5);
    await assert.rejects(fh.write('abc', 4), { code: 'EINVAL', syscall: 'write' });
    await fh.close();
  });

  it('readFile reads from the position to EOF, as a Buffer or a string', async () => {
    const { vfs } = setup();
    const fh = await vfs.open('/mem', 'r');
    await fh.seek(60);
    const rest = await fh.readFile();
    assert.ok(Buffer.isBuffer(rest));
    assert.equal(rest.length, 4);
    await fh.seek(0);
    assert.equal((await fh.readFile({ encoding: 'latin1' })).slice(0, 4), '0123');
    await fh.close();
  });

  it('a closed handle gives EBADF; closing again does nothing', async () => {
    const { vfs } = setup();
    const fh = await vfs.open('/mem', 'r+');
    await fh.close();
    await fh.close();
    await assert.rejects(fh.read(Buffer.alloc(1)), { code: 'EBADF', syscall: 'read' });
    await assert.rejects(fh.write('x'), { code: 'EBADF', syscall: 'write' });
    await assert.rejects(fh.readFile(), { code: 'EBADF' });
    await assert.rejects(fh.ioctl(1), { code: 'EBADF', syscall: 'ioctl' });
    await assert.rejects(fh.mmap(1), { code: 'EBADF', syscall: 'mmap' });
    await assert.rejects(fh.seek(0), { code: 'EBADF', syscall: 'lseek' });
    await assert.rejects(fh.stat(), { code: 'EBADF', syscall: 'fstat' });
    await assert.rejects(fh.sync(), { code: 'EBADF', syscall: 'fsync' });
  });

  it('a handle whose fd was closed and reused does not touch the new file', async () => {
    const { vfs } = setup();
    vfs.addGeneratedFile('/other', () => 'other');
    const fh = await vfs.open('/mem', 'r');
    await vfs.close(fh.fd);
    const reused = await vfs.open('/other', 'r');
    assert.equal(reused.fd, fh.fd);
    await assert.rejects(fh.read(Buffer.alloc(1)), { code: 'EBADF' });
    await assert.rejects(fh.close(), { code: 'EBADF', syscall: 'close' });
    assert.deepEqual(vfs.openFds(), [reused.fd]);
    assert.equal(await reused.readFile({ encoding: 'utf8' }), 'other');
  });

  it('stat on an open file works after the node is removed', async () => {
    const vfs = new Vfs();
    const reg = vfs.mknod('/gone', { major: 4, minor: 2, ops: new MemoryDevice() });
    const fh = await vfs.open('/gone', 'r');
    await reg.dispose();
    assert.equal(vfs.exists('/gone'), false);
    const st = await fh.stat();
    assert.equal(st.rdev, 0x402);
    assert.equal((await fh.read(Buffer.alloc(2))).bytesRead, 2, 'the open file keeps working');
    await fh.close();
  });
});
