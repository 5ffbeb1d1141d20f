import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from './machine.js';
import { MmioPort } from './mmio-port.js';
import { SpinBudget } from '../ipc/spin.js';
import { TICK_REGS } from '../demo/tick.regs.js';
import { modelNames, registerModel, stateDir } from './models.js';
import { SCRATCH_REGS } from './fixtures/scratch.model.js';

const BASE = 0x1000_0000;
const page = { buffer: new SharedArrayBuffer(4096), maxSpinners: 2 };
const R = TICK_REGS.offsets;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Machine', async () => {
  const m = await Machine.start({ clock: 'real', devices: [{ name: 'tick0', model: 'tick', windows: [{ base: BASE, size: 0x100 }], irqs: [40], params: {} }] }, { kernelPage: page, memoryBytes: 1 << 20 });
  const levels: [number, boolean][] = [];
  const logs: string[] = [];
  m.onIrq((line, level) => levels.push([line, level]));
  m.onLog((_l, t) => logs.push(t));
  const { id, memory } = m.openPort('thread');
  const port = new MmioPort(memory, new SpinBudget(new Int32Array(page.buffer), 2));
  after(async () => { port.close(); await m.close(); });

  it('answers reads only inside granted windows (all ones and a logged fault outside)', async () => {
    assert.equal(port.read(BASE + R.ID), 0xffffffff);
    await m.grantWindow(id, BASE, 0x100);
    assert.equal(port.read(BASE + R.ID), 0x7469636b);
    port.write(BASE + 0x4000, 1);
    assert.equal(port.read(BASE + 0x4000), 0xffffffff);
    await sleep(10);
    assert.ok(logs.some((l) => /outside its mapped windows/.test(l)));
  });

  it('orders a read after the posted writes before it', () => {
    for (let i = 0; i < 1000; i++) port.write(BASE + R.SCRATCH, i);
    assert.equal(port.read(BASE + R.SCRATCH), 999);
  });

  it('drives the IRQ line from IS & IE, and clears it with a W1C write', async () => {
    port.write(BASE + R.PERIOD_US, 200);
    port.write(BASE + R.IE, TICK_REGS.bits.IE.TICK);
    port.write(BASE + R.CTRL, TICK_REGS.bits.CTRL.EN);
    await sleep(30);
    assert.ok(port.read(BASE + R.COUNT) > 0);
    assert.deepEqual(levels[0], [40, true]);
    port.write(BASE + R.CTRL, 0);
    port.write(BASE + R.IS, TICK_REGS.bits.IS.TICK);
    port.read(BASE + R.IS);
    await sleep(10);
    assert.deepEqual(levels.at(-1), [40, false]);
  });

  it('DMA reaches only granted memory: a write elsewhere is an IOMMU fault, not a corruption', async () => {
    const a = m.memory.alloc(4096, 4096, 'test')!;
    port.write(BASE + R.DMA_ADDR, a.addr);
    port.write(BASE + R.DMA_GO, 1);
    await sleep(10);
    assert.ok(port.read(BASE + R.IS) & TICK_REGS.bits.IS.DMA_ERR);
    assert.deepEqual([...m.memory.view(a.addr, 4)], [0, 0, 0, 0]);
    assert.equal(await m.grantDma('tick0', a.addr, 4096, 'from-device'), 0);
    port.write(BASE + R.IS, 0xff);
    port.write(BASE + R.DMA_GO, 1);
    await sleep(10);
    assert.ok(port.read(BASE + R.IS) & TICK_REGS.bits.IS.DMA_DONE);
    assert.equal(new DataView(m.memory.view(a.addr, 4).slice().buffer).getUint32(0, true), port.read(BASE + R.COUNT));
  });
});

describe('registerModel', () => {
  it('runs a model from a module of its own in the machine thread', async () => {
    registerModel('scratch', new URL('./fixtures/scratch.model.js', import.meta.url), 'createScratch');
    assert.ok(modelNames().includes('scratch'));
    assert.throws(() => registerModel('tick', '/x.js'), /built in/);
    const m = await Machine.start({ clock: 'virtual', devices: [{ name: 's0', model: 'scratch', windows: [{ base: BASE, size: 0x10 }], irqs: [], params: { seed: 7 } }] },
      { kernelPage: page, memoryBytes: 1 << 20 });
    const { id, memory } = m.openPort('thread');
    const port = new MmioPort(memory, new SpinBudget(new Int32Array(page.buffer), 2));
    try {
      await m.grantWindow(id, BASE, 0x10);
      assert.equal(port.read(BASE + SCRATCH_REGS.offsets.ID), 0x53435243);
      assert.equal(port.read(BASE + SCRATCH_REGS.offsets.SCRATCH), 7);
    } finally { port.close(); await m.close(); }
  });
});

describe('stateDir', () => {
  it('puts relative backing files under HMDRV_STATE_DIR, else XDG_STATE_HOME/hmdrv, else ~/.local/state/hmdrv', () => {
    assert.equal(stateDir({ HMDRV_STATE_DIR: '/s' }), '/s');
    assert.equal(stateDir({ XDG_STATE_HOME: '/x' }), '/x/hmdrv');
    assert.match(stateDir({}), /\/\.local\/state\/hmdrv$/);
  });
});
