import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Vfs } from './vfs.js';
import { O, type Credentials } from './types.js';
import { BareDevice } from './fake-devices.fixture.js';

const ROOT: Credentials = { uid: 0, gid: 0 };
const USER: Credentials = { uid: 1000, gid: 1000 };
const VIDEO_MEMBER: Credentials = { uid: 1001, gid: 1001, groups: [44] };

function setup(): Vfs {
  const vfs = new Vfs();
  vfs.mkdir('/dev');
  vfs.mknod('/dev/root-only', { major: 1, minor: 1, ops: new BareDevice() });              // 0600 root
  vfs.mknod('/dev/video0', { major: 81, minor: 0, ops: new BareDevice(), mode: 0o660, gid: 44 });
  vfs.mknod('/dev/mine', { major: 1, minor: 2, ops: new BareDevice(), mode: 0o400, uid: 1000 });
  vfs.mknod('/dev/public', { major: 1, minor: 3, ops: new BareDevice(), mode: 0o666 });
  vfs.mknod('/dev/other-ro', { major: 1, minor: 4, ops: new BareDevice(), mode: 0o004, uid: 1000, gid: 1000 });
  return vfs;
}

describe('permissions', () => {
  it('root bypasses read/write permission bits', async () => {
    const vfs = setup();
    vfs.mknod('/dev/none', { major: 1, minor: 5, ops: new BareDevice(), mode: 0 });
    for (const path of ['/dev/root-only', '/dev/video0', '/dev/mine', '/dev/none']) {
      const fh = await vfs.open(path, O.RDWR, { cred: ROOT });
      await fh.close();
    }
  });

  it('an ordinary user is checked against owner, group and other bits', async () => {
    const vfs = setup();
    await assert.rejects(vfs.open('/dev/root-only', 'r', { cred: USER }),
      { code: 'EACCES', errno: -13, syscall: 'open', path: '/dev/root-only', message: "EACCES: permission denied, open '/dev/root-only'" });
    // Owner bits: read allowed, write not.
    await (await vfs.open('/dev/mine', 'r', { cred: USER })).close();
    await assert.rejects(vfs.open('/dev/mine', 'r+', { cred: USER }), { code: 'EACCES' });
    // Other bits apply to everybody else.
    await (await vfs.open('/dev/public', 'r+', { cred: USER })).close();
    // The owner gets the owner bits even when "other" would allow more.
    await assert.rejects(vfs.open('/dev/other-ro', 'r', { cred: USER }), { code: 'EACCES' });
    await (await vfs.open('/dev/other-ro', 'r', { cred: { uid: 5, gid: 5 } })).close();
  });

  it('group bits apply to the primary gid and to supplementary groups', async () => {
    const vfs = setup();
    await assert.rejects(vfs.open('/dev/video0', 'r+', { cred: USER }), { code: 'EACCES' });
    await (await vfs.open('/dev/video0', 'r+', { cred: VIDEO_MEMBER })).close();
    await (await vfs.open('/dev/video0', 'r', { cred: { uid: 2000, gid: 44 } })).close();
  });

  it('traversal needs x on every directory; listing needs r', async () => {
    const vfs = setup();
    vfs.mkdir('/secret', { mode: 0o700 });
    vfs.mkdir('/secret/inner');
    vfs.addGeneratedFile('/secret/inner/f', () => 'data');
    vfs.mkdir('/noread', { mode: 0o711 });
    vfs.addGeneratedFile('/noread/f', () => 'x');
    await assert.rejects(vfs.stat('/secret/inner/f', { cred: USER }), { code: 'EACCES', syscall: 'stat', path: '/secret/inner/f' });
    await assert.rejects(vfs.readFile('/secret/inner/f', { cred: USER }), { code: 'EACCES', syscall: 'open' });
    await assert.rejects(vfs.readdir('/secret', { cred: USER }), { code: 'EACCES', syscall: 'scandir' });
    assert.equal(await vfs.readFile('/secret/inner/f', { encoding: 'utf8' }), 'data', 'root passes');
    // x without r: reachable but not listable.
    assert.equal(await vfs.readFile('/noread/f', { cred: USER, encoding: 'utf8' }), 'x');
    await assert.rejects(vfs.readdirents('/noread', { cred: USER }), { code: 'EACCES' });
    assert.deepEqual(await vfs.readdir('/noread', { cred: ROOT }), ['f']);
    assert.deepEqual(await vfs.readdir('/dev', { cred: USER }), ['mine', 'other-ro', 'public', 'root-only', 'video0']);
  });

  it('symlink traversal is checked at every directory on the way', async () => {
    const vfs = setup();
    vfs.mkdir('/locked', { mode: 0o700 });
    vfs.addGeneratedFile('/locked/f', () => '');
    vfs.symlink('/locked/f', '/dev/via-link');
    await assert.rejects(vfs.stat('/dev/via-link', { cred: USER }), { code: 'EACCES' });
    assert.ok((await vfs.lstat('/dev/via-link', { cred: USER })).isSymbolicLink());
  });

  it('directories open read-only; write access is EISDIR', async () => {
    const vfs = setup();
    const fh = await vfs.open('/dev', 'r');
    assert.ok((await fh.stat()).isDirectory());
    await assert.rejects(fh.read(Buffer.alloc(4)), { code: 'EISDIR', syscall: 'read', path: '/dev' });
    await fh.close();
    await assert.rejects(vfs.open('/dev', 'r+'), { code: 'EISDIR', syscall: 'open', path: '/dev' });
    await assert.rejects(vfs.open('/dev', O.WRONLY), { code: 'EISDIR' });
    await assert.rejects(vfs.readFile('/dev'), { code: 'EISDIR', syscall: 'read' });
    await assert.rejects(vfs.open('/dev/public', O.RDONLY | O.DIRECTORY), { code: 'ENOTDIR', syscall: 'open' });
    await (await vfs.open('/dev', O.RDONLY | O.DIRECTORY)).close();
  });

  it('attributes without store refuse write access, and without show read access, even for root', async () => {
    const vfs = new Vfs();
    vfs.addAttribute('/ro', { show: () => '1' }, { mode: 0o644 });
    vfs.addAttribute('/wo', { store: () => undefined }, { mode: 0o644 });
    await assert.rejects(vfs.open('/ro', 'w', { cred: ROOT }), { code: 'EACCES', syscall: 'open', path: '/ro' });
    await assert.rejects(vfs.writeFile('/ro', '2'), { code: 'EACCES' });
    await assert.rejects(vfs.readFile('/wo'), { code: 'EACCES', syscall: 'open' });
    await vfs.writeFile('/wo', 'ok');
    // A user needs the mode bits as well.
    vfs.addAttribute('/rw', { show: () => '1', store: () => undefined });
    await assert.rejects(vfs.writeFile('/rw', '1', { cred: USER }), { code: 'EACCES' });
    assert.equal(await vfs.readFile('/rw', { cred: USER, encoding: 'utf8' }), '1');
  });

  it('generated files are read-only for everyone', async () => {
    const vfs = new Vfs();
    vfs.addGeneratedFile('/gen', () => 'text', { mode: 0o666 });
    await assert.rejects(vfs.open('/gen', 'r+'), { code: 'EACCES', syscall: 'open', path: '/gen' });
    await assert.rejects(vfs.writeFile('/gen', 'x', { cred: USER }), { code: 'EACCES' });
  });

  it('open flags: string forms, O_CREAT|O_EXCL, unknown flags, bad access mode', async () => {
    const vfs = setup();
    for (const flags of ['r', 'rs', 'r+', 'rs+', 'w', 'w+', 'a', 'a+', 'as+']) {
      await (await vfs.open('/dev/public', flags)).close();
    }
    await assert.rejects(vfs.open('/dev/public', 'wx'), { code: 'EEXIST', syscall: 'open' });
    await assert.rejects(vfs.open('/dev/nope', 'w'), { code: 'ENOENT', syscall: 'open', path: '/dev/nope' });
    await assert.rejects(vfs.open('/dev/public', 'bogus'), { code: 'EINVAL', syscall: 'open' });
    await assert.rejects(vfs.open('/dev/public', O.ACCMODE), { code: 'EINVAL' });
    const fh = await vfs.open('/dev/public', 'a+');
    assert.equal(vfs.describeFd(fh.fd)?.flags, O.APPEND | O.CREAT | O.RDWR);
    await fh.close();
  });
});
