import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SystemError } from '../errors/hm-error.js';
import { Vfs } from './vfs.js';
import { POLL } from './types.js';

describe('sysfs attributes', () => {
  it('reads show() as a snapshot, with positioned reads inside it', async () => {
    const vfs = new Vfs();
    let value = 'first value\n';
    let shows = 0;
    vfs.addAttribute('/attr', { show: () => { shows++; return value; } });
    const fh = await vfs.open('/attr', 'r');
    const buf = Buffer.alloc(5);
    assert.equal((await fh.read(buf)).bytesRead, 5);
    assert.equal(buf.toString(), 'first');
    value = 'changed!!!!!\n';
    assert.equal((await fh.read(buf)).bytesRead, 5);
    assert.equal(buf.toString(), ' valu', 'still the snapshot taken at the first read');
    assert.equal((await fh.read(buf, 0, 5, 0)).bytesRead, 5);
    assert.equal(buf.toString(), 'first', 'pread within the snapshot');
    assert.equal(await fh.readFile({ encoding: 'utf8' }), 'e\n', 'readFile continues from the position');
    assert.equal((await fh.read(buf)).bytesRead, 0, 'EOF');
    assert.equal(shows, 1);
    // Rewinding renders afresh (sysfs: poll, lseek(0), read).
    await fh.seek(0);
    assert.equal(await fh.readFile({ encoding: 'utf8' }), 'changed!!!!!\n');
    assert.equal(shows, 2);
    await fh.close();
    assert.equal(await vfs.readFile('/attr', { encoding: 'utf8' }), 'changed!!!!!\n');
  });

  it('truncates show() output at 4096 bytes and supports async show', async () => {
    const vfs = new Vfs();
    vfs.addAttribute('/big', { show: async () => 'x'.repeat(5000) });
    assert.equal((await vfs.readFile('/big')).length, 4096);
  });

  it('write calls store() with the written text and returns its length', async () => {
    const vfs = new Vfs();
    const stored: string[] = [];
    vfs.mkdir('/power');
    vfs.addAttribute('/power/control', { show: () => 'on\n', store: (v) => { stored.push(v); } });
    vfs.addAttribute('/power/state', { store: async (v) => { stored.push(v); } });
    await vfs.writeFile('/power/control', 'auto\n');
    await vfs.writeFile('/power/state', 'mem\n');
    const fd = await vfs.openFd('/power/state', 'w');
    assert.equal(await vfs.write(fd, Buffer.from('héllo')), 6);
    assert.equal(await vfs.write(fd, 'y'.repeat(5000)), 4096, 'one page per store');
    assert.equal(await vfs.write(fd, ''), 0, 'an empty write stores nothing');
    await vfs.close(fd);
    assert.deepEqual(stored, ['auto\n', 'mem\n', 'héllo', 'y'.repeat(4096)]);
  });

  it('errors from show/store keep a SystemError code; plain errors become EIO', async () => {
    const vfs = new Vfs();
    vfs.addAttribute('/a', {
      show: () => { throw new SystemError('ENODATA', 'show'); },
      store: (v) => { if (v === 'bad') throw new SystemError('EINVAL', 'store'); throw new Error('parse failure'); },
    });
    await assert.rejects(vfs.readFile('/a'), { code: 'ENODATA', errno: -61, syscall: 'read', path: '/a' });
    await assert.rejects(vfs.writeFile('/a', 'bad'), { code: 'EINVAL', syscall: 'write', path: '/a' });
    await assert.rejects(vfs.writeFile('/a', 'other'), {
      code: 'EIO', errno: -5, syscall: 'write', path: '/a', message: "EIO: i/o error, write '/a' (parse failure)",
    });
  });

  it('poll on an attribute reports POLLERR|POLLPRI after notifyPoll (sysfs_notify)', async () => {
    const vfs = new Vfs();
    let value = '0';
    vfs.addAttribute('/state', { show: () => value });
    const fh = await vfs.open('/state', 'r');
    assert.equal(await fh.readFile({ encoding: 'utf8' }), '0');
    assert.equal(await fh.poll(POLL.PRI, 0), 0);
    const waiting = fh.poll(POLL.PRI, 2000);
    value = '1';
    vfs.notifyPoll('/state');
    assert.equal(await waiting, POLL.PRI | POLL.ERR);
    await fh.seek(0);
    assert.equal(await fh.readFile({ encoding: 'utf8' }), '1');
    assert.equal(await fh.poll(POLL.PRI, 0), 0, 're-reading acknowledges the change');
    await fh.close();
  });

  it('attributes seek locally; stat size is 4096', async () => {
    const vfs = new Vfs();
    vfs.addAttribute('/a', { show: () => 'abcdef' });
    const fh = await vfs.open('/a', 'r');
    await fh.read(Buffer.alloc(1));
    assert.equal(await fh.seek(2), 2);
    assert.equal(await fh.seek(1, 1), 3);
    assert.equal(await fh.seek(-1, 2), 5);
    const b = Buffer.alloc(4);
    assert.equal((await fh.read(b)).bytesRead, 1);
    assert.equal(b.subarray(0, 1).toString(), 'f');
    await assert.rejects(fh.seek(-10, 1), { code: 'EINVAL', syscall: 'lseek', path: '/a' });
    await assert.rejects(fh.seek(0, 7 as 0), { code: 'EINVAL' });
    assert.equal((await fh.stat()).size, 4096);
    await fh.sync();
    await fh.close();
  });
});

describe('generated files', () => {
  it('generates the content at open and serves positioned reads from it', async () => {
    const vfs = new Vfs();
    vfs.mkdir('/proc');
    let n = 0;
    vfs.addGeneratedFile('/proc/counter', async () => `count ${++n}\n`);
    const fh = await vfs.open('/proc/counter', 'r');
    assert.equal(n, 1, 'generated at open');
    const b = Buffer.alloc(5);
    await fh.read(b, 0, 5, 2);
    assert.equal(b.toString(), 'unt 1');
    assert.equal(await fh.readFile({ encoding: 'utf8' }), 'count 1\n');
    await fh.seek(0);
    assert.equal(await fh.readFile({ encoding: 'utf8' }), 'count 1\n', 'same content for this open file');
    await fh.close();
    assert.equal(await vfs.readFile('/proc/counter', { encoding: 'utf8' }), 'count 2\n');
    assert.equal((await vfs.stat('/proc/counter')).size, 0);
  });

  it('an error while generating fails the open', async () => {
    const vfs = new Vfs();
    vfs.addGeneratedFile('/g', () => { throw new Error('broken'); });
    await assert.rejects(vfs.open('/g'), { code: 'EIO', syscall: 'open', path: '/g' });
    await assert.rejects(vfs.fsync(3), { code: 'EBADF' });
    vfs.addGeneratedFile('/ok', () => '');
    const fd = await vfs.openFd('/ok', 'r');
    await assert.rejects(vfs.fsync(fd), { code: 'EINVAL', syscall: 'fsync', path: '/ok' });
  });
});
