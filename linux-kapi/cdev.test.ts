/**
 * Character devices: regions, cdev_add/cdev_del, device_create making the node, chrdev_open
 * semantics (-ENXIO without a cdev, i_cdev/iminor in open), and sysfs device attributes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DriverFile } from '../framework/driver-port.js';
import {
  alloc_chrdev_region, cdev_add, cdev_del, cdev_init, Cdev, class_create, ChrDevice, device_create, device_destroy, iminor,
  MAJOR, MINOR, MKDEV, register_chrdev, register_chrdev_region, unregister_chrdev, unregister_chrdev_region,
} from './cdev.js';
import { dev_get_drvdata, devres_release_all } from './device.js';
import { EBUSY, ENXIO } from './errno.js';
import { copy_to_user } from './uaccess.js';
import { setDriverEnv } from './kernel.js';
import {
  DEVICE_ATTR_RO, DEVICE_ATTR_RW, DEVICE_ATTR_WO, device_create_file, device_remove_file, devm_device_add_group, sysfs_emit,
} from './sysfs.js';
import { fakeDmaEnv } from './fixtures/dma-env.fixture.js';

const file = (id: number): DriverFile => ({ id, flags: 2, cred: { uid: 0, gid: 0 } });

describe('chrdev regions and cdevs', () => {
  it('MKDEV/MAJOR/MINOR use 20 minor bits', () => {
    const d = MKDEV(500, 0xabcde);
    assert.equal(MAJOR(d), 500);
    assert.equal(MINOR(d), 0xabcde);
  });

  it('allocates distinct dynamic majors and refuses overlapping static regions', () => {
    const [e1, d1] = alloc_chrdev_region(0, 4, 'a');
    const [e2, d2] = alloc_chrdev_region(0, 4, 'b');
    assert.equal(e1, 0);
    assert.equal(e2, 0);
    assert.notEqual(MAJOR(d1), MAJOR(d2));
    assert.ok(MAJOR(d1) >= 384 && MAJOR(d1) <= 511);
    assert.equal(register_chrdev_region(MKDEV(MAJOR(d1), 2), 4, 'c'), -EBUSY);
    assert.equal(register_chrdev_region(MKDEV(240, 0), 2, 'd'), 0);
    unregister_chrdev_region(MKDEV(240, 0), 2);
    assert.equal(register_chrdev_region(MKDEV(240, 0), 2, 'd'), 0);
  });

  it('device_create makes the node; open finds the cdev (i_cdev, iminor); cdev_del makes new opens fail', async () => {
    const f = fakeDmaEnv({ name: 'cd0' });
    setDriverEnv(f.env);
    const [, first] = alloc_chrdev_region(0, 2, 'hmfoo');
    const c = new Cdev();
    const seen: { cdev: unknown; minor: number }[] = [];
    cdev_init(c, {
      open: (inode) => { seen.push({ cdev: inode.i_cdev, minor: iminor(inode) }); return 0; },
      read: (_f, buf, count) => copy_to_user(buf, new Uint8Array([1, 2, 3]).subarray(0, count)) ? -14 : Math.min(3, count),
    });
    assert.equal(cdev_add(c, first, 2), 0);
    assert.equal(cdev_add(new Cdev(), first, 1), -22, 'no fops: -EINVAL');
    const cls = class_create('hmfoo');
    const d = await device_create(cls, f.dev, MKDEV(MAJOR(first), 1), { tag: 7 }, 'hmfoo1');
    assert.ok(d instanceof ChrDevice);
    assert.deepEqual(dev_get_drvdata(d as ChrDevice), { tag: 7 });
    const ops = f.nodes.get('/dev/hmfoo1')!;
    const f1 = file(1);
    assert.equal(await ops.open!(f1), 0);
    assert.deepEqual(seen, [{ cdev: c, minor: 1 }]);
    const r = await ops.read!(f1, 8, { value: 0 });
    assert.deepEqual(r, new Uint8Array([1, 2, 3]));
    assert.equal(await ops.ioctl!(f1, 1, { value: 0, in: null, out: null }), -25, 'no ioctl: -ENOTTY');
    cdev_del(c);
    assert.equal(await ops.open!(file(2)), -ENXIO);
    assert.deepEqual(await ops.read!(f1, 2, { value: 0 }), new Uint8Array([1, 2]), 'an open file keeps its cdev');
    await device_destroy(cls, MKDEV(MAJOR(first), 1));
    assert.equal(f.nodes.has('/dev/hmfoo1'), false);
  });

  it('register_chrdev is the one-call form (dynamic major, 256 minors)', async () => {
    const f = fakeDmaEnv({ name: 'cd1' });
    setDriverEnv(f.env);
    const major = register_chrdev(0, 'old', { open: () => 0 });
    assert.ok(major > 0);
    const cls = class_create('old');
    await device_create(cls, f.dev, MKDEV(major, 255), null, 'old255');
    assert.equal(await f.nodes.get('/dev/old255')!.open!(file(3)), 0);
    unregister_chrdev(major, 'old');
    assert.equal(await f.nodes.get('/dev/old255')!.open!(file(4)), -ENXIO);
  });
});

describe('device attributes', () => {
  it('show returns text, store gets the text and count; errors are errno', async () => {
    const f = fakeDmaEnv({ name: 'at0' });
    let rate = 5;
    const rw = DEVICE_ATTR_RW('rate', () => sysfs_emit(`${rate}\n`), (_d, _a, buf, count) => {
      const v = Number(buf.trim());
      if (!Number.isInteger(v)) return -22;
      rate = v;
      return count;
    });
    assert.equal(rw.attr.mode, 0o644);
    assert.equal(await device_create_file(f.dev, rw), 0);
    assert.equal(await device_create_file(f.dev, rw), -17, 'duplicate: -EEXIST');
    const spec = [...f.attrs.values()][0]!;
    assert.equal(await spec.show!(), '5\n');
    assert.equal(await spec.store!('9\n'), 0);
    assert.equal(rate, 9);
    assert.equal(await spec.store!('x'), -22);
    await device_remove_file(f.dev, rw);
    assert.equal(f.attrs.size, 0);
  });

  it('devm groups honour is_visible and are removed at unbind', async () => {
    const f = fakeDmaEnv({ name: 'at1' });
    const ro = DEVICE_ATTR_RO('ro', () => 'r\n');
    const wo = DEVICE_ATTR_WO('wo', () => 0);
    const hidden = DEVICE_ATTR_RO('hidden', () => 'h\n');
    const r = await devm_device_add_group(f.dev, { name: 'grp', attrs: [ro, wo, hidden], is_visible: (_d, a) => (a === hidden ? 0 : a.attr.mode) });
    assert.equal(r, 0);
    const specs = [...f.attrs.values()];
    assert.deepEqual(specs.map((s) => [s.name, s.mode, (s as { dir?: string }).dir]), [['ro', 0o444, 'grp'], ['wo', 0o200, 'grp']]);
    await devres_release_all(f.dev);
    assert.equal(f.attrs.size, 0);
  });
});
