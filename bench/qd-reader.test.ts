import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { IFileHandle } from '../framework/vfs/api.js';
import { QdReader } from './qd-reader.js';

/** A file whose reads complete a few microtasks later; `short` makes the read at that position short. */
function fakeFile(bs: number, short = -1) {
  const st = { inflight: 0, max: 0, started: 0, positions: [] as number[] };
  const fh = {
    async read(buf: Uint8Array, _off: number, len: number, pos: number) {
      st.inflight++; st.started++; st.max = Math.max(st.max, st.inflight); st.positions.push(pos);
      await new Promise<void>((r) => setImmediate(r));
      st.inflight--;
      return { bytesRead: pos === short ? len - 1 : bs, buffer: buf };
    },
  } as unknown as IFileHandle;
  return { fh, st };
}

const bufs = (n: number, bs: number) => Array.from({ length: n }, () => new Uint8Array(bs));

test('QdReader keeps the queue full: never more than depth in flight, still depth in flight after a run', async () => {
  const { fh, st } = fakeFile(512);
  let pos = 0;
  const r = new QdReader(fh, bufs(4, 512), 512, () => (pos += 512));
  await r.run(10);
  assert.ok(r.reads >= 10, `completed ${r.reads}`);
  assert.equal(st.max, 4);
  assert.equal(st.inflight, 4, 'the queue is still full when run() resolves');
  const before = r.reads;
  await r.run(25);
  assert.ok(r.reads - before >= 25);
  assert.equal(st.max, 4);
  await r.close();
  assert.equal(st.inflight, 0);
  assert.equal(new Set(st.positions).size, st.positions.length, 'every read asked its own position');
});

test('QdReader: a short read fails the run, and later runs', async () => {
  const { fh } = fakeFile(512, 512 * 7);
  let pos = 0;
  const r = new QdReader(fh, bufs(2, 512), 512, () => (pos += 512));
  await assert.rejects(r.run(100), /short read at 3584: 511 of 512/);
  await assert.rejects(r.run(1), /short read/);
  await r.close();
});

test('QdReader refuses a zero depth and overlapping runs', async () => {
  const { fh } = fakeFile(512);
  assert.throws(() => new QdReader(fh, [], 512, () => 0), RangeError);
  const r = new QdReader(fh, bufs(1, 512), 512, () => 0);
  const a = r.run(3);
  await assert.rejects(r.run(1), /already going/);
  await a;
  await r.close();
  await assert.rejects(r.run(1), /closed/);
});
