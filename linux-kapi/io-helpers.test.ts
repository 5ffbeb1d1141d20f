/**
 * The io.h / platform_device.h / of.h helpers added on top of readl & co.: memcpy_fromio,
 * memcpy_toio, memset_io (widths and bounds), iounmap, devm_platform_ioremap_resource,
 * readx_poll_timeout and its forms, of_match_device & co., device_property_*, devm_k*.
 * The bus is a fake: a byte array at 0x1000_0000 that logs every access.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceHandle, DriverEnv, MmioAccess } from '../framework/driver-port.js';
import { kapiBugs } from './bug.js';
import {
  Device, PlatformDevice, device_property_present, device_property_read_bool, device_property_read_string,
  device_property_read_u32, devm_kcalloc, devm_kmalloc, devm_kstrdup, of_device_is_compatible, of_match_device,
} from './device.js';
import { EINVAL, ETIMEDOUT } from './errno.js';
import {
  IoMem, devm_platform_get_and_ioremap_resource, devm_platform_ioremap_resource, ioremap, iounmap, memcpy_fromio,
  memcpy_toio, memset_io, readb, readb_poll_timeout, readl, readl_poll_timeout, readl_poll_timeout_atomic, readw,
  readx_poll_timeout,
} from './io.js';
import { kstrdup, kstrndup } from './mm.js';
import { module_platform_driver, of_device_get_match_data, type OfDeviceId } from './module.js';
import { fakeDmaEnv } from './fixtures/dma-env.fixture.js';

const BASE = 0x1000_0000;

function fakeBus(): { env: DriverEnv; pdev: PlatformDevice; mem: Uint8Array; log: [string, number, number][]; logs: string[] } {
  const mem = new Uint8Array(0x100);
  const log: [string, number, number][] = [];
  const logs: string[] = [];
  const at = (a: number): number => a - BASE;
  const mmio: MmioAccess = {
    read(a, size = 4) {
      log.push(['r', at(a), size]);
      let v = 0;
      for (let i = size - 1; i >= 0; i--) v = v * 256 + mem[at(a) + i]!;
      return v;
    },
    write(a, v, size = 4) {
      log.push(['w', at(a), size]);
      for (let i = 0; i < size; i++) mem[at(a) + i] = (v >>> (8 * i)) & 0xff;
      return true;
    },
    sync: () => undefined,
  };
  const env = { isolation: 'ic0', mmio, log: (_l: number, m: string) => { logs.push(m); } } as unknown as DriverEnv;
  const handle = {
    binding: 7,
    spec: {
      name: 'foo0', compatible: ['acme,foo-v2', 'acme,foo'], reg: [{ base: BASE, size: 0x100 }, { base: BASE + 0x100, size: 0x10 }],
      interrupts: [3], properties: { 'clock-frequency': 48_000_000, label: 'front', 'acme,fast': true, 'acme,off': false },
    },
    params: {},
  } as unknown as DeviceHandle;
  return { env, pdev: new PlatformDevice(env, handle), mem, log, logs };
}
const mapOf = (pdev: PlatformDevice): IoMem => {
  const io = devm_platform_ioremap_resource(pdev, 0);
  assert.ok(io instanceof IoMem);
  return io;
};
const reports = (kind: string): number => kapiBugs().filter((b) => b.kind === kind).reduce((n, b) => n + b.count, 0);

describe('memcpy_fromio, memcpy_toio, memset_io', () => {
  it('copy both ways with 32-bit accesses where aligned and bytes at the edges', () => {
    const { pdev, mem, log } = fakeBus();
    const io = mapOf(pdev);
    const src = Uint8Array.from({ length: 11 }, (_, i) => i + 1);
    memcpy_toio(io, 2, src, 11);                                  // bytes 2..12
    assert.deepEqual([...mem.subarray(2, 13)], [...src]);
    assert.deepEqual(log.map(([k, o, w]) => `${k}${o}/${w}`), ['w2/1', 'w3/1', 'w4/4', 'w8/4', 'w12/1']);
    log.length = 0;
    const dst = new Uint8Array(11);
    memcpy_fromio(dst, io, 2, 11);
    assert.deepEqual([...dst], [...src]);
    assert.deepEqual(log.map(([k, o, w]) => `${k}${o}/${w}`), ['r2/1', 'r3/1', 'r4/4', 'r8/4', 'r12/1']);
  });

  it('memset_io fills with the byte replicated', () => {
    const { pdev, mem } = fakeBus();
    const io = mapOf(pdev);
    memset_io(io, 0x10, 0x1a5, 9);
    assert.deepEqual([...mem.subarray(0x10, 0x19)], Array(9).fill(0xa5));
    assert.equal(mem[0x19], 0);
    assert.equal(readl(io, 0x14), 0xa5a5a5a5);
  });

  it('a copy reaching outside the window, or a short buffer, is refused whole and reported', () => {
    const { pdev, mem, log } = fakeBus();
    const io = mapOf(pdev);
    const outside = reports('mmio-outside'), short = reports('mmio-copy');
    memcpy_toio(io, 0xf8, new Uint8Array(16).fill(9), 16);
    memset_io(io, -4, 1, 8);
    const dst = new Uint8Array(4).fill(0x77);
    memcpy_fromio(dst, io, 0xfe, 4);
    assert.deepEqual([...dst], [0x77, 0x77, 0x77, 0x77]);
    memcpy_fromio(new Uint8Array(2), io, 0, 4);
    assert.equal(log.length, 0, 'no access reached the bus');
    assert.ok(mem.every((b) => b === 0));
    assert.equal(reports('mmio-outside') - outside, 3);
    assert.equal(reports('mmio-copy') - short, 1);
  });
});

describe('ioremap resources and iounmap', () => {
  it('devm_platform_ioremap_resource maps reg[index]; a missing index is -EINVAL', () => {
    const { pdev, logs } = fakeBus();
    const io = devm_platform_ioremap_resource(pdev, 1);
    assert.ok(io instanceof IoMem);
    assert.equal(io.phys, BASE + 0x100);
    assert.equal(io.size, 0x10);
    assert.equal(devm_platform_ioremap_resource(pdev, 2), -EINVAL);
    assert.match(logs.join('\n'), /invalid resource/);
    const [io0, res] = devm_platform_get_and_ioremap_resource(pdev, 0);
    assert.ok(io0 instanceof IoMem);
    assert.deepEqual(res && [res.start, res.end], [BASE, BASE + 0xff]);
  });

  it('iounmap refuses later accesses, also through add()ed windows; devm windows are left alone', () => {
    const { pdev, mem } = fakeBus();
    mem[0x20] = 0x42;
    const io = ioremap(pdev.dev, BASE, 0x100);
    assert.ok(io instanceof IoMem);
    const sub = io.add(0x20);
    assert.equal(readb(sub), 0x42);
    const before = reports('mmio-outside');
    iounmap(io);
    assert.equal(readl(io, 0), 0xffffffff);
    assert.equal(readb(sub), 0xff);
    assert.equal(reports('mmio-outside') - before, 2);
    const twice = reports('iounmap-twice');
    iounmap(io);
    assert.equal(reports('iounmap-twice') - twice, 1);

    const devm = mapOf(pdev);
    iounmap(devm);
    assert.equal(readb(devm, 0x20), 0x42, 'harmless on a devm mapping');
  });
});

describe('readx_poll_timeout and friends', () => {
  it('polls with the given accessor until the condition holds', async () => {
    const { pdev, mem } = fakeBus();
    const io = mapOf(pdev);
    let n = 0;
    const op = (w: IoMem, off: number): number => { if (++n === 3) mem[4] = 0x81; return readb(w, off); };
    assert.deepEqual(await readx_poll_timeout(op, io, 4, (v) => (v & 0x80) !== 0, 0, 0), [0, 0x81]);
    assert.equal(n, 3);
    assert.deepEqual(await readb_poll_timeout(io, 4, (v) => v === 0x81, 10, 1000), [0, 0x81]);
    mem[6] = 0x34;
    assert.equal(readw(io, 6), 0x34);
  });

  it('times out with -ETIMEDOUT and the last value', async () => {
    const { pdev, mem } = fakeBus();
    const io = mapOf(pdev);
    mem[8] = 5;
    assert.deepEqual(await readl_poll_timeout(io, 8, (v) => v === 6, 100, 2000), [-ETIMEDOUT, 5]);
    assert.deepEqual(readl_poll_timeout_atomic(io, 8, (v) => v === 6, 1, 200), [-ETIMEDOUT, 5]);
    assert.deepEqual(readl_poll_timeout_atomic(io, 8, (v) => v === 5, 1, 200), [0, 5]);
  });
});

describe('of.h matching and device_property_*', () => {
  const table: OfDeviceId[] = [{ compatible: 'acme,foo', data: 'v1' }, { compatible: 'acme,foo-v2', data: 'v2' }];

  it('of_device_is_compatible and of_match_device (the device\'s first compatible wins)', () => {
    const { pdev } = fakeBus();
    assert.equal(of_device_is_compatible(pdev.dev, 'acme,foo'), true);
    assert.equal(of_device_is_compatible(pdev.dev, 'acme,bar'), false);
    assert.equal(of_match_device(table, pdev.dev)?.data, 'v2');
    assert.equal(of_match_device([{ compatible: 'acme,bar' }], pdev.dev), null);
    assert.equal(of_match_device(null, pdev.dev), null);
  });

  it('of_device_get_match_data(dev) uses the bound driver\'s table; (drv, pdev) still works', async () => {
    const f = fakeDmaEnv({ name: 'match0' });
    let seen: unknown = 'unset';
    const drv = {
      probe: (p: PlatformDevice) => { seen = of_device_get_match_data(p.dev); return 0; },
      driver: { name: 'matchdrv', of_match_table: [{ compatible: 'other' }, { compatible: 'test,dma', data: { rev: 2 } }] },
    };
    const mod = module_platform_driver(drv);
    mod.init!(f.env, {});
    assert.equal(await mod.probe(f.dev.handle), 0);
    assert.deepEqual(seen, { rev: 2 });
    assert.deepEqual(of_device_get_match_data(drv, new PlatformDevice(f.env, f.dev.handle)), { rev: 2 });
    assert.equal(of_device_get_match_data(new Device(f.env, f.dev.handle, 'x')), undefined, 'no driver bound: no table');
    await mod.remove!(f.dev.handle);
  });

  it('device_property_* read the platform file\'s properties', () => {
    const { pdev } = fakeBus();
    assert.deepEqual(device_property_read_u32(pdev.dev, 'clock-frequency'), [0, 48_000_000]);
    assert.deepEqual(device_property_read_u32(pdev.dev, 'label'), [-EINVAL, 0]);
    assert.deepEqual(device_property_read_string(pdev.dev, 'label'), [0, 'front']);
    assert.equal(device_property_read_bool(pdev.dev, 'acme,fast'), true);
    assert.equal(device_property_read_bool(pdev.dev, 'acme,off'), false);
    assert.equal(device_property_present(pdev.dev, 'label'), true);
    assert.equal(device_property_present(pdev.dev, 'nope'), false);
  });
});

describe('devm_k* and kstrdup', () => {
  it('allocate what was asked; strings are returned as they are', () => {
    const { pdev } = fakeBus();
    assert.equal(devm_kmalloc(pdev.dev, 24).length, 24);
    const a = devm_kcalloc(pdev.dev, 4, 6);
    assert.equal(a.length, 24);
    assert.ok(a.every((b) => b === 0));
    assert.equal(devm_kcalloc(pdev.dev, -1, 6).length, 0, 'a bad size gives an empty array');
    assert.equal(devm_kstrdup(pdev.dev, 'eth%d'), 'eth%d');
    assert.equal(kstrdup(null), null);
    assert.equal(kstrndup('abcdef', 3), 'abc');
  });
});
