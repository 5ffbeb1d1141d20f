/**
 * NBD transmission against a fake block device: data commands, FUA and FLUSH ordering, and the
 * error replies for bad requests (which never end the connection).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NbdTestClient } from './client.testing.js';
import { pattern, rejectsWith, startServer, until } from './helpers.testing.js';
import { encodeRequest, NBD_CMD, NBD_CMD_FLAG, NBD_ERR, NBD_INFO } from './protocol.js';

describe('NBD transmission: data', () => {
  it('writes and reads back; the device holds the bytes', async () => {
    const { server, target, dev } = await startServer();
    try {
      const c = await NbdTestClient.connect(target);
      const data = pattern(8192, 7);
      await c.write(4096, data);
      assert.deepEqual(dev.data.subarray(4096, 4096 + 8192), data);
      assert.deepEqual(await c.read(4096, 8192), data);
      assert.deepEqual(await c.read((1 << 20) - 512, 512), Buffer.alloc(512)); // the last sector
      assert.equal(dev.syncs, 0, 'a plain write does not sync');
      await c.disconnect();
      const s = server.stats();
      assert.equal(s.requests.WRITE, 1);
      assert.equal(s.requests.READ, 2);
      assert.equal(s.bytesWritten, 8192);
      assert.equal(s.bytesRead, 8192 + 512);
    } finally {
      await server.close();
    }
  });

  it('moves large requests over a device that transfers at most 64 KiB a call', async () => {
    const { server, target, dev } = await startServer({ size: 16 << 20, maxChunk: 64 << 10 });
    try {
      const c = await NbdTestClient.connect(target);
      const data = pattern(4 << 20, 3);
      await c.write(1 << 20, data);
      assert.deepEqual(await c.read(1 << 20, 4 << 20), data);
      assert.ok(dev.events.filter((e) => e.startsWith('write')).length >= 64);
      await c.disconnect();
    } finally {
      await server.close();
    }
  });

  it('a FUA write is synced before it is answered', async () => {
    const { server, target, dev } = await startServer({ delay: (op) => (op === 'fsync' ? 30 : 0) });
    try {
      const c = await NbdTestClient.connect(target);
      await c.write(0, pattern(512), NBD_CMD_FLAG.FUA);
      assert.equal(dev.syncs, 1);
      assert.deepEqual(dev.events, ['write 0+512', 'fsync']);
      await c.disconnect();
    } finally {
      await server.close();
    }
  });

  it('FLUSH syncs the device; a device without fsync flushes as a no-op', async () => {
    const a = await startServer({ delay: (op) => (op === 'fsync' ? 20 : 0) });
    const b = await startServer({ fsync: false });
    try {
      const c = await NbdTestClient.connect(a.target);
      await c.write(0, pattern(1024));
      await c.flush();
      assert.deepEqual(a.dev.events, ['write 0+1024', 'fsync']);
      const d = await NbdTestClient.connect(b.target);
      await d.write(0, pattern(1024), NBD_CMD_FLAG.FUA);
      await d.flush();
      await d.flush();
      await Promise.all([c.disconnect(), d.disconnect()]);
    } finally {
      await Promise.all([a.server.close(), b.server.close()]);
    }
  });

  it('TRIM and WRITE_ZEROES (with NO_HOLE, FUA) zero the range', async () => {
    const { server, target, dev } = await startServer({ size: 8 << 20 });
    try {
      const c = await NbdTestClient.connect(target);
      dev.data.fill(0xaa);
      await c.trim(4096, 4096);
      await c.writeZeroes(3 << 20, 3 << 20, NBD_CMD_FLAG.NO_HOLE | NBD_CMD_FLAG.FUA);
      assert.deepEqual(await c.read(0, 12288), Buffer.concat([Buffer.alloc(4096, 0xaa), Buffer.alloc(4096), Buffer.alloc(4096, 0xaa)]));
      assert.ok(dev.data.subarray(3 << 20, 6 << 20).every((x) => x === 0));
      assert.equal(dev.data[(3 << 20) - 1], 0xaa);
      assert.equal(dev.data[6 << 20], 0xaa);
      assert.equal(dev.syncs, 1);
      await c.disconnect();
    } finally {
      await server.close();
    }
  });

  it('CACHE in range succeeds without touching the device', async () => {
    const { server, target, dev } = await startServer();
    try {
      const c = await NbdTestClient.connect(target);
      await c.cache(0, 1 << 20);
      assert.deepEqual(dev.events, []);
      await rejectsWith(c.cache(1 << 20, 512), NBD_ERR.EINVAL);
      await c.disconnect();
    } finally {
      await server.close();
    }
  });

  it('clients that did not ask for block sizes may do unaligned I/O', async () => {
    const { server, target } = await startServer();
    try {
      const c = await NbdTestClient.open(target);
      await c.exportName('');
      await c.write(3, Buffer.from('unaligned'));
      assert.equal((await c.read(1, 13)).toString('latin1'), '\0\0unaligned\0\0');
      await c.disconnect();
    } finally {
      await server.close();
    }
  });
});

describe('NBD transmission: errors', () => {
  it('out of range: READ/CACHE EINVAL, WRITE/TRIM/WRITE_ZEROES ENOSPC; the connection goes on', async () => {
    const { server, target, dev } = await startServer();
    try {
      const c = await NbdTestClient.connect(target);
      const end = 1 << 20;
      await rejectsWith(c.read(end, 512), NBD_ERR.EINVAL);
      await rejectsWith(c.read(end - 512, 1024), NBD_ERR.EINVAL);
      await rejectsWith(c.read(2 ** 62, 512), NBD_ERR.EINVAL);
      await rejectsWith(c.write(end - 512, pattern(1024)), NBD_ERR.ENOSPC);
      await rejectsWith(c.trim(end, 512), NBD_ERR.ENOSPC);
      await rejectsWith(c.writeZeroes(end - 512, 1024), NBD_ERR.ENOSPC);
      // the refused write's payload was consumed: the stream is still in step
      await c.write(end - 512, pattern(512, 9));
      assert.deepEqual(await c.read(end - 512, 512), pattern(512, 9));
      assert.equal(dev.events.filter((e) => e.startsWith('write')).length, 1);
      await c.disconnect();
      assert.equal(server.stats().errors, 6);
    } finally {
      await server.close();
    }
  });

  it('misaligned requests are EINVAL for a client that asked for the block sizes', async () => {
    const { server, target } = await startServer({}, { minBlockSize: 4096 });
    try {
      const c = await NbdTestClient.open(target);
      const info = await c.go('', [NBD_INFO.BLOCK_SIZE]);
      assert.equal(info.blockSizes!.minimum, 4096);
      await rejectsWith(c.read(512, 4096), NBD_ERR.EINVAL);
      await rejectsWith(c.read(0, 512), NBD_ERR.EINVAL);
      await rejectsWith(c.write(4096, pattern(100)), NBD_ERR.EINVAL);
      await rejectsWith(c.writeZeroes(100, 4096), NBD_ERR.EINVAL);
      assert.equal((await c.read(4096, 8192)).length, 8192);
      await c.disconnect();
    } finally {
      await server.close();
    }
  });

  it('unknown commands, flags the command does not take, and FLUSH with a range are EINVAL', async () => {
    const { server, target } = await startServer();
    try {
      const c = await NbdTestClient.connect(target);
      await rejectsWith(c.request(99, { offset: 0, length: 512 }), NBD_ERR.EINVAL);
      await rejectsWith(c.request(NBD_CMD.BLOCK_STATUS, { offset: 0, length: 512 }), NBD_ERR.EINVAL);
      await rejectsWith(c.read(0, 512, NBD_CMD_FLAG.DF), NBD_ERR.EINVAL);
      await rejectsWith(c.read(0, 512, 0x8000), NBD_ERR.EINVAL);
      await rejectsWith(c.write(0, pattern(512), NBD_CMD_FLAG.NO_HOLE), NBD_ERR.EINVAL);
      await rejectsWith(c.writeZeroes(0, 512, NBD_CMD_FLAG.FAST_ZERO), NBD_ERR.EINVAL);
      await rejectsWith(c.request(NBD_CMD.FLUSH, { offset: 512, length: 0 }), NBD_ERR.EINVAL);
      await c.read(0, 512, NBD_CMD_FLAG.FUA); // FUA must be accepted on any command
      await c.disconnect();
    } finally {
      await server.close();
    }
  });

  it('payloads above the maximum block size: READ EINVAL, WRITE skipped and EINVAL', async () => {
    const { server, target, dev } = await startServer({}, { maxBlockSize: 64 << 10 });
    try {
      const c = await NbdTestClient.connect(target);
      assert.equal(c.export!.blockSizes!.maximum, 64 << 10);
      await rejectsWith(c.read(0, 128 << 10), NBD_ERR.EINVAL);
      await rejectsWith(c.write(0, pattern(256 << 10)), NBD_ERR.EINVAL);
      assert.deepEqual(dev.events, []);
      await c.write(0, pattern(64 << 10, 5));
      assert.deepEqual(await c.read(0, 64 << 10), pattern(64 << 10, 5));
      await c.disconnect();
    } finally {
      await server.close();
    }
  });

  it('device errors become EIO; other requests still succeed', async () => {
    const { server, target, logs } = await startServer({ failRange: [8192, 12288] });
    try {
      const c = await NbdTestClient.connect(target);
      await rejectsWith(c.read(4096, 8192), NBD_ERR.EIO);
      await rejectsWith(c.write(8192, pattern(512)), NBD_ERR.EIO);
      await c.write(0, pattern(512));
      assert.equal((await c.read(0, 4096)).length, 4096);
      assert.ok(logs.some((l) => /READ 8192@4096/.test(l)), logs.join('\n'));
      await c.disconnect();
    } finally {
      await server.close();
    }
  });

  it('a request with a bad magic ends that connection only; zero-length requests are harmless', async () => {
    const { server, target, dev } = await startServer();
    try {
      const c = await NbdTestClient.connect(target);
      assert.equal((await c.read(0, 0)).length, 0);
      await c.write(0, Buffer.alloc(0));
      const other = await NbdTestClient.connect(target);
      c.sendRaw(encodeRequest({ magic: 0x12345678, flags: 0, type: NBD_CMD.READ, handle: 1n, offset: 0, length: 512 }));
      await c.closed;
      await other.write(0, pattern(512));
      await other.disconnect();
      await until(() => dev.releases === 2, 3000, 'both released');
    } finally {
      await server.close();
    }
  });
});
