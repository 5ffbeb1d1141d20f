/**
 * Runtime PM: usage counting, the driver's runtime callbacks on the transitions, autosuspend
 * after the delay (on a virtual kapi clock), the underflow report, and the driver.pm plumbing
 * of module_platform_driver with devm_pm_runtime_enable.
 */
import { afterEach, beforeEach, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceHandle, DriverEnv } from '../framework/driver-port.js';
import { RealClock, VirtualClock } from '../devices/core/clock.js';
import { setDriverEnv } from './kernel.js';
import { kapiBugs, resetKapiBugs } from './bug.js';
import { Device } from './device.js';
import { EACCES, EIO } from './errno.js';
import { setKapiClock } from './time.js';
import { module_platform_driver } from './module.js';
import {
  __set_dev_pm_ops, devm_pm_runtime_enable, pm_runtime_active, pm_runtime_debug_state, pm_runtime_disable, pm_runtime_enable,
  pm_runtime_get_noresume, pm_runtime_get_sync, pm_runtime_mark_last_busy, pm_runtime_put, pm_runtime_put_autosuspend,
  pm_runtime_put_noidle, pm_runtime_put_sync, pm_runtime_resume_and_get, pm_runtime_set_active, pm_runtime_set_autosuspend_delay,
  pm_runtime_suspended, pm_runtime_use_autosuspend, RUNTIME_PM_OPS,
} from './pm_runtime.js';

const logs: string[] = [];
const env = { isolation: 'ic0', log: (_l: number, m: string) => { logs.push(m); } } as unknown as DriverEnv;
setDriverEnv(env);
let nextBinding = 100;
const handle = (): DeviceHandle => {
  const b = nextBinding++;
  return { binding: b, spec: { name: `p${b}`, compatible: [], reg: [], interrupts: [], properties: {} }, params: {} } as DeviceHandle;
};
const mkdev = (): Device => { const h = handle(); return new Device(env, h, h.spec.name); };
/** Lets queued work items run (a few event-loop turns). */
const settle = async (): Promise<void> => { for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r)); };

let trace: string[] = [];
const ops = RUNTIME_PM_OPS(
  async function sus(d) { trace.push(`suspend ${d.init_name}`); await new Promise((r) => setImmediate(r)); return 0; },
  function res(d) { trace.push(`resume ${d.init_name}`); return 0; },
);

beforeEach(() => { logs.length = 0; trace = []; resetKapiBugs(); });
afterEach(() => { setKapiClock(new RealClock()); });

it('get/put count usage and call runtime_resume / runtime_suspend on the transitions', async () => {
  const dev = mkdev();
  __set_dev_pm_ops(dev, ops);
  assert.equal(await pm_runtime_get_sync(dev), -EACCES, 'disabled and suspended');
  pm_runtime_put_noidle(dev);
  pm_runtime_enable(dev);
  assert.equal(pm_runtime_suspended(dev), true);
  assert.equal(await pm_runtime_get_sync(dev), 0);
  assert.equal(await pm_runtime_get_sync(dev), 1, 'already active');
  assert.deepEqual(trace, [`resume ${dev.init_name}`]);
  assert.equal(pm_runtime_debug_state(dev).usage_count, 2);
  assert.equal(await pm_runtime_put_sync(dev), 0, 'still in use: nothing happens');
  assert.equal(pm_runtime_active(dev), true);
  assert.equal(await pm_runtime_put_sync(dev), 0);
  assert.equal(pm_runtime_suspended(dev), true);
  assert.deepEqual(trace, [`resume ${dev.init_name}`, `suspend ${dev.init_name}`]);
  // The asynchronous put suspends from the pm workqueue.
  assert.equal(await pm_runtime_resume_and_get(dev), 0);
  assert.equal(pm_runtime_put(dev), 0);
  assert.equal(pm_runtime_active(dev), true, 'not yet: queued');
  await settle();
  assert.equal(pm_runtime_suspended(dev), true);
  assert.deepEqual(pm_runtime_debug_state(dev).calls, { runtime_suspend: 2, runtime_resume: 2, runtime_idle: 0 });
  await pm_runtime_disable(dev);
  assert.deepEqual(kapiBugs(), []);
});

it('a failing runtime_resume leaves the device suspended; resume_and_get drops its count', async () => {
  const dev = mkdev();
  __set_dev_pm_ops(dev, { runtime_resume: () => -EIO });
  pm_runtime_enable(dev);
  assert.equal(await pm_runtime_resume_and_get(dev), -EIO);
  assert.equal(pm_runtime_debug_state(dev).usage_count, 0);
  assert.equal(pm_runtime_debug_state(dev).status, 'suspended');
  await pm_runtime_disable(dev);
});

