/**
 * Misc devices: the node and its minor, and an open that races misc_register (the kernel may
 * open the node before misc_register's caller has seen the minor).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DriverFile } from '../framework/driver-port.js';
import { iminor } from './cdev.js';
import { setDriverEnv } from './kernel.js';
import { misc_deregister, misc_register, MISC_DYNAMIC_MINOR, type MiscDevice } from './miscdevice.js';
import { fakeDmaEnv } from './fixtures/dma-env.fixture.js';

const file = (id: number): DriverFile => ({ id, flags: 2, cred: { uid: 0, gid: 0 } });

describe('misc_register', () => {
  it('an open arriving before misc_register returned waits for it, and sees the minor', async () => {
    const f = fakeDmaEnv({ name: 'm0' });
    setDriverEnv(f.env);
    const seen: { minor: number; iminor: number; priv: unknown }[] = [];
    const misc: MiscDevice = {
      minor: MISC_DYNAMIC_MINOR, name: 'hmmisc', parent: f.dev,
      fops: { open: (inode, filp) => { seen.push({ minor: misc.minor, iminor: iminor(inode), priv: filp.private_data }); return 0; } },
    };
    const reg = misc_register(misc);
    // The node exists as soon as the kernel registered it: open it before misc_register's
    // continuation ran (what a container serving requests in its idle spin does).
    const ops = f.nodes.get('/dev/hmmisc')!;
    assert.ok(ops, 'the node is registered');
    const opened = ops.open!(file(1));
    assert.ok(opened instanceof Promise, 'the early open waits');
    assert.equal(seen.length, 0, 'the driver is not called before the minor is known');
    assert.equal(await reg, 0);
    assert.equal(await opened, 0);
    assert.deepEqual(seen, [{ minor: 64, iminor: 64, priv: misc }]);
    // Later opens go straight through.
    assert.equal(ops.open!(file(2)), 0);
    assert.equal(seen.length, 2);
    await misc_deregister(misc);
    assert.equal(f.nodes.has('/dev/hmmisc'), false);
  });
});
