import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Vfs } from './vfs.js';
import { POLL } from './types.js';
import { BareDevice, EchoDevice, MemoryDevice } from './fake-devices.fixture.js';

function setup(): { vfs: Vfs; dev: EchoDevice } {
  const vfs = new Vfs();
  const dev = new EchoDevice();
  vfs.mknod('/dev0', { major: 1, minor: 0, ops: dev });
  vfs.addGeneratedFile('/gen', () => 'g');
  return { vfs, dev };
}

describe('fd table', () => {
  it('starts at 3 and reuses the lowest free number', async () => {
    const { vfs } = setup();
    const fds = await Promise.all([1, 2, 3, 4].map(() => vfs.openFd('/dev0', 'r')));
    assert.deepEqual(fds, [3, 4, 5, 6]);
    await vfs.close(4);
    await vfs.close(5);
    assert.deepEqual(vfs.openFds(), [3, 6]);
    assert.equal(await vfs.openFd('/gen', 'r'), 4);
    assert.equal(await vfs.openFd('/gen', 'r'), 5);
    assert.equal(await vfs.openFd('/gen', 'r'), 7);
    assert.deepEqual(vfs.openFds(), [3, 4, 5, 6, 7]);
  });

  it('fds are shared by every caller of the same Vfs (one central table)', async () => {
    const { vfs } = setup();
    const a = await vfs.open('/dev0', 'r');
    const b = await vfs.open('/gen', 'r');
    assert.equal(a.fd, 3);
    assert.equal(b.fd, 4);
    assert.equal(vfs.describeFd(4)?.path, '/gen');
    assert.equal(vfs.describeFd(9), undefined);
  });

  it('calls on a closed or unknown fd fail with EBADF; close of an unknown fd too', async () => {
    const { vfs } = setup();
    const fd = await vfs.openFd('/dev0', 'r+');
    await vfs.close(fd);
    const ebadf = (syscall: string) => ({ code: 'EBADF', errno: -9, syscall, message: `EBADF: bad file descriptor, ${syscall}` });
    await assert.rejects(vfs.read(fd, Buffer.alloc(1)), ebadf('read'));
    await assert.rejects(vfs.write(fd, 'x'), ebadf('write'));
    await assert.rejects(vfs.pread(fd, Buffer.alloc(1), 0), ebadf('read'));
    await assert.rejects(vfs.pwrite(fd, 'x', 0), ebadf('write'));
    await assert.rejects(vfs.ioctl(fd, 1), ebadf('ioctl'));
    await assert.rejects(vfs.mmap(fd, 1), ebadf('mmap'));
    await assert.rejects(vfs.fsync(fd), ebadf('fsync'));
    await assert.rejects(vfs.seek(fd, 0), ebadf('lseek'));
    await assert.rejects(vfs.fstat(fd), ebadf('fstat'));
    await assert.rejects(vfs.close(fd), ebadf('close'));
    await assert.rejects(vfs.close(0), ebadf('close'));
  });

  it('release runs once, when the last fd of the description closes (dup)', async () => {
    const { vfs, dev } = setup();
    const fd = await vfs.openFd('/dev0', 'r');
    const copy = vfs.dup(fd);
    assert.equal(copy, 4);
    assert.equal(vfs.describeFd(copy), vfs.describeFd(fd), 'same open file description');
    await vfs.close(fd);
    assert.equal(dev.released.length, 0);
    await vfs.close(copy);
    assert.equal(dev.released.length, 1);
    assert.throws(() => vfs.dup(fd), { code: 'EBADF', syscall: 'dup' });
  });

  it('closeAll closes every fd', async () => {
    const { vfs, dev } = setup();
    await vfs.openFd('/dev0', 'r');
    await vfs.openFd('/dev0', 'r');
    await vfs.openFd('/gen', 'r');
    await vfs.closeAll();
    assert.deepEqual(vfs.openFds(), []);
    assert.equal(dev.released.length, 2);
  });
});

