/**
 * NbdServer.listen and close: option checks, what may be exported, TCP and unix sockets, URIs;
 * plus the protocol codecs and the stream reader the server is built on.
 */
import assert from 'node:assert/strict';
import { lstat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HmError, SystemError } from '../errors/hm-error.js';
import { Vfs } from '../vfs/vfs.js';
import { Budget } from './budget.js';
import { NbdTestClient } from './client.testing.js';
import { FakeBlockDevice, fakeDisk } from '../vfs/fake-block.fixture.js';
import { pattern, startServer } from './helpers.testing.js';
import {
  decodeInfoRequest, decodeRequest, encodeInfoRequest, encodeRequest, nbdErrorOf, NBD_ERR,
} from './protocol.js';
import { StreamReader } from './reader.js';
import { nbdUri, NbdServer } from './server.js';

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'hmnbd-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

describe('NbdServer.listen', () => {
  it('listens on 127.0.0.1 by default and names the export after the node', async () => {
    const { server } = await startServer();
    try {
      assert.equal(server.address.host, '127.0.0.1');
      assert.ok(server.address.port! > 0);
      assert.equal(server.uri, `nbd://127.0.0.1:${server.address.port}/fake0`);
      assert.equal(server.devicePath, '/dev/fake0');
      assert.equal(server.readOnly, false);
    } finally {
      await server.close();
    }
  });

  it('refuses a missing node (ENOENT), a character device (ENOTBLK) and bad options (EINVAL)', async () => {
    const { vfs, path } = fakeDisk({ size: 4096 });
    vfs.mknod('/dev/tty0', { major: 4, minor: 0, ops: new FakeBlockDevice({ size: 1 }) });
    await assert.rejects(NbdServer.listen(vfs, { path: '/dev/nope', port: 0 }), (e: unknown) => e instanceof SystemError && e.code === 'ENOENT');
    await assert.rejects(NbdServer.listen(vfs, { path: '/dev/tty0', port: 0 }), (e: unknown) => e instanceof SystemError && e.code === 'ENOTBLK');
    for (const bad of [
      { minBlockSize: 3 }, { minBlockSize: 1 << 17 }, { preferredBlockSize: 256 }, { maxBlockSize: 1000 },
      { maxInFlight: 0 }, { port: 70000 }, { exportName: 'a\0b' },
    ]) {
      await assert.rejects(NbdServer.listen(vfs, { path, port: 0, ...bad }), (e: unknown) => e instanceof HmError && e.code === 'EINVAL', JSON.stringify(bad));
    }
  });

  it('reports a taken port as EADDRINUSE', async () => {
    const { server } = await startServer();
    try {
      const { vfs, path } = fakeDisk({ size: 4096 });
      await assert.rejects(NbdServer.listen(vfs, { path, port: server.address.port! }),
        (e: unknown) => e instanceof HmError && e.code === 'EADDRINUSE' && e.suggestions.length > 0);
    } finally {
      await server.close();
    }
  });

  it('serves a unix socket (0600, nbd+unix URI), replaces a stale one, removes it on close', async () => {
    const socketPath = join(dir, 'nbd.sock');
    // A stale socket file: bound once, its server gone.
    const stale = createServer();
    await new Promise<void>((resolve) => stale.listen(socketPath, resolve));
    await new Promise<void>((resolve) => { stale.close(() => resolve()); });
    await writeFile(join(dir, 'plain'), 'x');
    const { server, target } = await startServer({}, { socketPath });
    try {
      assert.equal(server.uri, `nbd+unix:///fake0?socket=${socketPath}`);
      assert.equal((await lstat(socketPath)).mode & 0o777, 0o600);
      const c = await NbdTestClient.connect(target, 'fake0');
      await c.write(0, pattern(512));
      assert.deepEqual(await c.read(0, 512), pattern(512));
      await c.disconnect();
      const { vfs, path } = fakeDisk({ size: 4096 });
      await assert.rejects(NbdServer.listen(vfs, { path, socketPath }), (e: unknown) => e instanceof HmError && e.code === 'EADDRINUSE');
      await assert.rejects(NbdServer.listen(vfs, { path, socketPath: join(dir, 'plain') }), (e: unknown) => e instanceof HmError && e.code === 'EEXIST');
    } finally {
      await server.close();
    }
    await assert.rejects(lstat(socketPath));
  });

  it('close() is idempotent and refuses new clients', async () => {
    const { server, target } = await startServer();
    await Promise.all([server.close(), server.close()]);
    await assert.rejects(NbdTestClient.open(target));
  });

  it('builds URIs for IPv4, IPv6 and unix sockets', () => {
    assert.equal(nbdUri({ host: '127.0.0.1', port: 10809 }, 'sda'), 'nbd://127.0.0.1:10809/sda');
    assert.equal(nbdUri({ host: '::1', port: 10809 }, ''), 'nbd://[::1]:10809/');
    assert.equal(nbdUri({ socketPath: '/run/x.sock' }, 'a b'), 'nbd+unix:///a%20b?socket=/run/x.sock');
  });

  it('opens one VFS file per connection and closes it afterwards', async () => {
    const vfs = new Vfs();
    vfs.mkdir('/dev');
    const dev = new FakeBlockDevice({ size: 8192 });
    vfs.mknod('/dev/sda', { major: 8, minor: 0, block: true, ops: dev });
    const server = await NbdServer.listen(vfs, { path: '/dev/sda', port: 0 });
    try {
      const a = await NbdTestClient.connect({ port: server.address.port! });
      const b = await NbdTestClient.connect({ port: server.address.port! }, 'sda');
      assert.equal(vfs.openFds().length, 2);
      await Promise.all([a.disconnect(), b.disconnect()]);
      for (let i = 0; i < 100 && vfs.openFds().length > 0; i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(vfs.openFds().length, 0);
    } finally {
      await server.close();
    }
  });
});

describe('NBD protocol codecs', () => {
  it('round-trips requests (64-bit handles and offsets) and INFO requests', () => {
    const r = { flags: 1, type: 1, handle: 0xfedcba9876543210n, offset: 2 ** 40 + 512, length: 0xffffffff };
    assert.deepEqual(decodeRequest(encodeRequest(r)), { magic: 0x25609513, ...r });
    assert.deepEqual(decodeInfoRequest(encodeInfoRequest({ name: 'sdä', infos: [0, 3] })), { name: 'sdä', infos: [0, 3] });
    assert.equal(typeof decodeInfoRequest(Buffer.alloc(2)), 'string');
  });

  it('folds errno codes onto the NBD error values', () => {
    const e = (code: string) => Object.assign(new Error(code), { code });
    assert.equal(nbdErrorOf(e('EROFS')), NBD_ERR.EPERM);
    assert.equal(nbdErrorOf(e('EDQUOT')), NBD_ERR.ENOSPC);
    assert.equal(nbdErrorOf(e('EINVAL')), NBD_ERR.EINVAL);
    assert.equal(nbdErrorOf(e('ENODEV')), NBD_ERR.EIO);
    assert.equal(nbdErrorOf(new Error('crash')), NBD_ERR.EIO);
  });
});

describe('StreamReader and Budget', () => {
  it('reads exact lengths across chunks and pauses the socket while too much is buffered', async () => {
    const { EventEmitter } = await import('node:events');
    const sock = Object.assign(new EventEmitter(), {
      paused: false, destroyed: false,
      pause() { this.paused = true; }, resume() { this.paused = false; },
    });
    const reader = new StreamReader(sock as never, 8);
    const p = reader.read(5);
    sock.emit('data', Buffer.from('ab'));
    sock.emit('data', Buffer.from('cdefghijkl'));
    assert.equal((await p).toString(), 'abcde');
    assert.equal(reader.buffered, 7);
    sock.emit('data', Buffer.from('mn'));
    assert.equal(sock.paused, true);
    assert.equal((await reader.read(6)).toString(), 'fghijk');
    assert.equal(sock.paused, false);
    const tail = reader.read(10);
    sock.emit('end');
    await assert.rejects(tail, { name: 'StreamClosed' });
    assert.equal((await reader.read(3)).toString(), 'lmn');
  });

  it('Budget admits FIFO within the limit and lets an oversized request through alone', async () => {
    const b = new Budget(10);
    assert.equal(b.acquire(6), undefined);
    const order: string[] = [];
    const big = b.acquire(20)!.then(() => order.push('big'));
    const small = b.acquire(1)!.then(() => order.push('small'));
    b.release(6);
    await big;
    assert.equal(b.inUse, 20);
    b.release(20);
    await small;
    assert.deepEqual(order, ['big', 'small']);
  });
});
