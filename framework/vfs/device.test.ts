import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SystemError } from '../errors/hm-error.js';
import { Vfs } from './vfs.js';
import { O, POLL, type DeviceFileOperations } from './types.js';
import {
  BareDevice, ECHO_IOC_CRASH, ECHO_IOC_GETID, ECHO_IOC_NEGATIVE, ECHO_IOC_PENDING, ECHO_IOC_SYSERR,
  EchoDevice, MemoryDevice,
} from './fake-devices.fixture.js';

function withEcho(): { vfs: Vfs; echo: EchoDevice } {
  const vfs = new Vfs();
  vfs.mkdir('/dev');
  const echo = new EchoDevice(() => vfs.notifyPoll('/dev/echo'));
  vfs.mknod('/dev/echo', { major: 10, minor: 200, ops: echo, mode: 0o666 });
  return { vfs, echo };
}

function withMemory(size = 8192): { vfs: Vfs; mem: MemoryDevice } {
  const vfs = new Vfs();
  vfs.mkdir('/dev');
  const mem = new MemoryDevice(new SharedArrayBuffer(size));
  vfs.mknod('/dev/mem0', { major: 1, minor: 1, ops: mem, block: true });
  return { vfs, mem };
}

describe('device nodes', () => {
  it('forwards open, read, write and release to the operations with an OpenFileInfo', async () => {
    const { vfs, echo } = withEcho();
    const fd = await vfs.openFd('/dev/echo', O.RDWR, { cred: { uid: 1000, gid: 1000, groups: [5] } });
    assert.equal(echo.opened.length, 1);
    const info = echo.opened[0]!;
    assert.equal(info.path, '/dev/echo');
    assert.equal(info.flags, O.RDWR);
    assert.deepEqual(info.cred, { uid: 1000, gid: 1000, groups: [5] });
    assert.ok(Object.isFrozen(info));
    assert.equal(await vfs.write(fd, 'hello'), 5);
    const buf = Buffer.alloc(16);
    assert.equal(await vfs.read(fd, buf), 5);
    assert.equal(buf.subarray(0, 5).toString(), 'hello');
    await vfs.close(fd);
    assert.deepEqual(echo.released, [info]);
  });

  it('gives each open file description its own id; two opens are two descriptions', async () => {
    const { vfs, echo } = withEcho();
    const a = await vfs.open('/dev/echo', 'r');
    const b = await vfs.open('/dev/echo', 'r');
    assert.notEqual(echo.opened[0]!.id, echo.opened[1]!.id);
    await a.close();
    assert.equal(echo.released.length, 1);
    await b.close();
    assert.equal(echo.released.length, 2);
  });

  it('a blocking read waits for a write through another fd; O_NONBLOCK gives EAGAIN', async () => {
    const { vfs } = withEcho();
    const reader = await vfs.open('/dev/echo', 'r');
    const writer = await vfs.open('/dev/echo', 'w');
    const pending = reader.read(Buffer.alloc(8));
    await writer.write('ping');
    const { bytesRead, buffer } = await pending;
    assert.equal(buffer.subarray(0, bytesRead).toString(), 'ping');

    const nb = await vfs.open('/dev/echo', O.RDONLY | O.NONBLOCK);
    await assert.rejects(nb.read(Buffer.alloc(8)), { code: 'EAGAIN', errno: -11, syscall: 'read', path: '/dev/echo' });
    await Promise.all([reader.close(), writer.close(), nb.close()]);
  });

  it('pread/pwrite and seek on a device without llseek give ESPIPE', async () => {
    const { vfs } = withEcho();
    const fd = await vfs.openFd('/dev/echo', 'r+');
    await assert.rejects(vfs.pread(fd, Buffer.alloc(4), 0), { code: 'ESPIPE', errno: -29, syscall: 'read', path: '/dev/echo' });
    await assert.rejects(vfs.pwrite(fd, 'x', 0), { code: 'ESPIPE', syscall: 'write', path: '/dev/echo' });
    await assert.rejects(vfs.read(fd, Buffer.alloc(4), 0, 4, 10), { code: 'ESPIPE' });
    await assert.rejects(vfs.seek(fd, 0), { code: 'ESPIPE', syscall: 'lseek', path: '/dev/echo' });
    await vfs.close(fd);
  });

  it('a seekable device: read/write move the position, pread/pwrite do not', async () => {
    const { vfs, mem } = withMemory();
    const fh = await vfs.open('/dev/mem0', 'r+');
    assert.equal(await vfs.pwrite(fh.fd, 'abcdef', 100), 6);
    assert.equal(Buffer.from(mem.memory.subarray(100, 106)).toString(), 'abcdef');
    assert.equal(await fh.seek(0, 1), 0, 'pwrite left the position alone');
    const buf = Buffer.alloc(3);
    assert.equal(await vfs.pread(fh.fd, buf, 102), 3);
    assert.equal(buf.toString(), 'cde');
    assert.equal(await fh.seek(100), 100);
    assert.equal((await fh.read(buf)).bytesRead, 3);
    assert.equal(buf.toString(), 'abc');
    assert.equal(await fh.seek(0, 1), 103);
    await fh.write('XY');
    assert.equal(Buffer.from(mem.memory.subarray(103, 105)).toString(), 'XY');
    assert.equal(await fh.seek(-2, 2), 8190);
    assert.equal((await fh.read(Buffer.alloc(10), 0, 10, null)).bytesRead, 2);
    assert.equal((await fh.read(Buffer.alloc(10))).bytesRead, 0, 'EOF');
    await assert.rejects(fh.seek(-1), { code: 'EINVAL', syscall: 'lseek' });
    await assert.rejects(vfs.pread(fh.fd, buf, -1), { code: 'EINVAL', syscall: 'read' });
    await fh.close();
    assert.deepEqual(mem.calls, ['open', 'release']);
  });

  it('caps one read or write at 1 MiB (a short count, not an error)', async () => {
    const { vfs } = withMemory(3 << 20);
    const fd = await vfs.openFd('/dev/mem0', 'r+');
    assert.equal(await vfs.write(fd, new Uint8Array(2 << 20).fill(7)), 1 << 20);
    assert.equal(await vfs.read(fd, new Uint8Array(2 << 20), 0, undefined, 0), 1 << 20);
    await vfs.close(fd);
  });

  it('missing read/write are EINVAL; the wrong access mode is EBADF', async () => {
    const vfs = new Vfs();
    vfs.mknod('/bare', { major: 1, minor: 1, ops: new BareDevice() });
    const rw = await vfs.openFd('/bare', 'r+');
    await assert.rejects(vfs.read(rw, Buffer.alloc(1)), { code: 'EINVAL', syscall: 'read', path: '/bare' });
    await assert.rejects(vfs.write(rw, 'x'), { code: 'EINVAL', syscall: 'write', path: '/bare' });
    await assert.rejects(vfs.fsync(rw), { code: 'EINVAL', syscall: 'fsync', path: '/bare' });
    await vfs.close(rw);
    const { vfs: v2 } = withEcho();
    const ro = await v2.openFd('/dev/echo', 'r');
    const wo = await v2.openFd('/dev/echo', 'w');
    await assert.rejects(v2.write(ro, 'x'), { code: 'EBADF', errno: -9, syscall: 'write', path: '/dev/echo' });
    await assert.rejects(v2.read(wo, Buffer.alloc(1)), { code: 'EBADF', syscall: 'read', path: '/dev/echo' });
    await assert.rejects(v2.read(ro, Buffer.alloc(4), 5), { code: 'EINVAL', syscall: 'read' }, 'offset beyond the buffer');
    await assert.rejects(v2.read(ro, Buffer.alloc(4), 2, 3), { code: 'EINVAL' }, 'length beyond the buffer');
  });

  it('ioctl passes cmd and arg, copies out back into a buffer argument', async () => {
    const { vfs, echo } = withEcho();
    const fd = await vfs.openFd('/dev/echo', 'r+');
    await vfs.write(fd, 'abc');
    assert.deepEqual(await vfs.ioctl(fd, ECHO_IOC_PENDING, 0), { ret: 3 });
    const short = new Uint8Array(4);
    const res = await vfs.ioctl(fd, ECHO_IOC_GETID, short);
    assert.equal(res.ret, 0);
    assert.deepEqual([...short], [1, 2, 3, 4], 'copy-back limited to the caller buffer');
    assert.deepEqual([...res.out!], [1, 2, 3, 4, 5, 6, 7, 8]);
    const long = new Uint8Array(10).fill(0xee);
    await vfs.ioctl(fd, ECHO_IOC_GETID, long);
    assert.deepEqual([...long], [1, 2, 3, 4, 5, 6, 7, 8, 0xee, 0xee]);
    assert.equal(echo.pending, 3);
    await vfs.close(fd);
  });

  it('ioctl errors: ENOTTY without ioctl or for unknown commands, driver errors converted', async () => {
    const { vfs } = withEcho();
    vfs.mknod('/dev/bare', { major: 1, minor: 9, ops: new BareDevice() });
    vfs.addGeneratedFile('/dev/gen', () => 'x');
    const fd = await vfs.openFd('/dev/echo', 'r');
    await assert.rejects(vfs.ioctl(fd, 0x9999), { code: 'ENOTTY', errno: -25, syscall: 'ioctl', path: '/dev/echo' }, 'ENOIOCTLCMD becomes ENOTTY');
    await assert.rejects(vfs.ioctl(fd, ECHO_IOC_SYSERR), (e: unknown) => {
      assert.ok(e instanceof SystemError);
      assert.equal(e.code, 'EINVAL');
      assert.equal(e.syscall, 'ioctl');
      assert.equal(e.path, '/dev/echo');
      assert.equal(e.message, "EINVAL: invalid argument, ioctl '/dev/echo'");
      return true;
    });
    await assert.rejects(vfs.ioctl(fd, ECHO_IOC_NEGATIVE), { code: 'EBUSY', errno: -16, syscall: 'ioctl', path: '/dev/echo' });
    await assert.rejects(vfs.ioctl(fd, ECHO_IOC_CRASH), (e: unknown) => {
      assert.ok(e instanceof SystemError);
      assert.equal(e.code, 'EIO');
      assert.equal(e.errno, -5);
      assert.match(e.message, /^EIO: i\/o error, ioctl '\/dev\/echo' \(driver crashed\)$/);
      assert.ok(e.cause instanceof Error);
      return true;
    });
    const bare = await vfs.openFd('/dev/bare', 'r');
    await assert.rejects(vfs.ioctl(bare, 1), { code: 'ENOTTY', path: '/dev/bare' });
    const gen = await vfs.openFd('/dev/gen', 'r');
    await assert.rejects(vfs.ioctl(gen, 1), { code: 'ENOTTY', path: '/dev/gen' });
    const dir = await vfs.openFd('/dev', 'r');
    await assert.rejects(vfs.ioctl(dir, 1), { code: 'ENOTTY' });
  });

  it('mmap returns a view on the device memory, limited to the length asked for', async () => {
    const vfs = new Vfs();
    const mem = new MemoryDevice(new SharedArrayBuffer(4096), 1024);
    vfs.mknod('/fb0', { major: 29, minor: 0, ops: mem });
    const fh = await vfs.open('/fb0', 'r+');
    const view = await fh.mmap(256, 512);
    assert.equal(view.length, 256);
    assert.equal(view.buffer, mem.buffer);
    assert.equal(view.byteOffset, 1024 + 512);
    view[0] = 0xab;
    assert.equal(mem.memory[1536], 0xab, 'shared with the device');
    mem.memory[1537] = 0xcd;
    assert.equal(view[1], 0xcd);
    await assert.rejects(fh.mmap(0), { code: 'EINVAL', syscall: 'mmap', path: '/fb0' });
    await assert.rejects(fh.mmap(16, -1), { code: 'EINVAL' });
    await assert.rejects(fh.mmap(4096, 0), { code: 'EINVAL' }, 'beyond the region (the device refuses)');
    await fh.close();
    const wo = await vfs.open('/fb0', 'w');
    await assert.rejects(wo.mmap(16), { code: 'EACCES', syscall: 'mmap' }, 'mapping needs read access');
    await wo.close();
  });

  it('mmap: EINVAL when the region is shorter than asked, ENODEV without mmap', async () => {
    const vfs = new Vfs();
    const sab = new SharedArrayBuffer(64);
    const tiny: DeviceFileOperations = {
      open: async () => undefined, release: async () => undefined,
      mmap: async () => ({ buffer: sab, offset: 0, length: 32 }),
    };
    vfs.mknod('/tiny', { major: 1, minor: 1, ops: tiny });
    vfs.mknod('/bare', { major: 1, minor: 2, ops: new BareDevice() });
    vfs.addAttribute('/attr', { show: () => '' });
    const fd = await vfs.openFd('/tiny', 'r');
    assert.equal((await vfs.mmap(fd, 32)).length, 32);
    await assert.rejects(vfs.mmap(fd, 33), { code: 'EINVAL', syscall: 'mmap', path: '/tiny' });
    await assert.rejects(vfs.mmap(await vfs.openFd('/bare', 'r'), 16), { code: 'ENODEV', errno: -19, syscall: 'mmap', path: '/bare' });
    await assert.rejects(vfs.mmap(await vfs.openFd('/attr', 'r'), 16), { code: 'ENODEV' });
  });

  it('fsync calls the device; stat reports size from the device', async () => {
    const { vfs, mem } = withMemory();
    const fh = await vfs.open('/dev/mem0', 'r');
    await fh.sync();
    assert.equal(mem.syncs, 1);
    const st = await fh.stat();
    assert.equal(st.size, 8192);
    assert.ok(st.isBlockDevice());
    assert.equal(st.rdev, 0x101);
    await fh.close();
  });

  it('an error from the device open propagates (syscall open, caller path) and allocates no fd', async () => {
    const vfs = new Vfs();
    const failing: DeviceFileOperations = {
      open: async () => { throw new SystemError('EBUSY', 'driver_open'); },
      release: async () => assert.fail('release after a failed open'),
    };
    const crashing: DeviceFileOperations = {
      open: async () => { throw new TypeError('oops'); },
      release: async () => undefined,
    };
    vfs.mknod('/busy', { major: 1, minor: 1, ops: failing });
    vfs.mknod('/crash', { major: 1, minor: 2, ops: crashing });
    vfs.symlink('/busy', '/busy-link');
    await assert.rejects(vfs.open('/busy-link'), { code: 'EBUSY', errno: -16, syscall: 'open', path: '/busy-link' });
    await assert.rejects(vfs.open('/crash'), { code: 'EIO', syscall: 'open', path: '/crash' });
    assert.deepEqual(vfs.openFds(), []);
    const fd = await vfs.openFd('/', 'r');
    assert.equal(fd, 3);
  });

  it('errors thrown by device read/write keep their code but get the VFS syscall and path', async () => {
    const { vfs } = withMemory();
    const fd = await vfs.openFd('/dev/mem0', 'w');
    await assert.rejects(vfs.pwrite(fd, 'x', 8192), (e: unknown) => {
      assert.ok(e instanceof SystemError);
      assert.deepEqual(e.toJSON(), {
        code: 'ENOSPC', errno: -28, syscall: 'write', path: '/dev/mem0',
        message: "ENOSPC: no space left on device, write '/dev/mem0'",
      });
      return true;
    });
  });

  it('release waits for calls in flight on the file', async () => {
    const { vfs, echo } = withEcho();
    const fd = await vfs.openFd('/dev/echo', 'r+');
    const reading = vfs.read(fd, Buffer.alloc(4));
    await vfs.close(fd);
    assert.equal(echo.released.length, 0, 'a read is still running');
    const other = await vfs.openFd('/dev/echo', 'w');
    await vfs.write(other, 'late');
    assert.equal(await reading, 4);
    await new Promise((r) => setImmediate(r));
    assert.equal(echo.released.length, 1);
    await vfs.close(other);
    assert.equal(echo.released.length, 2);
  });

  it('readFile reads a device until EAGAIN (O_NONBLOCK); writeFile writes it all', async () => {
    const { vfs } = withEcho();
    assert.equal(await vfs.readFile('/dev/echo', { encoding: 'utf8' }), '', 'nothing queued: empty, not blocked');
    await vfs.writeFile('/dev/echo', 'queued data');
    assert.equal(await vfs.readFile('/dev/echo', { encoding: 'utf8' }), 'queued data');
    const { vfs: v2, mem } = withMemory(200 << 10);
    mem.memory.fill(0x41);
    const all = await v2.readFile('/dev/mem0');
    assert.ok(Buffer.isBuffer(all));
    assert.equal(all.length, 200 << 10, 'read until the device returns 0 bytes');
    assert.deepEqual(vfs.openFds(), []);
  });

  it('devices without poll are always readable and writable', async () => {
    const vfs = new Vfs();
    vfs.mknod('/bare', { major: 1, minor: 1, ops: new BareDevice() });
    const fh = await vfs.open('/bare', 'r');
    assert.equal(await fh.poll(POLL.IN | POLL.OUT, 0), POLL.IN | POLL.OUT);
    assert.equal(await fh.poll(POLL.IN | POLL.OUT | POLL.RDNORM | POLL.WRNORM | POLL.PRI, 0),
      POLL.IN | POLL.OUT | POLL.RDNORM | POLL.WRNORM);
    await fh.close();
  });
});
