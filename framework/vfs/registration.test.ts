import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Vfs } from './vfs.js';
import { S_IF } from './types.js';
import { BareDevice, MemoryDevice } from './fake-devices.fixture.js';

describe('registration', () => {
  it('mkdir, mknod, addAttribute, addGeneratedFile and symlink create nodes with default modes', async () => {
    const vfs = new Vfs();
    vfs.mkdir('/dev');
    vfs.mkdirp('/sys/class/misc');
    vfs.mkdir('/proc');
    vfs.mknod('/dev/null0', { major: 1, minor: 3, ops: new BareDevice() });
    vfs.mknod('/dev/sda', { major: 8, minor: 0, ops: new MemoryDevice(), block: true, mode: 0o660, gid: 6 });
    vfs.addAttribute('/sys/class/misc/ro', { show: () => 'x' });
    vfs.addAttribute('/sys/class/misc/wo', { store: () => undefined });
    vfs.addAttribute('/sys/class/misc/rw', { show: () => 'x', store: () => undefined });
    vfs.addGeneratedFile('/proc/interrupts', () => '');
    vfs.symlink('/dev/null0', '/dev/link');

    const dir = await vfs.stat('/dev');
    assert.equal(dir.mode, S_IF.DIR | 0o755);
    assert.ok(dir.isDirectory());
    const chr = await vfs.stat('/dev/null0');
    assert.equal(chr.mode, S_IF.CHR | 0o600);
    assert.equal(chr.rdev, (1 << 8) | 3);
    assert.equal(chr.major, 1);
    assert.equal(chr.minor, 3);
    assert.equal(chr.size, 0);
    assert.equal(chr.uid, 0);
    assert.equal(chr.gid, 0);
    assert.equal(chr.nlink, 1);
    const blk = await vfs.stat('/dev/sda');
    assert.equal(blk.mode, S_IF.BLK | 0o660);
    assert.ok(blk.isBlockDevice());
    assert.equal(blk.gid, 6);
    assert.equal(blk.size, 8192, 'size comes from ops.size()');
    assert.equal((await vfs.stat('/sys/class/misc/ro')).mode, S_IF.REG | 0o444);
    assert.equal((await vfs.stat('/sys/class/misc/wo')).mode, S_IF.REG | 0o200);
    const rw = await vfs.stat('/sys/class/misc/rw');
    assert.equal(rw.mode, S_IF.REG | 0o644);
    assert.equal(rw.size, 4096, 'attributes are one page, like sysfs');
    assert.ok(rw.isFile());
    const gen = await vfs.stat('/proc/interrupts');
    assert.equal(gen.mode, S_IF.REG | 0o444);
    assert.equal(gen.size, 0);
    assert.equal((await vfs.lstat('/dev/link')).mode, S_IF.LNK | 0o777);
  });

  it('gives every node its own inode number and directories nlink 2 + subdirectories', async () => {
    const vfs = new Vfs();
    vfs.mkdirp('/a/b');
    vfs.mkdir('/a/c');
    vfs.addGeneratedFile('/a/f', () => '');
    const inos = await Promise.all(['/', '/a', '/a/b', '/a/c', '/a/f'].map(async (p) => (await vfs.stat(p)).ino));
    assert.equal(new Set(inos).size, 5);
    assert.equal((await vfs.stat('/a')).nlink, 4);
    assert.equal((await vfs.stat('/a/b')).nlink, 2);
  });

  it('applies owner uid/gid/mode', async () => {
    const vfs = new Vfs();
    vfs.mkdir('/d', { mode: 0o700, uid: 1000, gid: 100 });
    vfs.addAttribute('/d/a', { show: () => '' }, { mode: 0o400, uid: 7 });
    const d = await vfs.stat('/d');
    assert.deepEqual([d.mode & 0o7777, d.uid, d.gid], [0o700, 1000, 100]);
    const a = await vfs.stat('/d/a');
    assert.deepEqual([a.mode & 0o7777, a.uid, a.gid], [0o400, 7, 0]);
  });

  it('throws EEXIST on conflicts and ENOENT/ENOTDIR for a missing or bad parent, creating nothing', () => {
    const vfs = new Vfs();
    vfs.mkdir('/dev');
    vfs.mknod('/dev/x', { major: 1, minor: 1, ops: new BareDevice() });
    assert.throws(() => vfs.mknod('/dev/x', { major: 1, minor: 2, ops: new BareDevice() }),
      { code: 'EEXIST', errno: -17, syscall: 'mknod', path: '/dev/x', message: "EEXIST: file already exists, mknod '/dev/x'" });
    assert.throws(() => vfs.mkdir('/dev'), { code: 'EEXIST', syscall: 'mkdir', path: '/dev' });
    assert.throws(() => vfs.mkdir('/'), { code: 'EEXIST', syscall: 'mkdir' });
    assert.throws(() => vfs.addAttribute('/dev/x', {}), { code: 'EEXIST', syscall: 'mknod' });
    assert.throws(() => vfs.symlink('/a', '/dev/x'), { code: 'EEXIST', syscall: 'symlink' });
    assert.throws(() => vfs.addGeneratedFile('/proc/x', () => ''), { code: 'ENOENT', syscall: 'mknod', path: '/proc/x' });
    assert.throws(() => vfs.mkdir('/a/b'), { code: 'ENOENT', syscall: 'mkdir' });
    assert.throws(() => vfs.mkdir('/dev/x/y'), { code: 'ENOTDIR' });
    assert.throws(() => vfs.mkdir('relative'), { code: 'EINVAL' });
    assert.throws(() => vfs.symlink('', '/dev/empty'), { code: 'ENOENT', syscall: 'symlink' });
    assert.throws(() => vfs.mknod('/dev/bad', { major: -1, minor: 0, ops: new BareDevice() }), { code: 'EINVAL' });
    assert.equal(vfs.exists('/a'), false);
    assert.equal(vfs.exists('/proc'), false);
  });

  it('mkdirp creates missing parents, accepts existing directories, and rejects files', async () => {
    const vfs = new Vfs();
    vfs.mkdirp('/sys/bus/platform/devices', { mode: 0o700 });
    assert.equal((await vfs.stat('/sys/bus')).mode & 0o777, 0o755);
    assert.equal((await vfs.stat('/sys/bus/platform/devices')).mode & 0o777, 0o700);
    vfs.mkdirp('/sys/bus/platform');
    vfs.symlink('/sys/bus', '/bus');
    vfs.mkdirp('/bus/pci');
    assert.ok(vfs.exists('/sys/bus/pci'), 'follows symlinks to directories');
    vfs.addGeneratedFile('/sys/file', () => '');
    assert.throws(() => vfs.mkdirp('/sys/file'), { code: 'EEXIST', syscall: 'mkdir' });
    assert.throws(() => vfs.mkdirp('/sys/file/sub'), { code: 'ENOTDIR' });
  });

  it('the disposable removes exactly its node, once; a directory takes its subtree along', async () => {
    const vfs = new Vfs();
    const dev = vfs.mkdir('/dev');
    const first = vfs.mknod('/dev/x', { major: 1, minor: 1, ops: new BareDevice() });
    vfs.addGeneratedFile('/dev/y', () => '');
    await first.dispose();
    assert.equal(vfs.exists('/dev/x'), false);
    assert.equal(vfs.exists('/dev/y'), true);
    // A new node at the same path is not removed by the old registration.
    vfs.mknod('/dev/x', { major: 1, minor: 2, ops: new BareDevice() });
    await first.dispose();
    assert.equal((await vfs.stat('/dev/x')).minor, 2);
    await dev.dispose();
    assert.equal(vfs.exists('/dev'), false);
    assert.equal(vfs.exists('/dev/y'), false);
    assert.deepEqual(await vfs.readdir('/'), []);
    vfs.mkdir('/dev');
    assert.deepEqual(await vfs.readdir('/dev'), [], 'the subtree does not come back');
    // A stale registration from a removed subtree does not touch its successor.
    const sub = vfs.mkdir('/dev/sub');
    const staleChild = vfs.mknod('/dev/sub/n', { major: 1, minor: 8, ops: new BareDevice() });
    await sub.dispose();
    vfs.mkdir('/dev/sub');
    vfs.mknod('/dev/sub/n', { major: 1, minor: 9, ops: new BareDevice() });
    await staleChild.dispose();
    assert.equal((await vfs.stat('/dev/sub/n')).minor, 9);
  });

  it('readdir sorts names; readdirents reports types', async () => {
    const vfs = new Vfs();
    vfs.mkdir('/d');
    vfs.mkdir('/d/sub');
    vfs.mknod('/d/c', { major: 1, minor: 1, ops: new BareDevice() });
    vfs.mknod('/d/b', { major: 8, minor: 0, ops: new BareDevice(), block: true });
    vfs.addAttribute('/d/attr', { show: () => '' });
    vfs.addGeneratedFile('/d/gen', () => '');
    vfs.symlink('c', '/d/a');
    assert.deepEqual(await vfs.readdir('/d'), ['a', 'attr', 'b', 'c', 'gen', 'sub']);
    const ents = await vfs.readdirents('/d');
    assert.deepEqual(ents.map((e) => [e.name, e.type]),
      [['a', 'symlink'], ['attr', 'file'], ['b', 'blk'], ['c', 'chr'], ['gen', 'file'], ['sub', 'dir']]);
    assert.ok(ents[0]!.isSymbolicLink());
    assert.ok(ents[2]!.isBlockDevice());
    assert.ok(ents[3]!.isCharacterDevice());
    assert.ok(ents[4]!.isFile());
    assert.ok(ents[5]!.isDirectory());
    await assert.rejects(vfs.readdir('/d/c'), { code: 'ENOTDIR', syscall: 'scandir', path: '/d/c' });
    await assert.rejects(vfs.readdir('/nope'), { code: 'ENOENT', syscall: 'scandir', path: '/nope' });
  });
});
