/**
 * The machine end to end, in every isolation class: a Linux-style driver (samples/hmtick) maps
 * its registers, takes level-triggered interrupts from a device model running in the machine
 * thread, and serves a blocking /dev node; after a container crash the device is reset and
 * re-probed.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { bootPlatform } from '../containers/boot.js';
import type { BootedKernel } from '../framework/boot.js';
import { O, POLL } from '../framework/vfs/types.js';
import type { IsolationClass } from '../framework/platform/types.js';

const PLATFORM = fileURLToPath(new URL('../../samples/platforms/tick.platform.json', import.meta.url));
const GET_COUNT = 0x80045401; // _IOR('T', 1, 4)
const DMA_COUNT = 0x80045402; // _IOR('T', 2, 4)

for (const ic of ['ic0', 'ic1', 'ic2'] as IsolationClass[]) {
  describe(`hmtick on the tick model in ${ic}`, () => {
    let k: BootedKernel;
    before(async () => { k = await bootPlatform({ platform: PLATFORM, isolation: ic }); });
    after(async () => { await k.shutdown(); });

    it('probes through MMIO and counts interrupts in /proc/interrupts', async () => {
      assert.equal(k.devices()[0]!.state, 'bound');
      const fh = await k.vfs.open('/dev/hmtick', O.RDONLY);
      const b = Buffer.alloc(16);
      const first = Number(b.subarray(0, (await fh.read(b, 0, 16, null)).bytesRead).toString());
      const second = Number(b.subarray(0, (await fh.read(b, 0, 16, null)).bytesRead).toString());
      assert.ok(second > first, `${second} > ${first}`);
      const out = Buffer.alloc(4);
      await fh.ioctl(GET_COUNT, out);
      assert.ok(out.readUInt32LE() >= second);
      assert.ok((await fh.poll(POLL.IN, 1000)) & POLL.IN);
      await fh.close();
      const m = /40:\s+(\d+)/.exec(await k.vfs.readFile('/proc/interrupts', { encoding: 'utf8' }) as string);
      assert.ok(m && Number(m[1]) >= 2);
    });

    it('reports DMA faults per device and MMIO faults per container port in /proc/hmdrv/machine', async () => {
      const text = await k.vfs.readFile('/proc/hmdrv/machine', { encoding: 'utf8' }) as string;
      const dev = k.devices()[0]!;
      assert.match(text, new RegExp(`^${dev.name}\\s+tick\\s+0$`, 'm'));
      assert.match(text, new RegExp(`^\\s+\\d+ ${dev.container}\\s+0$`, 'm'));
    });

    it('lets the device DMA into a coherent buffer mapped into the container', async () => {
      const fh = await k.vfs.open('/dev/hmtick', O.RDONLY);
      const out = Buffer.alloc(4);
      const before = Buffer.alloc(4);
      await fh.ioctl(GET_COUNT, before);
      await fh.ioctl(DMA_COUNT, out);
      assert.ok(out.readUInt32LE() >= before.readUInt32LE() && out.readUInt32LE() > 0, `dma ${out.readUInt32LE()} vs ${before.readUInt32LE()}`);
      await fh.close();
    });

    it('resets the device and re-probes after the driver container dies', async () => {
      const dm = (k as unknown as { dm: { containers: Map<string, { host: { kill(e: unknown): void } }> } }).dm;
      for (const c of dm.containers.values()) c.host.kill({ reason: 'crash', detail: 'test' });
      const fh = await k.vfs.open('/dev/hmtick', O.RDONLY); // waits for the restart
      const b = Buffer.alloc(16);
      const n = Number(b.subarray(0, (await fh.read(b, 0, 16, null)).bytesRead).toString());
      assert.ok(n >= 1 && n < 1000, `count restarted from zero (got ${n})`);
      await fh.close();
    });
  });
}
