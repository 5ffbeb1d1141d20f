/**
 * IRQ handlers run in hardirq context through the kapi's gate: sleeping in one is reported,
 * and a delivery while the driver has IRQs disabled waits until they are enabled again.
 */
import { beforeEach, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceHandle, DriverEnv } from '../framework/driver-port.js';
import { setDriverEnv } from './kernel.js';
import { resetKapiBugs } from './bug.js';
import { __reset_context, in_irq } from './preempt.js';
import { Device } from './device.js';
import { __device_bound } from './device.js';
import {
  devm_request_irq, devm_request_threaded_irq, disable_irq, disable_irq_nosync, enable_irq, free_irq, IRQ_HANDLED, IRQ_WAKE_THREAD, request_irq,
  request_threaded_irq, requested_irqs, synchronize_irq,
} from './interrupt.js';
import { ENXIO } from './errno.js';
import { mutex_init, mutex_lock, mutex_unlock } from './mutex.js';
import { spin_lock_init, spin_lock_irqsave, spin_unlock_irqrestore } from './spinlock.js';

const logs: string[] = [];
let handler: ((line: number) => unknown) | undefined;
const masks: string[] = [];
const env = {
  maskIrq: (line: number, masked: boolean) => { masks.push(`${masked ? 'mask' : 'unmask'} ${line}`); },
  isolation: 'ic0',
  log: (_l: number, m: string) => { logs.push(m); },
  requestIrq: async (_b: number, _line: number, h: (line: number) => unknown) => { handler = h; },
  freeIrq: async () => { handler = undefined; },
  reportFault: (e: unknown, where: string) => { faults.push(`${where}: ${(e as Error).message}`); },
} as unknown as DriverEnv;
const faults: string[] = [];
setDriverEnv(env);
const dev = new Device(env, { binding: 1, spec: { name: 'd0', compatible: [], reg: [], interrupts: [7], properties: {} }, params: {} } as DeviceHandle, 'd0');

beforeEach(() => { logs.length = 0; __reset_context(); resetKapiBugs(); });

it('runs the top half in hardirq context and reports sleeping there', async () => {
  const m = mutex_init();
  let inIrq = false;
  await devm_request_irq(dev, 7, () => { inIrq = in_irq(); void mutex_lock(m).then(() => mutex_unlock(m)); return IRQ_HANDLED; }, 0, 't', null);
  handler!(7);
  assert.equal(inIrq, true);
  assert.equal(in_irq(), false);
  assert.ok(logs.some((l) => /^BUG: sleeping function called from invalid context: mutex_lock\(\) in hardirq context/.test(l)), logs.join('\n'));
});

it('defers a delivery while IRQs are disabled, and runs it once they are enabled', async () => {
  let runs = 0;
  await devm_request_irq(dev, 7, () => { runs++; return IRQ_HANDLED; }, 0, 't', null);
  const lock = spin_lock_init();
  const flags = spin_lock_irqsave(lock);
  handler!(7);
  handler!(7); // a level line re-asserted meanwhile: one pending delivery
  assert.equal(runs, 0);
  spin_unlock_irqrestore(lock, flags);
  await new Promise((r) => setImmediate(r));
  assert.equal(runs, 1);
});

it('request_irq finds the bound device by its line; free_irq(irq, dev_id) releases it', async () => {
  assert.equal(await request_irq(7, () => IRQ_HANDLED, 0, 'x', null), -ENXIO, 'no bound device has line 7 yet');
  __device_bound(dev, true);
  let runs = 0;
  assert.equal(await request_irq(7, () => { runs++; return IRQ_HANDLED; }, 0, 'x', null), 0);
  assert.deepEqual(requested_irqs(dev).map((l) => [l.irq, l.devm]), [[7, false]]);
  handler!(7);
  assert.equal(runs, 1);
  await free_irq(7, null);
  assert.equal(handler, undefined);
  assert.deepEqual(requested_irqs(dev), []);
  __device_bound(dev, false);
});

it('disable_irq masks the line until enable_irq; in its own handler it is reported', async () => {
  let runs = 0;
  await devm_request_irq(dev, 7, () => { runs++; if (runs === 1) disable_irq(7); return IRQ_HANDLED; }, 0, 'm', null);
  handler!(7);
  assert.equal(runs, 1);
  assert.match(logs.join('\n'), /BUG: disable_irq\(7\) called from its own handler: .*use disable_irq_nosync/);
  handler!(7);
  disable_irq_nosync(7);
  handler!(7);
  assert.equal(runs, 1, 'offers while disabled are dropped (the level is offered again later)');
  enable_irq(7);
  handler!(7);
  assert.equal(runs, 1, 'still disabled once');
  enable_irq(7);
  handler!(7);
  assert.equal(runs, 2);
  enable_irq(7);
  assert.match(logs.join('\n'), /WARNING: Unbalanced enable for IRQ 7/);
  assert.deepEqual(masks, ['mask 7', 'unmask 7'], 'the controller is masked by the first disable and unmasked by the last enable');
});

it('a threaded handler that throws is a fault, not an unhandled rejection; synchronize_irq waits for it', async () => {
  faults.length = 0;
  let done = false;
  await devm_request_threaded_irq(dev, 7, () => IRQ_WAKE_THREAD, async () => {
    await new Promise((r) => setImmediate(r));
    done = true;
    throw new Error('thread boom');
  }, 0, 'th', null);
  handler!(7);
  await new Promise((r) => queueMicrotask(() => r(undefined)));
  await synchronize_irq(7);
  assert.equal(done, true);
  assert.deepEqual(faults, ['threaded irq handler th: thread boom']);
});

it('request_threaded_irq with neither handler is -EINVAL', async () => {
  __device_bound(dev, true);
  assert.equal(await request_threaded_irq(7, null, null, 0, 'n', null), -22);
  __device_bound(dev, false);
});
