import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SystemError } from '../errors/hm-error.js';
import { Vfs } from './vfs.js';
import { opError } from './errors.js';

describe('error shapes', () => {
  it('look like Node fs errors', async () => {
    const vfs = new Vfs();
    vfs.mkdir('/dev');
    const err = await vfs.open('/dev/nope').catch((e: unknown) => e);
    assert.ok(err instanceof SystemError);
    assert.ok(err instanceof Error);
    assert.equal(err.code, 'ENOENT');
    assert.equal(err.errno, -2);
    assert.equal(err.syscall, 'open');
    assert.equal(err.path, '/dev/nope');
    assert.equal(err.message, "ENOENT: no such file or directory, open '/dev/nope'");
  });

  it('name the syscall of each call', async () => {
    const vfs = new Vfs();
    await assert.rejects(vfs.stat('/x'), { syscall: 'stat', path: '/x' });
    await assert.rejects(vfs.lstat('/x'), { syscall: 'lstat', path: '/x' });
    await assert.rejects(vfs.readdir('/x'), { syscall: 'scandir', path: '/x' });
    await assert.rejects(vfs.readdirents('/x'), { syscall: 'scandir', path: '/x' });
    await assert.rejects(vfs.readlink('/x'), { syscall: 'readlink', path: '/x' });
    await assert.rejects(vfs.realpath('/x'), { syscall: 'realpath', path: '/x' });
    await assert.rejects(vfs.readFile('/x'), { syscall: 'open', path: '/x' });
    await assert.rejects(vfs.writeFile('/x', ''), { syscall: 'open', path: '/x' });
    await assert.rejects(vfs.stat('/' + 'n'.repeat(256)), { code: 'ENAMETOOLONG' });
  });

  it('convert errors from node operations', () => {
    const sys = opError(new SystemError('EBUSY', 'inner', '/inner'), 'write', '/dev/x');
    assert.deepEqual([sys.code, sys.errno, sys.syscall, sys.path], ['EBUSY', -16, 'write', '/dev/x']);
    // An error that crossed a thread or process boundary keeps only its fields.
    const cloned = opError({ code: 'ETIMEDOUT', message: 'x' }, 'read', '/dev/x');
    assert.equal(cloned.code, 'ETIMEDOUT');
    assert.equal(opError({ errno: -11 }, 'read', '/dev/x').code, 'EAGAIN');
    assert.equal(opError(-5, 'read', '/dev/x').code, 'EIO');
    assert.equal(opError(new SystemError('ENOIOCTLCMD', 'ioctl'), 'ioctl', '/dev/x').code, 'ENOTTY');
    assert.equal(opError(new SystemError('ERESTARTSYS', 'read'), 'read', '/dev/x').code, 'EINTR');
    const plain = opError(new RangeError('index out of range'), 'read', '/dev/x');
    assert.equal(plain.code, 'EIO');
    assert.equal(plain.message, "EIO: i/o error, read '/dev/x' (index out of range)");
    assert.equal(opError('weird', 'read', '/dev/x').code, 'EIO');
    assert.equal(opError({ code: 'ERR_SOMETHING' }, 'read', '/dev/x').code, 'EIO');
  });
});
