/**
 * Streaming DMA over the swiotlb bounce pool, on a fake env whose "physical memory" the test
 * reads and writes as the device would: copies in both directions, syncs, zero-copy for
 * coherent memory, pool exhaustion, scatterlists, and the pool's life with the binding.
 */
import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceHandle } from '../framework/driver-port.js';
import { resetKapiBugs } from './bug.js';
import { devres_release_all, type PlatformDevice } from './device.js';
import { dma_alloc_coherent, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE } from './dma.js';
import {
  dma_map_sg, dma_map_single, dma_mapping_error, dma_map_sgtable, dma_sync_single_for_cpu, dma_sync_single_for_device,
  dma_sync_sg_for_cpu, dma_unmap_sg, dma_unmap_single, dma_unmap_sgtable, dma_map_page, dma_unmap_page,
} from './dma-mapping.js';
import { ENOMEM } from './errno.js';
import { setDriverEnv } from './kernel.js';
import { module_platform_driver } from './module.js';
import {
  for_each_sg, Scatterlist, sg_alloc_table, sg_chain, sg_copy_from_buffer, sg_copy_to_buffer, sg_dma_address, sg_dma_len,
  sg_init_one, sg_init_table, sg_nents, sg_next, sg_pcopy_to_buffer, sg_set_buf, SgTable,
} from './scatterlist.js';
import { IO_TLB_SIZE, is_swiotlb_active, swiotlb_init_dev, swiotlb_stats } from './swiotlb.js';
import { fakeDmaEnv, type FakeDmaEnv } from './fixtures/dma-env.fixture.js';

const bytes = (...v: number[]): Uint8Array => Uint8Array.from(v);
const fill = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

async function setup(opts: Parameters<typeof fakeDmaEnv>[0] = {}): Promise<FakeDmaEnv> {
  const f = fakeDmaEnv(opts);
  setDriverEnv(f.env);
  await swiotlb_init_dev(f.dev);
  return f;
}

beforeEach(() => resetKapiBugs());

describe('dma_map_single over the bounce pool', () => {
  it('TO_DEVICE copies the buffer in at map; unmap does not copy back', async () => {
    const f = await setup();
    const buf = fill(3000, 1);
    const addr = dma_map_single(f.dev, buf, 3000, DMA_TO_DEVICE);
    assert.equal(dma_mapping_error(f.dev, addr), 0);
    assert.notEqual(addr, DMA_MAPPING_ERROR);
    assert.deepEqual(f.phys.subarray(addr, addr + 3000), buf, 'the device reads the driver bytes at the bus address');
    f.phys.fill(0xee, addr, addr + 3000);                      // a device scribbling on a to-device buffer
    dma_unmap_single(f.dev, addr, 3000, DMA_TO_DEVICE);
    assert.deepEqual(buf, fill(3000, 1), 'no copy back for DMA_TO_DEVICE');
    assert.equal(swiotlb_stats(f.dev)!.used, 0);
    assert.deepEqual(f.logs, []);
  });

  it('FROM_DEVICE: the device data reaches the buffer at unmap, not before', async () => {
    const f = await setup();
    const buf = new Uint8Array(64);
    const addr = dma_map_single(f.dev, buf, 64, DMA_FROM_DEVICE);
    f.phys.set(fill(64, 9), addr);
    assert.deepEqual(buf, new Uint8Array(64), 'the CPU sees nothing before unmap/sync');
    dma_unmap_single(f.dev, addr, 64, DMA_FROM_DEVICE);
    assert.deepEqual(buf, fill(64, 9));
  });

  it('a partial device write keeps the rest of the buffer (map copies whatever the direction)', async () => {
    const f = await setup();
    const b1 = new Uint8Array(32).fill(0x55);
    const a1 = dma_map_single(f.dev, b1, 32, DMA_FROM_DEVICE);
    f.phys.fill(0x99, a1, a1 + 32);                             // stale data in the slot
    dma_unmap_single(f.dev, a1, 32, DMA_FROM_DEVICE);
    const b2 = new Uint8Array(32).fill(0x11);
    const a2 = dma_map_single(f.dev, b2, 32, DMA_FROM_DEVICE);
    f.phys[a2] = 0x42;                                          // the device writes one byte
    dma_unmap_single(f.dev, a2, 32, DMA_FROM_DEVICE);
    assert.equal(b2[0], 0x42);
    assert.deepEqual(b2.subarray(1), new Uint8Array(31).fill(0x11));
  });

  it('syncs copy in both directions for a bidirectional mapping', async () => {
    const f = await setup();
    const buf = bytes(1, 2, 3, 4);
    const addr = dma_map_single(f.dev, buf, 4, DMA_BIDIRECTIONAL);
    f.phys[addr + 1] = 20;
    dma_sync_single_for_cpu(f.dev, addr, 4, DMA_BIDIRECTIONAL);
    assert.deepEqual(buf, bytes(1, 20, 3, 4));
    buf[3] = 40;
    dma_sync_single_for_device(f.dev, addr, 4, DMA_BIDIRECTIONAL);
    assert.equal(f.phys[addr + 3], 40);
    f.phys[addr] = 10;
    dma_unmap_single(f.dev, addr, 4, DMA_BIDIRECTIONAL);
    assert.deepEqual(buf, bytes(10, 20, 3, 40));
  });

  it('maps only the first `size` bytes, slot-aligned (2 KiB slots)', async () => {
    const f = await setup();
    const a = dma_map_single(f.dev, fill(100, 0), 10, DMA_TO_DEVICE);
    const b = dma_map_single(f.dev, fill(100, 0), 2049, DMA_TO_DEVICE);
    const c = dma_map_single(f.dev, fill(100, 0), 1, DMA_TO_DEVICE);
    assert.equal(b, DMA_MAPPING_ERROR, 'size beyond the buffer is refused');
    assert.equal(c - a, IO_TLB_SIZE);
    assert.match(f.logs.join('\n'), /DMA-API: dma0: device driver maps invalid memory \[size=2049 bytes\] \[buffer=100 bytes\]/);
    const big = dma_map_single(f.dev, new Uint8Array(5000), 5000, DMA_TO_DEVICE);
    assert.equal(swiotlb_stats(f.dev)!.used, 2 + 3);
    dma_unmap_single(f.dev, big, 5000, DMA_TO_DEVICE);
    dma_unmap_single(f.dev, a, 10, DMA_TO_DEVICE);
    dma_unmap_single(f.dev, c, 1, DMA_TO_DEVICE);
    assert.equal(swiotlb_stats(f.dev)!.used, 0);
  });

  it('dma_map_page maps page[offset, offset + size)', async () => {
    const f = await setup();
    const page = fill(4096, 3);
    const addr = dma_map_page(f.dev, page, 100, 50, DMA_TO_DEVICE);
    assert.deepEqual(f.phys.subarray(addr, addr + 50), page.subarray(100, 150));
    dma_unmap_page(f.dev, addr, 50, DMA_TO_DEVICE);
  });
});

