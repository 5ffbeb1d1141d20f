/**
 * Clocks: fixed rates from the platform file's `clocks` property, optional (null) clocks,
 * prepare/enable counting with Linux's unbalanced-call warnings, and devm undo order.
 */
import { beforeEach, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceHandle, DriverEnv } from '../framework/driver-port.js';
import { setDriverEnv } from './kernel.js';
import { kapiBugs, resetKapiBugs } from './bug.js';
import { kapi_debug_enable } from './debug.js';
import { Device, devm_add_action, devres_release_all } from './device.js';
import { ENOENT, EINVAL, IS_ERR, PTR_ERR } from './errno.js';
import { kapi_unbind_check } from './unbind-check.js';
import {
  Clk, clk_disable, clk_disable_unprepare, clk_enable, clk_get, clk_get_rate, clk_prepare_enable, clk_put,
  clk_round_rate, clk_set_rate, clk_unprepare, devm_clk_get, devm_clk_get_enabled, devm_clk_get_optional,
  devm_clk_get_optional_enabled,
} from './clk.js';

const logs: string[] = [];
const env = { isolation: 'ic0', log: (_l: number, m: string) => { logs.push(m); } } as unknown as DriverEnv;
setDriverEnv(env);
let nextBinding = 1;
function mkdev(properties: Record<string, unknown>): Device {
  const b = nextBinding++;
  return new Device(env, { binding: b, spec: { name: `c${b}`, compatible: [], reg: [], interrupts: [], properties }, params: {} } as DeviceHandle, `c${b}`);
}
const clocks = { clocks: { core: 200_000_000, bus: 100_000_000 } };

beforeEach(() => { logs.length = 0; resetKapiBugs(); });

it('gets named clocks with the rates of the platform property; null is the first', () => {
  const dev = mkdev(clocks);
  const core = clk_get(dev, 'core');
  const bus = devm_clk_get(dev, 'bus');
  const first = clk_get(dev, null);
  assert.ok(core instanceof Clk && bus instanceof Clk && first instanceof Clk);
  assert.equal(clk_get_rate(core), 200_000_000);
  assert.equal(clk_get_rate(bus), 100_000_000);
  assert.equal(first.name, 'core');
  const missing = clk_get(dev, 'ref');
  assert.ok(IS_ERR(missing));
  assert.equal(PTR_ERR(missing), -ENOENT);
  assert.equal(clk_get(mkdev({}), null), -ENOENT, 'no clocks property: no clocks');
});

it('rejects a malformed clocks property with -EINVAL and a log line', () => {
  assert.equal(clk_get(mkdev({ clocks: [200] }), null), -EINVAL);
  assert.equal(clk_get(mkdev({ clocks: { core: -1 } }), 'core'), -EINVAL);
  assert.equal(logs.length, 2);
  assert.match(logs[1]!, /clock "core": rate must be a non-negative integer/);
});

it('an absent optional clock is null: every operation succeeds, rate 0', () => {
  const dev = mkdev(clocks);
  const c = devm_clk_get_optional(dev, 'ref');
  assert.equal(c, null);
  assert.equal(clk_prepare_enable(c as null), 0);
  assert.equal(clk_get_rate(c as null), 0);
  assert.equal(clk_set_rate(c as null, 5), 0);
  clk_disable_unprepare(c as null);
  assert.equal(devm_clk_get_optional_enabled(dev, 'ref'), null);
  assert.ok(devm_clk_get_optional(dev, 'bus') instanceof Clk, 'present: a real clock');
  assert.deepEqual(kapiBugs(), []);
});

it('counts prepare/enable per clock across handles and reports unbalanced calls', () => {
  const dev = mkdev(clocks);
  const a = clk_get(dev, 'core') as Clk;
  const b = clk_get(dev, 'core') as Clk;
  assert.equal(clk_enable(a), -108, 'enabling an unprepared clock fails with -ESHUTDOWN');
  assert.equal(clk_prepare_enable(a), 0);
  assert.equal(clk_prepare_enable(b), 0);
  assert.equal(a.enable_count, 2);
  assert.equal(a.prepare_count, 2);
  clk_disable_unprepare(b);
  clk_disable_unprepare(a);
  assert.equal(a.enable_count, 0);
  clk_disable(a);
  clk_unprepare(a);
  assert.equal(a.enable_count, 0, 'an unbalanced disable leaves the count at 0');
  const msgs = kapiBugs().map((x) => x.message);
  assert.ok(msgs.some((m) => /^WARNING: Enabling unprepared clk c\d+:core/.test(m)), msgs.join('\n'));
  assert.ok(msgs.some((m) => /^WARNING: clk c\d+:core already disabled at .*clk\.test/.test(m)), msgs.join('\n'));
  assert.ok(msgs.some((m) => /^WARNING: clk c\d+:core already unprepared/.test(m)), msgs.join('\n'));
  clk_prepare_enable(a);
  clk_unprepare(a);
  assert.ok(kapiBugs().some((x) => /Unpreparing enabled clk c\d+:core/.test(x.message)));
  clk_put(a);
  clk_put(b);
});

it('set_rate is recorded; round_rate returns the request; bad rates are -EINVAL', () => {
  const c = clk_get(mkdev(clocks), 'bus') as Clk;
  assert.equal(clk_round_rate(c, 48_000_000), 48_000_000);
  assert.equal(clk_set_rate(c, 48_000_000), 0);
  assert.equal(clk_get_rate(c), 48_000_000);
  assert.equal(clk_set_rate(c, 0), -EINVAL);
  assert.equal(clk_set_rate(c, 1.5), -EINVAL);
  assert.equal(clk_get_rate(c), 48_000_000);
});

it('devm_clk_get_enabled undoes at unbind, newest first among devres actions', async () => {
  const dev = mkdev(clocks);
  const order: string[] = [];
  const core = devm_clk_get_enabled(dev, 'core') as Clk;
  devm_add_action(dev, () => { order.push(`action: core enabled=${core.enable_count}`); });
  const bus = devm_clk_get_enabled(dev, 'bus') as Clk;
  devm_add_action(dev, () => { order.push(`action: bus enabled=${bus.enable_count}`); });
  assert.equal(core.enable_count, 1);
  assert.equal(bus.prepare_count, 1);
  await devres_release_all(dev);
  assert.deepEqual(order, ['action: bus enabled=1', 'action: core enabled=1']);
  assert.equal(bus.enable_count + bus.prepare_count + core.enable_count + core.prepare_count, 0);
  assert.deepEqual(kapiBugs(), []);
});

it('debug mode: a clock left prepared at unbind is reported by the unbind check', async () => {
  const dev = mkdev(clocks);
  kapi_debug_enable(env);
  try {
    const c = devm_clk_get(dev, 'bus') as Clk;
    clk_prepare_enable(c);
    const ok = devm_clk_get_enabled(dev, 'core') as Clk;
    await devres_release_all(dev);
    assert.equal(ok.enable_count, 0);
    assert.equal(await kapi_unbind_check(dev, 'clkdrv', true), 1);
    assert.match(kapiBugs().map((x) => x.message).join('\n'), /clkdrv c\d+: clock bus still registered \(prepared or enabled: clk_disable_unprepare missing/);
  } finally { kapi_debug_enable(env, false); }
});
