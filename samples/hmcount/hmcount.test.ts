import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { bootPlatform } from '../../containers/boot.js';
import type { BootedKernel } from '../../framework/boot.js';
import { O } from '../../framework/vfs/types.js';
import { packageRoot } from '../../devices/native/index.js';
import { HMCOUNT_IOC_GET, HMCOUNT_IOC_RESET } from './hmcount.js';

const platform = join(packageRoot(), 'samples', 'platforms', 'hmcount.platform.json');

for (const ic of ['ic0', 'ic1', 'ic2'] as const) {
  describe(`hmcount in ${ic}`, () => {
    let k: BootedKernel;
    before(async () => { k = await bootPlatform({ platform, isolation: ic }); });
    after(() => k.shutdown());

    it('binds count0 in the requested class', () => {
      const d = k.devices().find((x) => x.name === 'count0')!;
      assert.equal(d.state, 'bound');
      assert.equal(d.isolation, ic);
      assert.deepEqual(d.nodes, ['/dev/count0']);
    });

    it('reads the start value, adds what is written', async () => {
      assert.equal(await k.vfs.readFile('/dev/count0', { encoding: 'utf8' }), '10\n');
      await k.vfs.writeFile('/dev/count0', '5');
      assert.equal(await k.vfs.readFile('/dev/count0', { encoding: 'utf8' }), '15\n');
      await assert.rejects(k.vfs.writeFile('/dev/count0', 'abc'), { code: 'EINVAL', syscall: 'write' });
    });

    it('returns the count through an _IOR ioctl', async () => {
      const fh = await k.vfs.open('/dev/count0', O.RDWR);
      try {
        const out = Buffer.alloc(8);
        assert.equal((await fh.ioctl(HMCOUNT_IOC_GET, out)).ret, 0);
        assert.equal(out.readBigInt64LE(), 15n);
        await assert.rejects(fh.ioctl(HMCOUNT_IOC_GET, Buffer.alloc(4)), { code: 'EFAULT' }); // buffer too short
        await assert.rejects(fh.ioctl(0x1234), { code: 'ENOTTY' });
        await fh.ioctl(HMCOUNT_IOC_RESET);
        await fh.ioctl(HMCOUNT_IOC_GET, out);
        assert.equal(out.readBigInt64LE(), 0n);
      } finally {
        await fh.close();
      }
    });

    it('unbinds and rebinds through sysfs', async () => {
      await k.vfs.writeFile('/sys/bus/platform/drivers/hmcount/unbind', 'count0');
      assert.equal(k.vfs.exists('/dev/count0'), false);
      await k.vfs.writeFile('/sys/bus/platform/drivers/hmcount/bind', 'count0');
      assert.equal(await k.vfs.readFile('/dev/count0', { encoding: 'utf8' }), '10\n'); // probed afresh
    });
  });
}
