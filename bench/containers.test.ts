// Smoke test of the containers bench suite's plumbing: IC1 and IC2 kernels boot through the
// suite's helpers, a few hundred synchronous and asynchronous round trips and VFS ioctls give
// the right answers, the IC2 child's memory can be read, and everything shuts down.
// Never asserts on speed: this VM is shared and has 2 vCPUs.

import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import type { BootedKernel } from '../framework/boot.js';
import { ioctlNumber } from '../framework/platform/ioctl.js';
import { O } from '../framework/vfs/types.js';
import { bootClass, childMemory, echoHost, HMECHO_IOC_PING, pingSyncMany } from './suites/containers.js';

const ROUND_TRIPS = 300;

test('HMECHO_IOC_PING is _IOWR(\'E\', 5, 8)', () => {
  assert.equal(HMECHO_IOC_PING, ioctlNumber({ dir: 'readwrite', type: 'E', nr: 5, size: 8 }));
});

for (const ic of ['ic1', 'ic2'] as const) {
  // A lost answer must fail the test, not hang it.
  describe(`containers bench helpers in ${ic}`, { timeout: 30_000 }, () => {
    let k: BootedKernel | undefined;
    before(async () => { k = await bootClass(ic); });
    after(async () => { await k?.shutdown(); });

    test('the kernel runs one echo container in the requested class', () => {
      const host = echoHost(k!);
      assert.equal(host.isolation, ic);
      const info = k!.containers();
      assert.equal(info.length, 1);
      assert.equal(info[0]!.isolation, ic);
      if (ic === 'ic2') {
        assert.ok(host.pid! > 0);
        assert.equal(info[0]!.pid, host.pid);
      }
    });

    test('pingSync echoes its value', () => {
      const host = echoHost(k!);
      pingSyncMany(host, ROUND_TRIPS, 1); // throws on a wrong answer
      for (const v of [0, 1, 0x3fffffff, 0x7fffffff]) assert.equal(host.ops.pingSync(v), v);
      assert.ok(host.stats().calls >= ROUND_TRIPS + 4);
    });

    test('ping (async) echoes its value', async () => {
      const host = echoHost(k!);
      for (let i = 0; i < ROUND_TRIPS; i++) assert.equal(await host.ops.ping(i), i);
    });

    test('HMECHO_IOC_PING through the VFS returns the u64 plus one', async () => {
      const fh = await k!.vfs.open('/dev/hmecho', O.RDWR);
      try {
        const buf = new Uint8Array(8);
        const view = new DataView(buf.buffer);
        for (let i = 0; i < ROUND_TRIPS; i++) {
          // Values around 2^32 check the carry into the high word.
          const v = BigInt(i) + (i % 2 ? 0xffffff00n : 0n);
          view.setBigUint64(0, v, true);
          const { ret } = await fh.ioctl(HMECHO_IOC_PING, buf);
          assert.equal(ret, 0);
          assert.equal(view.getBigUint64(0, true), v + 1n);
        }
      } finally {
        await fh.close();
      }
    });

    if (ic === 'ic2') {
      test('the child\'s memory figures can be read from /proc', () => {
        const m = childMemory([echoHost(k!).pid!]);
        assert.ok(m.vmRssMB > 1, `VmRSS ${m.vmRssMB}`);
        assert.ok(m.rssAnonMB > 0 && m.rssAnonMB <= m.vmRssMB);
        if (m.pssMB !== null) assert.ok(m.pssMB > 0 && m.pssMB <= m.vmRssMB + 1);
        if (m.ussMB !== null) assert.ok(m.ussMB > 0 && m.ussMB <= m.vmRssMB + 1);
      });
    }
  });
}