it('reports a usage count underflow and keeps the count at 0', async () => {
  const dev = mkdev();
  pm_runtime_get_noresume(dev);
  pm_runtime_put_noidle(dev);
  pm_runtime_put_noidle(dev);
  assert.equal(pm_runtime_put(dev), -22);
  assert.equal(pm_runtime_debug_state(dev).usage_count, 0);
  const bugs = kapiBugs().filter((b) => b.kind === 'rpm-underflow');
  assert.equal(bugs.length, 2, 'once per call site');
  assert.match(bugs[0]!.message, /^WARNING: p\d+: Runtime PM usage count underflow! at .*pm_runtime\.test/);
  pm_runtime_enable(dev);
  pm_runtime_enable(dev);
  assert.ok(kapiBugs().some((b) => /Unbalanced pm_runtime_enable!/.test(b.message)));
  await pm_runtime_disable(dev);
});

it('autosuspends after the delay from the last busy mark, not before', async () => {
  const clock = new VirtualClock();
  setKapiClock(clock);
  const dev = mkdev();
  __set_dev_pm_ops(dev, ops);
  pm_runtime_set_autosuspend_delay(dev, 100);
  pm_runtime_use_autosuspend(dev);
  assert.equal(pm_runtime_set_active(dev), 0);
  pm_runtime_enable(dev);
  assert.equal(await pm_runtime_resume_and_get(dev), 0);
  assert.deepEqual(trace, [], 'was already active');
  pm_runtime_mark_last_busy(dev);
  pm_runtime_put_autosuspend(dev);
  await settle();
  clock.advance(60_000_000n);
  await settle();
  assert.equal(pm_runtime_active(dev), true, '60 ms < 100 ms');
  // Busy again at 60 ms: the delay restarts from the new mark.
  pm_runtime_get_noresume(dev);
  pm_runtime_mark_last_busy(dev);
  pm_runtime_put_autosuspend(dev);
  await settle();
  clock.advance(60_000_000n);
  await settle();
  assert.equal(pm_runtime_active(dev), true, '60 ms after the new mark');
  assert.deepEqual(trace, []);
  clock.advance(60_000_000n);
  await settle();
  await settle();
  assert.equal(pm_runtime_suspended(dev), true, '120 ms after the mark');
  assert.deepEqual(trace, [`suspend ${dev.init_name}`]);
  // A get during the delay cancels the pending autosuspend.
  assert.equal(await pm_runtime_get_sync(dev), 0);
  pm_runtime_mark_last_busy(dev);
  pm_runtime_put_autosuspend(dev);
  await settle();
  assert.equal(await pm_runtime_get_sync(dev), 1);
  clock.advance(500_000_000n);
  await settle();
  assert.equal(pm_runtime_active(dev), true, 'held by the usage count');
  assert.equal(pm_runtime_debug_state(dev).request, 'none');
  await pm_runtime_disable(dev);
});

it('module_platform_driver passes driver.pm; devm_pm_runtime_enable is undone at unbind', async () => {
  let probed: Device | null = null;
  const mod = module_platform_driver({
    async probe(pdev) {
      probed = pdev.dev;
      pm_runtime_set_active(pdev.dev);
      devm_pm_runtime_enable(pdev.dev);
      pm_runtime_get_noresume(pdev.dev);
      pm_runtime_put(pdev.dev);
      return 0;
    },
    driver: { name: 'rpmdrv', pm: ops },
  });
  await mod.init?.(env, {});
  const h = handle();
  assert.equal(await mod.probe(h), 0);
  const dev = probed!;
  await settle();
  assert.equal(pm_runtime_suspended(dev), true, 'idle after probe: suspended through driver.pm');
  assert.equal(await pm_runtime_get_sync(dev), 0);
  assert.deepEqual(trace, [`suspend ${dev.init_name}`, `resume ${dev.init_name}`]);
  pm_runtime_put_noidle(dev);
  await mod.remove?.(h);
  // devres: dont_use_autosuspend idles the device (suspend, as on Linux), then disables.
  const st = pm_runtime_debug_state(dev);
  assert.equal(st.disable_depth, 1, 'disabled by devres');
  assert.equal(st.status, 'suspended');
  assert.deepEqual(trace, [`suspend ${dev.init_name}`, `resume ${dev.init_name}`, `suspend ${dev.init_name}`]);
  // Unbound: the callbacks are detached (dev->driver = NULL).
  pm_runtime_enable(dev);
  assert.equal(await pm_runtime_get_sync(dev), 0);
  assert.equal(trace.length, 3, 'no callback into the unbound driver');
  await pm_runtime_disable(dev);
  assert.deepEqual(kapiBugs(), []);
});
