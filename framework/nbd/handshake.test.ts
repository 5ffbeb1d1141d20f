/**
 * The NBD handshake of NbdServer, driven option by option by the test client over TCP.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { NbdOptionError, NbdTestClient } from './client.testing.js';
import { FakeBlockDevice } from '../vfs/fake-block.fixture.js';
import { rejectsWith, startServer, until } from './helpers.testing.js';
import {
  CLIENT_FLAG, encodeInfoRequest, encodeOption, HANDSHAKE_FLAG, NBD_ERR, NBD_INFO, NBD_OPT, NBD_REP, TX_FLAG,
} from './protocol.js';
import { NbdServer } from './server.js';
import { Vfs } from '../vfs/vfs.js';

const RW_FLAGS = TX_FLAG.HAS_FLAGS | TX_FLAG.SEND_FLUSH | TX_FLAG.SEND_FUA | TX_FLAG.SEND_TRIM
  | TX_FLAG.SEND_WRITE_ZEROES | TX_FLAG.CAN_MULTI_CONN | TX_FLAG.SEND_CACHE;

describe('NBD handshake', () => {
  it('greets fixed newstyle; GO reports size, flags, name, description and block sizes', async () => {
    const { server, target, dev } = await startServer();
    try {
      const c = await NbdTestClient.open(target);
      assert.equal(c.handshakeFlags, HANDSHAKE_FLAG.FIXED_NEWSTYLE | HANDSHAKE_FLAG.NO_ZEROES);
      const info = await c.go('fake0', [NBD_INFO.NAME, NBD_INFO.DESCRIPTION, NBD_INFO.BLOCK_SIZE]);
      assert.deepEqual(info, {
        size: 1 << 20, txFlags: RW_FLAGS, name: 'fake0', description: 'hmdrv /dev/fake0',
        blockSizes: { minimum: 512, preferred: 4096, maximum: 32 << 20 },
      });
      assert.equal(dev.opens, 1);
      assert.equal(server.exportName, 'fake0');
      await c.disconnect();
      await until(() => dev.releases === 1, 3000, 'release');
    } finally {
      await server.close();
    }
  });

  it('INFO then GO on one connection open the device once; block sizes are sent unasked', async () => {
    const { server, target, dev } = await startServer();
    try {
      const c = await NbdTestClient.open(target);
      const info = await c.info('', []);
      assert.equal(info.size, 1 << 20);
      assert.deepEqual(info.blockSizes, { minimum: 512, preferred: 4096, maximum: 32 << 20 });
      await c.go('', []);
      assert.equal(dev.opens, 1);
      await c.write(1, Buffer.from('x')); // did not ask for block sizes: not held to them
      await c.disconnect();
    } finally {
      await server.close();
    }
  });

  it('EXPORT_NAME with the default or the export name; 124 zeroes unless NO_ZEROES', async () => {
    const { server, target } = await startServer({ size: 4096 });
    try {
      const a = await NbdTestClient.open(target);
      assert.deepEqual(await a.exportName(''), { size: 4096, txFlags: RW_FLAGS });
      const b = await NbdTestClient.open(target, CLIENT_FLAG.FIXED_NEWSTYLE);
      const withZeroes = await b.exportName('fake0', false);
      assert.equal(withZeroes.size, 4096);
      assert.deepEqual(withZeroes.zeroes, Buffer.alloc(124));
      await b.write(0, Buffer.from('via b'));
      assert.equal((await a.read(0, 5)).toString(), 'via b');
      await Promise.all([a.disconnect(), b.disconnect()]);
    } finally {
      await server.close();
    }
  });

  it('EXPORT_NAME of an unknown export: the server hangs up (it cannot send an error)', async () => {
    const { server, target } = await startServer();
    try {
      const c = await NbdTestClient.open(target);
      await assert.rejects(c.exportName('nope'));
      await c.closed;
      const ok = await NbdTestClient.connect(target);
      await ok.disconnect();
    } finally {
      await server.close();
    }
  });

  it('GO for an unknown export: NBD_REP_ERR_UNKNOWN, and the client may try again', async () => {
    const { server, target } = await startServer();
    try {
      const c = await NbdTestClient.open(target);
      await assert.rejects(c.go('sdz'), (e: unknown) => e instanceof NbdOptionError && e.type === NBD_REP.ERR_UNKNOWN
        && /no export named 'sdz'/.test(e.detail));
      await c.go('fake0');
      assert.equal((await c.read(0, 512)).length, 512);
      await c.disconnect();
    } finally {
      await server.close();
    }
  });

  it('LIST names the export; LIST with data is NBD_REP_ERR_INVALID', async () => {
    const { server, target } = await startServer({}, { exportName: 'disk', description: 'a fake disk' });
    try {
      const c = await NbdTestClient.open(target);
      assert.deepEqual(await c.list(), [{ name: 'disk', description: 'a fake disk' }]);
      const bad = await c.option(NBD_OPT.LIST, Buffer.from('x'));
      assert.equal(bad.at(-1)!.type, NBD_REP.ERR_INVALID);
      await c.go('disk');
      await c.disconnect();
    } finally {
      await server.close();
    }
  });

  it('unsupported options get NBD_REP_ERR_UNSUP and the handshake goes on', async () => {
    const { server, target } = await startServer();
    try {
      const c = await NbdTestClient.open(target);
      for (const opt of [NBD_OPT.STRUCTURED_REPLY, NBD_OPT.STARTTLS, NBD_OPT.SET_META_CONTEXT, NBD_OPT.EXTENDED_HEADERS, 99]) {
        const replies = await c.option(opt);
        assert.equal(replies.length, 1);
        assert.equal(replies[0]!.type, NBD_REP.ERR_UNSUP, `option ${opt}`);
        assert.equal(replies[0]!.option, opt);
      }
      await c.go();
      await c.disconnect();
    } finally {
      await server.close();
    }
  });

  it('malformed INFO/GO data is NBD_REP_ERR_INVALID', async () => {
    const { server, target } = await startServer();
    try {
      const c = await NbdTestClient.open(target);
      const good = encodeInfoRequest({ name: 'fake0', infos: [NBD_INFO.BLOCK_SIZE] });
      for (const data of [Buffer.alloc(3), good.subarray(0, good.length - 1), Buffer.concat([good, Buffer.alloc(2)])]) {
        const replies = await c.option(NBD_OPT.GO, data);
        assert.equal(replies.at(-1)!.type, NBD_REP.ERR_INVALID);
      }
      await c.go();
      await c.disconnect();
    } finally {
      await server.close();
    }
  });

  it('ABORT is acknowledged, then the server closes; the device is released', async () => {
    const { server, target, dev } = await startServer();
    try {
      const c = await NbdTestClient.open(target);
      await c.info();
      assert.equal(await c.abort(), NBD_REP.ACK);
      await until(() => dev.releases === 1 && server.connectionCount === 0, 3000, 'release');
    } finally {
      await server.close();
    }
  });

  it('unknown client flags, a bad option magic or a huge option drop the connection only', async () => {
    const { server, target } = await startServer();
    try {
      const flags = await NbdTestClient.open(target, 0x80);
      await flags.closed;
      const magic = await NbdTestClient.open(target);
      const bad = encodeOption(NBD_OPT.LIST);
      bad.writeUInt32BE(0xdeadbeef, 0);
      magic.sendRaw(bad);
      await magic.closed;
      const huge = await NbdTestClient.open(target);
      const header = encodeOption(NBD_OPT.GO);
      header.writeUInt32BE(1 << 30, 12);
      huge.sendRaw(header);
      await huge.closed;
      const ok = await NbdTestClient.connect(target);
      await ok.disconnect();
    } finally {
      await server.close();
    }
  });

  it('a client that does not finish the handshake in time is dropped', async () => {
    const { server, target } = await startServer({}, { handshakeTimeoutMs: 100 });
    try {
      const c = await NbdTestClient.open(target);
      await c.closed;
      await until(() => server.connectionCount === 0, 3000, 'connection gone');
    } finally {
      await server.close();
    }
  });

  it('the transmission phase has no idle timeout', async () => {
    const { server, target } = await startServer({}, { handshakeTimeoutMs: 100 });
    try {
      const c = await NbdTestClient.connect(target);
      await sleep(250);
      await c.write(0, Buffer.alloc(512, 1));
      await c.disconnect();
    } finally {
      await server.close();
    }
  });

  it('a read-only export advertises READ_ONLY, not TRIM/WRITE_ZEROES, and refuses writes with EPERM', async () => {
    const { server, target, dev } = await startServer({}, { readOnly: true });
    try {
      const c = await NbdTestClient.connect(target);
      const f = c.export!.txFlags;
      assert.ok(f & TX_FLAG.READ_ONLY);
      assert.equal(f & (TX_FLAG.SEND_TRIM | TX_FLAG.SEND_WRITE_ZEROES), 0);
      dev.data.write('hello', 0);
      assert.equal((await c.read(0, 512)).subarray(0, 5).toString(), 'hello');
      await rejectsWith(c.write(0, Buffer.alloc(512)), NBD_ERR.EPERM);
      await rejectsWith(c.trim(0, 512), NBD_ERR.EPERM);
      await rejectsWith(c.writeZeroes(0, 512), NBD_ERR.EPERM);
      await c.flush();
      assert.equal(dev.data.subarray(0, 5).toString(), 'hello');
      await c.disconnect();
    } finally {
      await server.close();
    }
  });

  it('a node the caller may only read is exported read-only; one it may not open is ERR_POLICY', async () => {
    const vfs = new Vfs();
    vfs.mkdir('/dev');
    vfs.mknod('/dev/ro0', { major: 8, minor: 16, block: true, ops: new FakeBlockDevice({ size: 4096 }), mode: 0o644 });
    vfs.mknod('/dev/priv0', { major: 8, minor: 32, block: true, ops: new FakeBlockDevice({ size: 4096 }), mode: 0o600 });
    const cred = { uid: 1000, gid: 1000 };
    const ro = await NbdServer.listen(vfs, { path: '/dev/ro0', port: 0, cred });
    const priv = await NbdServer.listen(vfs, { path: '/dev/priv0', port: 0, cred });
    try {
      const c = await NbdTestClient.connect({ port: ro.address.port! });
      assert.ok(c.export!.txFlags & TX_FLAG.READ_ONLY);
      await rejectsWith(c.write(0, Buffer.alloc(512)), NBD_ERR.EPERM);
      await c.disconnect();
      const d = await NbdTestClient.open({ port: priv.address.port! });
      await assert.rejects(d.go(), (e: unknown) => e instanceof NbdOptionError && e.type === NBD_REP.ERR_POLICY);
      d.destroy();
    } finally {
      await Promise.all([ro.close(), priv.close()]);
    }
  });
});
