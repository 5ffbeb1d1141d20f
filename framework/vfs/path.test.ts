import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Vfs } from './vfs.js';
import { BareDevice } from './fake-devices.fixture.js';

function tree(): Vfs {
  const vfs = new Vfs();
  vfs.mkdirp('/sys/class/misc/echo');
  vfs.mkdir('/dev');
  vfs.mknod('/dev/echo0', { major: 10, minor: 1, ops: new BareDevice() });
  vfs.addAttribute('/sys/class/misc/echo/dev', { show: () => '10:1\n' });
  return vfs;
}

describe('path resolution', () => {
  it('normalises ".", duplicate slashes and ".."', async () => {
    const vfs = tree();
    assert.equal(await vfs.realpath('//dev/./echo0'), '/dev/echo0');
    assert.equal(await vfs.realpath('/sys/class/../class/misc//echo/./dev'), '/sys/class/misc/echo/dev');
    assert.equal(await vfs.realpath('/../../dev/echo0'), '/dev/echo0', '.. at the root stays at the root');
    assert.equal(await vfs.realpath('/'), '/');
    assert.equal(await vfs.readFile('/sys/class/misc/../misc/echo/dev', { encoding: 'utf8' }), '10:1\n');
  });

  it('rejects relative paths with EINVAL', async () => {
    const vfs = tree();
    await assert.rejects(vfs.stat('dev/echo0'), { code: 'EINVAL', syscall: 'stat', path: 'dev/echo0' });
    await assert.rejects(vfs.open('./dev/echo0'), { code: 'EINVAL', syscall: 'open' });
    await assert.rejects(vfs.stat(''), { code: 'ENOENT' });
    assert.equal(vfs.exists('dev/echo0'), false);
  });

  it('gives ENOENT for a missing component and ENOTDIR for a file used as a directory', async () => {
    const vfs = tree();
    await assert.rejects(vfs.stat('/dev/nope'), { code: 'ENOENT', errno: -2, syscall: 'stat', path: '/dev/nope' });
    await assert.rejects(vfs.stat('/nope/echo0'), { code: 'ENOENT' });
    await assert.rejects(vfs.stat('/dev/echo0/x'), { code: 'ENOTDIR', errno: -20, path: '/dev/echo0/x' });
    await assert.rejects(vfs.stat('/dev/echo0/'), { code: 'ENOTDIR' }, 'trailing slash needs a directory');
    await assert.rejects(vfs.stat('/dev/echo0/..'), { code: 'ENOTDIR' });
    assert.ok((await vfs.stat('/dev/')).isDirectory());
  });

  it('follows absolute and relative symlinks; relative targets resolve against the link directory', async () => {
    const vfs = tree();
    vfs.symlink('/dev/echo0', '/dev/abs');
    vfs.symlink('echo0', '/dev/rel');
    vfs.symlink('../../dev', '/sys/class/devdir');
    vfs.symlink('../../../devices/echo', '/sys/class/misc/dangling');
    assert.equal(await vfs.realpath('/dev/abs'), '/dev/echo0');
    assert.equal(await vfs.realpath('/dev/rel'), '/dev/echo0');
    assert.equal(await vfs.realpath('/sys/class/devdir/rel'), '/dev/echo0');
    assert.ok((await vfs.stat('/dev/rel')).isCharacterDevice());
    assert.deepEqual(await vfs.readdir('/sys/class/devdir'), ['abs', 'echo0', 'rel']);
    // ".." after a symlink to a directory goes to the target's parent, as on Linux.
    assert.equal(await vfs.realpath('/sys/class/devdir/..'), '/');
    await assert.rejects(vfs.stat('/sys/class/misc/dangling'), { code: 'ENOENT', path: '/sys/class/misc/dangling' });
    assert.ok((await vfs.lstat('/sys/class/misc/dangling')).isSymbolicLink());
    assert.equal(vfs.exists('/sys/class/misc/dangling'), false);
  });

  it('lstat and readlink do not follow the last component', async () => {
    const vfs = tree();
    vfs.symlink('echo0', '/dev/rel');
    vfs.symlink('/dev', '/devlink');
    const st = await vfs.lstat('/dev/rel');
    assert.ok(st.isSymbolicLink());
    assert.equal(st.size, 5);
    assert.equal(st.mode & 0o777, 0o777);
    assert.equal(await vfs.readlink('/dev/rel'), 'echo0');
    assert.equal(await vfs.readlink('/devlink'), '/dev');
    // Intermediate links are followed by lstat.
    assert.ok((await vfs.lstat('/devlink/rel')).isSymbolicLink());
    // A trailing slash forces following.
    assert.ok((await vfs.lstat('/devlink/')).isDirectory());
    await assert.rejects(vfs.readlink('/dev/echo0'), { code: 'EINVAL', syscall: 'readlink', path: '/dev/echo0' });
    await assert.rejects(vfs.readlink('/dev/none'), { code: 'ENOENT', syscall: 'readlink' });
  });

  it('gives ELOOP for cycles and for chains longer than 40 links', async () => {
    const vfs = tree();
    vfs.symlink('/loop/b', '/a');
    vfs.mkdir('/loop');
    vfs.symlink('/a', '/loop/b');
    await assert.rejects(vfs.stat('/a'), { code: 'ELOOP', errno: -40, syscall: 'stat', path: '/a' });
    await assert.rejects(vfs.open('/a/x'), { code: 'ELOOP', syscall: 'open' });
    assert.ok((await vfs.lstat('/a')).isSymbolicLink());

    vfs.mkdir('/chain');
    vfs.symlink('/dev/echo0', '/chain/l0');
    for (let i = 1; i <= 40; i++) vfs.symlink(`l${i - 1}`, `/chain/l${i}`);
    assert.ok((await vfs.stat('/chain/l39')).isCharacterDevice(), '40 links are followed');
    await assert.rejects(vfs.stat('/chain/l40'), { code: 'ELOOP' }, '41 links are too many');
  });

  it('opens through symlinks and reports the canonical path to the node', async () => {
    const vfs = tree();
    vfs.symlink('/dev/echo0', '/dev/alias');
    const fh = await vfs.open('/dev/alias', 'r');
    assert.equal(vfs.describeFd(fh.fd)?.path, '/dev/echo0');
    await fh.close();
  });
});