describe('revokeOpenFiles', () => {
  it('makes every call on the open files of those ops fail with the code; close still works without release', async () => {
    const vfs = new Vfs();
    const mem = new MemoryDevice();
    const other = new BareDevice();
    vfs.mknod('/mem0', { major: 1, minor: 0, ops: mem });
    vfs.mknod('/mem0-alias', { major: 1, minor: 0, ops: mem });
    vfs.mknod('/other', { major: 1, minor: 1, ops: other });
    const a = await vfs.openFd('/mem0', 'r+');
    const b = await vfs.openFd('/mem0-alias', 'r');
    const c = await vfs.openFd('/other', 'r');
    assert.equal(vfs.revokeOpenFiles(mem, 'ENODEV'), 2);
    assert.equal(vfs.revokeOpenFiles(mem, 'ENODEV'), 0, 'already revoked');
    const gone = (syscall: string) => ({ code: 'ENODEV', errno: -19, syscall, path: '/mem0' });
    await assert.rejects(vfs.read(a, Buffer.alloc(1)), gone('read'));
    await assert.rejects(vfs.write(a, 'x'), gone('write'));
    await assert.rejects(vfs.pread(a, Buffer.alloc(1), 0), gone('read'));
    await assert.rejects(vfs.ioctl(a, 1), gone('ioctl'));
    await assert.rejects(vfs.mmap(a, 16), gone('mmap'));
    await assert.rejects(vfs.fsync(a), gone('fsync'));
    await assert.rejects(vfs.seek(a, 0), gone('lseek'));
    assert.deepEqual(await vfs.poll([{ fd: a, events: POLL.IN }], 0), [{ fd: a, revents: POLL.ERR | POLL.HUP }]);
    await assert.rejects(vfs.read(b, Buffer.alloc(1)), { code: 'ENODEV', path: '/mem0-alias' });
    assert.equal(await vfs.read(c, Buffer.alloc(1)).catch((e: { code: string }) => e.code), 'EINVAL', 'other ops unaffected');
    await vfs.close(a);
    await vfs.close(b);
    assert.deepEqual(mem.calls, ['open', 'open'], 'no release for revoked files');
    // The node still opens (the device decides): a fresh open file is not revoked.
    const d = await vfs.openFd('/mem0', 'r');
    assert.equal(await vfs.read(d, Buffer.alloc(4)), 4);
  });

  it('EIO after a crash; a call already waiting in the device is not cut short by the VFS', async () => {
    const vfs = new Vfs();
    const echo = new EchoDevice();
    vfs.mknod('/echo', { major: 1, minor: 0, ops: echo });
    const fd = await vfs.openFd('/echo', 'r+');
    const w = await vfs.openFd('/echo', 'w');
    const waiting = vfs.read(fd, Buffer.alloc(4));
    await new Promise((r) => setImmediate(r));
    assert.equal(vfs.revokeOpenFiles(echo, 'EIO'), 2);
    await assert.rejects(vfs.write(w, 'x'), { code: 'EIO', errno: -5, syscall: 'write', path: '/echo' });
    await assert.rejects(vfs.read(fd, Buffer.alloc(1)), { code: 'EIO', syscall: 'read', path: '/echo' });
    // The call inside the device ends as the device (or its supervisor) ends it.
    await echo.write(echo.opened[0]!, Buffer.from('done'), 0);
    assert.equal(await waiting, 4);
    await vfs.close(fd);
    await vfs.close(w);
    assert.equal(echo.released.length, 0);
  });

  it('revokes a file whose device open() is still running', async () => {
    const vfs = new Vfs();
    let finishOpen: () => void = () => undefined;
    let releases = 0;
    const slow = {
      open: () => new Promise<void>((r) => { finishOpen = r; }),
      release: async () => { releases++; },
    };
    vfs.mknod('/slow', { major: 1, minor: 0, ops: slow });
    const opening = vfs.open('/slow');
    await new Promise((r) => setImmediate(r));
    assert.equal(vfs.revokeOpenFiles(slow, 'ENODEV'), 1);
    finishOpen();
    await assert.rejects(opening, { code: 'ENODEV', syscall: 'open', path: '/slow' });
    assert.deepEqual(vfs.openFds(), []);
    assert.equal(releases, 0);
  });
});
