/**
 * printk levels, *_once and *_ratelimited (Linux's 10 messages per 5 s), for pr_* and dev_*.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceHandle, DriverEnv } from '../framework/driver-port.js';
import { Device, dev_err_once, dev_warn_ratelimited } from './device.js';
import { pr_crit, pr_emerg, pr_err_once, pr_warn_ratelimited, setDriverEnv } from './kernel.js';

const logs: [number, string, number | undefined][] = [];
const env = { isolation: 'ic0', log: (l: number, m: string, b?: number) => { logs.push([l, m, b]); } } as unknown as DriverEnv;
setDriverEnv(env);
const dev = new Device(env, { binding: 3, spec: { name: 'p0', compatible: [], reg: [], interrupts: [], properties: {} }, params: {} } as DeviceHandle, 'p0');

it('levels, once and ratelimited', () => {
  pr_emerg('e');
  pr_crit('c');
  for (let i = 0; i < 3; i++) { pr_err_once('once'); dev_err_once(dev, 'dev once'); }
  for (let i = 0; i < 25; i++) { pr_warn_ratelimited('storm'); dev_warn_ratelimited(dev, 'dev storm'); }
  assert.deepEqual(logs.slice(0, 2).map((l) => l[0]), [0, 2]);
  assert.equal(logs.filter((l) => l[1] === 'once').length, 1);
  assert.deepEqual(logs.filter((l) => l[1] === 'dev once').map((l) => l[2]), [3], 'dev_* name the device binding');
  assert.equal(logs.filter((l) => l[1] === 'storm').length, 10);
  assert.equal(logs.filter((l) => l[1] === 'dev storm').length, 10);
});
