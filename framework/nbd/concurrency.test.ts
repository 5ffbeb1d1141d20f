/**
 * NBD requests in flight: concurrency and its bound, out-of-order replies matched by handle,
 * several clients, and clients (or the server) going away while requests run.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { NbdTestClient } from './client.testing.js';
import { pattern, startServer, until } from './helpers.testing.js';
import { encodeRequest, NBD_CMD } from './protocol.js';

const SECTOR = 4096;

describe('NBD concurrency', () => {
  it('runs many requests at once and replies as each completes (out of order, matched by handle)', async () => {
    const N = 32;
    // Earlier offsets are slower, and the last request sent is immediate: it completes first
    // even when a loaded machine spreads the arrivals of the others over tens of milliseconds.
    const delay = (op: string, pos: number): number => (op !== 'read' ? 0 : pos / SECTOR === N - 1 ? 0 : 50 + (N - pos / SECTOR) * 3);
    const { server, target, dev } = await startServer({ delay });
    try {
      const c = await NbdTestClient.connect(target);
      const expected = pattern(N * SECTOR, 11);
      dev.data.set(expected, 0);
      const first = c.peekHandle();
      const reads = Array.from({ length: N }, (_, i) => c.read(i * SECTOR, SECTOR));
      const results = await Promise.all(reads);
      results.forEach((r, i) => assert.deepEqual(r, expected.subarray(i * SECTOR, (i + 1) * SECTOR), `read ${i}`));
      const sent = Array.from({ length: N }, (_, i) => first + BigInt(i));
      assert.notDeepEqual(c.replyOrder, sent, 'replies came in request order');
      assert.equal(c.replyOrder[0], first + BigInt(N - 1), 'the fastest (last sent) request is answered first');
      assert.deepEqual([...c.replyOrder].sort((a, b) => (a < b ? -1 : 1)), sent);
      assert.ok(dev.maxActive >= N / 2, `device saw only ${dev.maxActive} requests at once`);
      await c.disconnect();
    } finally {
      await server.close();
    }
  });

  it('bounds the requests in flight per connection (maxInFlight)', async () => {
    const { server, target, dev } = await startServer({ delay: () => 5 }, { maxInFlight: 4 });
    try {
      const c = await NbdTestClient.connect(target);
      await Promise.all(Array.from({ length: 40 }, (_, i) => c.write(i * SECTOR, pattern(SECTOR, i + 1))));
      assert.ok(dev.maxActive <= 4, `maxActive ${dev.maxActive}`);
      assert.ok(dev.maxActive >= 2, `maxActive ${dev.maxActive}`);
      for (let i = 0; i < 40; i++) assert.deepEqual(dev.data.subarray(i * SECTOR, (i + 1) * SECTOR), pattern(SECTOR, i + 1));
      await c.disconnect();
    } finally {
      await server.close();
    }
  });

  it('bounds the bytes in flight per connection (maxInFlightBytes)', async () => {
    const { server, target, dev } = await startServer({ size: 8 << 20, delay: () => 5 }, { maxInFlightBytes: 256 << 10 });
    try {
      const c = await NbdTestClient.connect(target);
      await Promise.all(Array.from({ length: 16 }, (_, i) => c.write(i * (128 << 10), pattern(128 << 10, i + 1))));
      assert.ok(dev.maxActive <= 2, `maxActive ${dev.maxActive}`);
      await c.disconnect();
    } finally {
      await server.close();
    }
  });

  it('serves several clients at once; a reply on one is visible to the others', async () => {
    const { server, target, dev } = await startServer({ delay: () => Math.random() * 4 });
    try {
      const clients = await Promise.all(Array.from({ length: 6 }, () => NbdTestClient.connect(target)));
      assert.equal(server.connectionCount, 6);
      await Promise.all(clients.map(async (c, k) => {
        const base = k * 64 * 1024;
        await Promise.all(Array.from({ length: 16 }, (_, i) => c.write(base + i * SECTOR, pattern(SECTOR, 100 * k + i))));
        const back = await Promise.all(Array.from({ length: 16 }, (_, i) => c.read(base + i * SECTOR, SECTOR)));
        back.forEach((b, i) => assert.deepEqual(b, pattern(SECTOR, 100 * k + i)));
      }));
      // cross-connection visibility (CAN_MULTI_CONN: no per-connection cache)
      assert.deepEqual(await clients[0]!.read(5 * 64 * 1024, SECTOR), pattern(SECTOR, 500));
      await Promise.all(clients.map((c) => c.disconnect()));
      await until(() => dev.releases === 6 && server.connectionCount === 0, 3000, 'all released');
    } finally {
      await server.close();
    }
  });

  it('a client vanishing mid-flight: its requests complete, replies are dropped, the device is released', async () => {
    const { server, target, dev } = await startServer({ delay: (op) => (op === 'write' ? 60 : 0) });
    try {
      const c = await NbdTestClient.connect(target);
      const writes = Array.from({ length: 10 }, (_, i) => c.write(i * SECTOR, pattern(SECTOR, i + 1)).catch(() => 'lost'));
      await until(() => dev.active === 10, 3000, 'writes in flight');
      c.destroy();
      assert.deepEqual(await Promise.all(writes), Array(10).fill('lost'));
      assert.equal(dev.releases, 0, 'released while requests were still running');
      await until(() => dev.releases === 1, 3000, 'release after the writes');
      assert.equal(dev.events.filter((e) => e.startsWith('write')).length, 10);
      assert.equal(server.stats().droppedReplies, 10);
      const again = await NbdTestClient.connect(target);
      assert.deepEqual(await again.read(9 * SECTOR, SECTOR), pattern(SECTOR, 10));
      await again.disconnect();
    } finally {
      await server.close();
    }
  });

  it('a client vanishing in the middle of a write payload does not disturb the server', async () => {
    const { server, target, dev } = await startServer();
    try {
      const c = await NbdTestClient.connect(target);
      c.sendRaw(encodeRequest({ flags: 0, type: NBD_CMD.WRITE, handle: 77n, offset: 0, length: 65536 }));
      c.sendRaw(pattern(1000));
      await sleep(20);
      c.destroy();
      await until(() => dev.releases === 1, 3000, 'release');
      assert.deepEqual(dev.events, []);
      const again = await NbdTestClient.connect(target);
      await again.write(0, pattern(512));
      await again.disconnect();
    } finally {
      await server.close();
    }
  });

  it('DISC with requests in flight: all are answered before the server closes', async () => {
    const { server, target, dev } = await startServer({ delay: () => 20 });
    try {
      const c = await NbdTestClient.connect(target);
      const writes = Array.from({ length: 8 }, (_, i) => c.write(i * SECTOR, pattern(SECTOR, i + 1)));
      const reads = Array.from({ length: 8 }, (_, i) => c.read(i * SECTOR, SECTOR));
      await c.disconnect();
      await Promise.all(writes);
      assert.equal((await Promise.all(reads)).length, 8);
      await until(() => dev.releases === 1, 3000, 'release');
    } finally {
      await server.close();
    }
  });

  it('close() lets requests in flight finish and answers them, then ends the connections', async () => {
    const { server, target, dev } = await startServer({ delay: () => 40 });
    const c = await NbdTestClient.connect(target);
    const idle = await NbdTestClient.open(target); // still in the handshake
    const writes = Array.from({ length: 5 }, (_, i) => c.write(i * SECTOR, pattern(SECTOR, i + 1)));
    await until(() => dev.active === 5, 3000, 'writes in flight');
    await server.close();
    await Promise.all(writes);
    await Promise.all([c.closed, idle.closed]);
    assert.equal(dev.releases, 1);
    assert.equal(server.connectionCount, 0);
  });

  it('close() does not cut large replies that are still being sent', async () => {
    const { server, target, dev } = await startServer({ size: 64 << 20, delay: () => 20 });
    const expected = pattern(32 << 20, 4);
    dev.data.set(expected, 0);
    const c = await NbdTestClient.connect(target);
    c.sock.pause(); // a slow reader: replies pile up in the socket
    const reads = Array.from({ length: 8 }, (_, i) => c.read(i * (4 << 20), 4 << 20));
    await until(() => dev.active > 0, 3000, 'reads in flight');
    const closing = server.close();
    await sleep(50);
    c.sock.resume();
    const got = await Promise.all(reads);
    got.forEach((b, i) => assert.ok(b.equals(expected.subarray(i * (4 << 20), (i + 1) * (4 << 20))), `read ${i}`));
    await closing;
    await c.closed;
  });

  it('garbage from clients (in the handshake or after it) never disturbs the server', async () => {
    const { server, target, dev } = await startServer();
    try {
      const { createConnection } = await import('node:net');
      await Promise.all(Array.from({ length: 20 }, async (_, i) => {
        const junk = pattern(64 + i * 97, i + 1);
        if (i % 2 === 0) {
          const s = createConnection({ host: '127.0.0.1', port: (target as { port: number }).port });
          s.on('error', () => undefined);
          s.write(junk);
          await new Promise((resolve) => { s.on('close', resolve); setTimeout(() => { s.destroy(); }, 200); });
        } else {
          const c = await NbdTestClient.connect(target);
          c.sendRaw(junk);
          await Promise.race([c.closed, sleep(200)]);
          c.destroy();
        }
      }));
      await until(() => server.connectionCount === 0, 3000, 'all gone');
      const ok = await NbdTestClient.connect(target);
      await ok.write(0, pattern(512, 3));
      assert.deepEqual(await ok.read(0, 512), pattern(512, 3));
      await ok.disconnect();
      assert.equal(dev.opens, dev.releases + 0);
    } finally {
      await server.close();
    }
  });
});
