/**
 * The UFS disks across restarts, in every isolation class: data written before a platform
 * shutdown is there after the platform boots again over the same backing files; a driver
 * container killed in the middle of I/O fails what was in flight with EIO (nothing hangs),
 * is restarted, re-probes, and /dev/sda serves the acknowledged data again.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { runLoad } from '../../framework/io/loadgen.js';
import { VerifyPattern } from '../../framework/io/pattern.js';
import { O } from '../../framework/vfs/types.js';
import { isSystemError } from '../../framework/errors/hm-error.js';
import type { IsolationClass } from '../../framework/platform/types.js';
import { bootUfs } from './ufs-rig.testing.js';

const CHUNK = 128 << 10;
const WRITERS = 6;
/** Each writer owns a 16 MiB stripe of /dev/sda. */
const STRIPE = 16 << 20;

type Dm = { dm: { containers: Map<string, { host: { kill(e: { reason: string; detail: string }): void } | null }> } };

for (const ic of ['ic0', 'ic1', 'ic2'] as IsolationClass[]) {
  describe(`UFS restarts in ${ic}`, () => {
    it('keeps the data across a platform shutdown and boot with the same backing files', async () => {
      const first = await bootUfs(ic);
      try {
        const w = await runLoad({ vfs: first.k.vfs, path: '/dev/sda', rw: 'randwrite', bs: 64 << 10, iodepth: 8, size: 32 << 20, ioCount: 256, seed: 77, verify: true, endFsync: true });
        assert.equal(w.errors, 0);
        assert.equal(w.verify?.mismatches, 0);
        await first.shutdown();
        const again = await bootUfs(ic, { dir: first.dir });
        try {
          // A read-only verify run checks every block an earlier write run with this seed wrote...
          const fh = await again.k.vfs.open('/dev/sda', O.RDONLY);
          const p = new VerifyPattern(77);
          const buf = new Uint8Array(64 << 10);
          let written = 0;
          for (let off = 0; off < 32 << 20; off += buf.length) {
            await fh.read(buf, 0, buf.length, off);
            // ...here: blocks the random writes hit match the pattern, the others are still zero.
            if (buf.some((b) => b !== 0)) {
              written++;
              assert.equal(p.firstMismatch(buf, off), undefined, `block at ${off}`);
            }
          }
          await fh.close();
          assert.ok(written > 100, `${written} blocks carried over`);
        } finally { await again.shutdown(); }
      } finally {
        await first.shutdown();
        rmSync(first.dir, { recursive: true, force: true });
      }
    });

    it('fails in-flight I/O with EIO when the driver container dies, restarts it and serves the data again', { timeout: 60_000 }, async () => {
      const rig = await bootUfs(ic);
      try {
        const { k } = rig;
        const p = new VerifyPattern(99);
        const acked: number[] = [];
        const errors: string[] = [];
        let stop = false;
        const writer = async (w: number): Promise<void> => {
          const fh = await k.vfs.open('/dev/sda', O.RDWR);
          const buf = new Uint8Array(CHUNK);
          try {
            for (let off = w * STRIPE; !stop && off < (w + 1) * STRIPE; off += CHUNK) {
              p.fill(buf, off);
              try {
                await fh.write(buf, 0, CHUNK, off);
                acked.push(off);
              } catch (e) {
                errors.push(isSystemError(e) ? e.code : String(e));
                return;
              }
            }
          } finally { await fh.close().catch(() => undefined); }
        };
        const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
        while (acked.length < 40) await new Promise((r) => setTimeout(r, 1));
        for (const c of (k as unknown as Dm).dm.containers.values()) c.host?.kill({ reason: 'crash', detail: 'test: killed mid-I/O' });
        await Promise.all(writers);
        stop = true;
        assert.ok(errors.length > 0, 'some I/O was in flight when the container died');
        assert.deepEqual([...new Set(errors)], ['EIO'], `errors: ${errors.join(', ')}`);
        // open() waits for the restart and the re-probe; the node never left /dev.
        const fh = await k.vfs.open('/dev/sda', O.RDWR);
        try {
          assert.ok(k.containers()[0]!.restarts >= 1);
          assert.equal(k.devices()[0]!.state, 'bound');
          assert.deepEqual(k.devices()[0]!.nodes, ['/dev/sda', '/dev/sdb'], 'the same disks came back');
          const back = new Uint8Array(CHUNK);
          for (const off of acked) {
            await fh.read(back, 0, CHUNK, off);
            assert.equal(p.firstMismatch(back, off), undefined, `acknowledged write at ${off} lost`);
          }
          // And it takes new I/O.
          p.fill(back, 200 << 20);
          await fh.write(back, 0, CHUNK, 200 << 20);
          const again = new Uint8Array(CHUNK);
          await fh.read(again, 0, CHUNK, 200 << 20);
          assert.equal(p.firstMismatch(again, 200 << 20), undefined);
        } finally { await fh.close(); }
        assert.match(k.log.entries().map((e) => e.message).join('\n'), /container ufshcd-pltfrm\.ic\d (crashed|restarted)/);
      } finally { await rig.dispose(); }
    });
  });
}
