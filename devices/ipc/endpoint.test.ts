import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Endpoint, reply, type Reply } from './endpoint.js';
import { Ring, ringBytes } from './ring.js';
import { atomicsSignal } from './signal.js';
import { SpinBudget } from './spin.js';
import type { Message } from './ring.js';

/** Two endpoints in one thread: each side's requests are served when the other drains. */
function pair(onB: (m: Message) => Reply | Promise<Reply>, cap = 1 << 16) {
  const sab = new SharedArrayBuffer(2 * ringBytes(cap));
  const r1 = new Ring(sab, 0, cap), r2 = new Ring(sab, ringBytes(cap), cap);
  const budget = new SpinBudget(new Int32Array(new SharedArrayBuffer(64)), 0); // no spinning in one thread
  const notes: number[] = [];
  const a = new Endpoint({ name: 'a', tx: r1, rx: r2, signal: atomicsSignal, budget, onRequest: () => reply(-38), onNotify: (m) => notes.push(m.op) });
  const b = new Endpoint({ name: 'b', tx: r2, rx: r1, signal: atomicsSignal, budget, onRequest: onB, onNotify: (m) => notes.push(m.op) });
  return { a, b, notes };
}

describe('Endpoint', () => {
  it('answers async requests, with payloads, once the peer serves them', async () => {
    const { a, b } = pair((m) => reply(m.a0 * 2, m.payload, m.a1 + 1));
    a.start(); b.start();
    const r = await a.request(7, 21, 1.5, 0, 0, new Uint8Array([9]));
    assert.equal(r.status, 42);
    assert.equal(r.a1, 2.5);
    assert.deepEqual([...r.payload!], [9]);
    a.close(); b.close();
  });

  it('answers requests whose handler is async', async () => {
    const { a, b } = pair(async (m) => { await new Promise((res) => setTimeout(res, 5)); return reply(m.a0 + 1); });
    a.start(); b.start();
    const rs = await Promise.all([1, 2, 3].map((v) => a.request(1, v)));
    assert.deepEqual(rs.map((r) => r.status), [2, 3, 4]);
    a.close(); b.close();
  });

  it('completes every pending request with the close status (peer died)', async () => {
    const { a, b } = pair(() => new Promise<Reply>(() => undefined));
    a.start(); b.start();
    const p = a.request(1, 1);
    await new Promise((res) => setTimeout(res, 5));
    assert.equal(a.inflight, 1);
    a.close(-5);
    assert.equal((await p).status, -5);
    assert.equal((await a.request(1, 1)).status, -107);
    b.close();
  });

  it('times out a synchronous request nobody answers', () => {
    const { a } = pair(() => reply(0));
    const r = a.requestSync(1, 1, 0, 0, 0, null, 30);
    assert.equal(r.status, -110);
    a.close();
  });

  it('queues messages while the ring is full and delivers them in order later', async () => {
    const seen: number[] = [];
    const { a, b } = pair((m) => { seen.push(m.a0); return reply(m.a0); }, 4096);
    const ps = Array.from({ length: 200 }, (_, i) => a.request(1, i, 0, 0, 0, new Uint8Array(200)));
    a.start(); b.start();
    const rs = await Promise.all(ps);
    assert.deepEqual(rs.map((r) => r.status), seen);
    assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => i));
    a.close(); b.close();
  });

  it('delivers notifications', async () => {
    const { a, b, notes } = pair(() => reply(0));
    a.start(); b.start();
    a.notify(55, 1); a.notify(56, 2);
    await new Promise((res) => setTimeout(res, 10));
    assert.deepEqual(notes, [55, 56]);
    a.close(); b.close();
  });
  it('wakes a sleeping peer once per sleep, not once per message, and the peer gets every message', async () => {
    const { a, b, notes } = pair(() => reply(0));
    b.start(); // b sleeps with its listener armed
    for (let i = 0; i < 50; i++) a.notify(100 + i);
    assert.equal(a.stats.wakeups, 1, 'one wake-up for the burst');
    await new Promise((res) => setTimeout(res, 20));
    assert.deepEqual(notes, Array.from({ length: 50 }, (_, i) => 100 + i));
    // b went back to sleep after serving: the next burst wakes it again, once.
    for (let i = 0; i < 10; i++) a.notify(200 + i);
    assert.equal(a.stats.wakeups, 2);
    await new Promise((res) => setTimeout(res, 20));
    assert.equal(notes.length, 60);
    a.close(); b.close();
  });
});
