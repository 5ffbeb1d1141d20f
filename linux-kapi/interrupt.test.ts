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
import { devm_request_irq, IRQ_HANDLED } from './interrupt.js';
import { mutex_init, mutex_lock, mutex_unlock } from './mutex.js';
import { spin_lock_init, spin_lock_irqsave, spin_unlock_irqrestore } from './spinlock.js';

const logs: string[] = [];
let handler: ((line: number) => unknown) | undefined;
const env = {
  isolation: 'ic0',
  log: (_l: number, m: string) => { logs.push(m); },
  requestIrq: async (_b: number, _line: number, h: (line: number) => unknown) => { handler = h; },
  freeIrq: async () => undefined,
} as unknown as DriverEnv;
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