describe('zero-copy for coherent memory', () => {
  it('a view of a coherent buffer maps to its bus address, with no slot and no copy', async () => {
    const f = await setup();
    const c = (await dma_alloc_coherent(f.dev, 8192))!;
    const view = c.cpu_addr.subarray(4096, 4196);
    const addr = dma_map_single(f.dev, view, 100, DMA_FROM_DEVICE);
    assert.equal(addr, c.dma_handle + 4096);
    assert.equal(swiotlb_stats(f.dev)!.used, 0);
    f.phys[addr] = 7;
    assert.equal(view[0], 7, 'coherent: visible at once');
    dma_unmap_single(f.dev, addr, 100, DMA_FROM_DEVICE);
    assert.equal(swiotlb_stats(f.dev)!.bounced, 0);
  });

  it('a to-device-only coherent buffer is bounced for FROM_DEVICE (its IOMMU grant is read-only)', async () => {
    const f = await setup();
    const c = (await dma_alloc_coherent(f.dev, 4096, DMA_TO_DEVICE))!;
    const addr = dma_map_single(f.dev, c.cpu_addr, 64, DMA_FROM_DEVICE);
    assert.notEqual(addr, c.dma_handle);
    assert.equal(swiotlb_stats(f.dev)!.used, 1);
    dma_unmap_single(f.dev, addr, 64, DMA_FROM_DEVICE);
  });
});

describe('pool exhaustion', () => {
  it('is DMA_MAPPING_ERROR with one rate-limited warning, and recovers after unmap', async () => {
    const f = await setup({ properties: { 'swiotlb-size': 65536 } });
    assert.equal(swiotlb_stats(f.dev)!.size, 65536);
    const a = dma_map_single(f.dev, new Uint8Array(32768), 32768, DMA_TO_DEVICE);
    const b = dma_map_single(f.dev, new Uint8Array(32768), 32768, DMA_TO_DEVICE);
    assert.ok(a && b);
    const c = dma_map_single(f.dev, new Uint8Array(16), 16, DMA_TO_DEVICE);
    const d = dma_map_single(f.dev, new Uint8Array(16), 16, DMA_TO_DEVICE);
    assert.equal(c, DMA_MAPPING_ERROR);
    assert.equal(d, DMA_MAPPING_ERROR);
    assert.equal(dma_mapping_error(f.dev, c), -ENOMEM);
    const warns = f.logs.filter((l) => l.includes('swiotlb buffer is full'));
    assert.equal(warns.length, 1, f.logs.join('\n'));
    assert.match(warns[0]!, /sz: 16 bytes, total 65536, used 65536/);
    assert.equal(swiotlb_stats(f.dev)!.mapErrors, 2);
    dma_unmap_single(f.dev, a, 32768, DMA_TO_DEVICE);
    assert.notEqual(dma_map_single(f.dev, new Uint8Array(16), 16, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
  });

  it('finds consecutive free slots anywhere in a fragmented pool (and none when there are none)', async () => {
    const f = await setup({ properties: { 'swiotlb-size': 65536 } });
    const addrs = Array.from({ length: 32 }, () => dma_map_single(f.dev, new Uint8Array(2048), 2048, DMA_TO_DEVICE));
    assert.ok(addrs.every((a) => a !== DMA_MAPPING_ERROR));
    for (let i = 0; i < 32; i += 2) dma_unmap_single(f.dev, addrs[i]!, 2048, DMA_TO_DEVICE);
    assert.equal(dma_map_single(f.dev, new Uint8Array(4096), 4096, DMA_TO_DEVICE), DMA_MAPPING_ERROR, '16 free slots, no two adjacent');
    dma_unmap_single(f.dev, addrs[21]!, 2048, DMA_TO_DEVICE);           // frees 20..22
    const big = dma_map_single(f.dev, new Uint8Array(6000), 6000, DMA_TO_DEVICE);
    assert.equal(big, addrs[20]);
  });

  it('without a pool (swiotlb-size 0), heap buffers cannot be mapped but coherent views can', async () => {
    const f = await setup({ properties: { 'swiotlb-size': 0 } });
    assert.equal(is_swiotlb_active(f.dev), false);
    assert.equal(dma_map_single(f.dev, new Uint8Array(8), 8, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
    const c = (await dma_alloc_coherent(f.dev, 4096))!;
    assert.equal(dma_map_single(f.dev, c.cpu_addr, 8, DMA_TO_DEVICE), c.dma_handle);
  });

  it('shrinks the pool when the machine cannot give the size asked', async () => {
    const f = await setup({ memory: 1 << 20 });
    assert.equal(swiotlb_stats(f.dev)!.size, 512 << 10, 'halved from 4 MiB until it fits (the fake refuses more than half of memory)');
  });
});

describe('scatterlists', () => {
  it('builds, walks, chains and copies', () => {
    const a: Scatterlist[] = [];
    const b: Scatterlist[] = [];
    sg_init_table(a, 3);
    sg_init_table(b, 2);
    sg_set_buf(a[0]!, bytes(1, 2));
    sg_set_buf(a[1]!, bytes(3, 4, 5), 2);
    sg_chain(a, 3, b);
    sg_set_buf(b[0]!, bytes(6));
    sg_set_buf(b[1]!, bytes(7, 8));
    assert.equal(sg_nents(a), 4);
    assert.equal(sg_next(a[1]!), b[0]);
    const out = new Uint8Array(10);
    assert.equal(sg_copy_to_buffer(a, 4, out, 10), 7);
    assert.deepEqual(out.subarray(0, 7), bytes(1, 2, 3, 4, 6, 7, 8));
    const part = new Uint8Array(3);
    assert.equal(sg_pcopy_to_buffer(a, 4, part, 3, 3), 3);
    assert.deepEqual(part, bytes(4, 6, 7));
    assert.equal(sg_copy_from_buffer(a, 4, bytes(9, 9, 9, 9, 9, 9, 9, 9), 8), 7);
    assert.deepEqual(b[1]!.page, bytes(9, 9));
  });

  it('dma_map_sg maps every entry; unmap copies FROM_DEVICE data back into each', async () => {
    const f = await setup();
    const sgl: Scatterlist[] = [];
    sg_init_table(sgl, 3);
    const bufs = [new Uint8Array(100), new Uint8Array(3000), new Uint8Array(5)];
    bufs.forEach((buf, i) => sg_set_buf(sgl[i]!, buf));
    const n = dma_map_sg(f.dev, sgl, 3, DMA_FROM_DEVICE);
    assert.equal(n, 3);
    let i = 0;
    for (const sg of for_each_sg(sgl, n)) {
      assert.equal(sg_dma_len(sg), bufs[i]!.length);
      f.phys.fill(i + 1, sg_dma_address(sg), sg_dma_address(sg) + sg_dma_len(sg));
      i++;
    }
    dma_sync_sg_for_cpu(f.dev, sgl, 3, DMA_FROM_DEVICE);
    assert.equal(bufs[1]![2999], 2);
    dma_unmap_sg(f.dev, sgl, 3, DMA_FROM_DEVICE);
    assert.deepEqual(bufs[2], new Uint8Array(5).fill(3));
    assert.equal(swiotlb_stats(f.dev)!.used, 0);
    assert.deepEqual(f.logs, []);
  });

  it('a failing dma_map_sg returns 0 and leaves nothing mapped', async () => {
    const f = await setup({ properties: { 'swiotlb-size': 65536 } });
    const sgl: Scatterlist[] = [];
    sg_init_table(sgl, 2);
    sg_set_buf(sgl[0]!, new Uint8Array(40000));
    sg_set_buf(sgl[1]!, new Uint8Array(40000));
    assert.equal(dma_map_sg(f.dev, sgl, 2, DMA_TO_DEVICE), 0);
    assert.equal(swiotlb_stats(f.dev)!.used, 0);
  });

  it('sg tables and sg_init_one', async () => {
    const f = await setup();
    const t = new SgTable();
    assert.equal(sg_alloc_table(t, 2), 0);
    sg_set_buf(t.sgl[0]!, fill(10, 1));
    sg_set_buf(t.sgl[1]!, fill(20, 2));
    assert.equal(dma_map_sgtable(f.dev, t, DMA_TO_DEVICE), 0);
    assert.equal(t.nents, 2);
    const a1 = sg_dma_address(t.sgl[1]!);
    assert.deepEqual(f.phys.subarray(a1, a1 + 20), fill(20, 2));
    dma_unmap_sgtable(f.dev, t, DMA_TO_DEVICE);
    const one = new Scatterlist();
    sg_init_one(one, fill(8, 5));
    assert.equal(dma_map_sg(f.dev, one, 1, DMA_TO_DEVICE), 1);
    dma_unmap_sg(f.dev, one, 1, DMA_TO_DEVICE);
    assert.equal(swiotlb_stats(f.dev)!.used, 0);
  });
});

describe('reports and the pool life cycle', () => {
  it('unmapping an unknown address, or with another size/direction, is reported and harmless', async () => {
    const f = await setup();
    dma_unmap_single(f.dev, 0x1234, 8, DMA_TO_DEVICE);
    const buf = new Uint8Array(8);
    const addr = dma_map_single(f.dev, buf, 8, DMA_TO_DEVICE);
    dma_unmap_single(f.dev, addr, 16, DMA_FROM_DEVICE);
    const log = f.logs.join('\n');
    assert.match(log, /DMA-API: dma0: device driver tries to free DMA memory it has not allocated \[device address=0x00001234\] \[size=8 bytes\]/);
    assert.match(log, /DMA-API: dma0: device driver frees DMA memory with different size .*\[map size=8 bytes\] \[unmap size=16 bytes\]/);
    assert.match(log, /different direction .*\[mapped with DMA_TO_DEVICE\] \[unmapped with DMA_FROM_DEVICE\]/);
    assert.equal(swiotlb_stats(f.dev)!.used, 0);
  });

  it('the pool is freed with the binding (devres, last)', async () => {
    const f = await setup();
    assert.equal(f.allocs.size, 1);
    await devres_release_all(f.dev);
    assert.equal(f.allocs.size, 0);
    assert.equal(is_swiotlb_active(f.dev), false);
  });

  it('module_platform_driver allocates the pool before probe for a DMA-capable device', async () => {
    const f = fakeDmaEnv();
    let active = false;
    let pdevSeen: PlatformDevice | null = null;
    const mod = module_platform_driver({
      probe: (pdev) => { pdevSeen = pdev; active = is_swiotlb_active(pdev.dev); return 0; },
      driver: { name: 'dmatest' },
    });
    mod.init!(f.env, {});
    assert.equal(await mod.probe(f.dev.handle as DeviceHandle), 0);
    assert.equal(active, true);
    assert.ok(pdevSeen);
    await mod.remove!(f.dev.handle as DeviceHandle);
    assert.equal(f.allocs.size, 0, 'freed at unbind');
  });
});
