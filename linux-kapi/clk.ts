/**
 * @module linux/clk.h (consumer side)
 * Clocks a driver gets in probe and gates around its work: `clk_get`/`devm_clk_get` (and the
 * `_optional`, `_enabled`, `_prepared` forms), `clk_prepare`/`clk_enable`/`clk_prepare_enable`
 * and their undo, `clk_get_rate`/`clk_set_rate`/`clk_round_rate`, `clk_put`.
 *
 * ```ts
 * const clk = devm_clk_get_enabled(dev, 'core');      // disabled + unprepared at unbind
 * if (IS_ERR(clk)) return dev_err_probe(dev, PTR_ERR(clk), 'no core clock');
 * const hz = clk_get_rate(clk);
 * ```
 *
 * The platform file declares a device's clocks as a property, names to fixed rates in Hz, the
 * first one being the default (`clk_get(dev, null)`):
 *
 * ```json
 * "properties": { "clocks": { "core": 200000000, "bus": 100000000 } }
 * ```
 *
 * Differs from Linux, and why:
 * - **There is no clock tree**: the simulated machine's devices run off no clock, so every clock
 *   is a fixed-rate leaf of its own device. No parents, no `clk_set_parent`, no providers
 *   (`clk_hw`, `of_clk_add_provider`), no bulk API.
 * - `clk_set_rate` is accepted and recorded: `clk_get_rate` returns it afterwards, and
 *   `clk_round_rate` returns the request (a fixed clock with an ideal divider).
 * - The error "pointer" is a negative errno (`Clk | number`; `IS_ERR`/`PTR_ERR` from errno.ts):
 *   `-ENOENT` for a clock the device does not declare, `-EINVAL` (logged) for a malformed
 *   `clocks` property. An optional clock that is absent is `null`, as Linux's NULL clk: every
 *   operation on it is a no-op that succeeds, with rate 0.
 * - `clk_prepare`/`clk_unprepare` stay synchronous (they only count here) but report being
 *   called in atomic context, as Linux's might_sleep in them would.
 * - Counts are per clock of the device (Linux: per `clk_core`), whatever handle is used.
 *   Linux's WARNs are reported (once per call site): "already disabled", "already unprepared",
 *   "Enabling unprepared" (which then fails with `-ESHUTDOWN`), "Unpreparing enabled".
 * - A clock still prepared when the device is unbound (after `remove` and devres) is reported
 *   by the debug mode's unbind check (Linux would leave it running). The `devm_clk_get_enabled`
 *   and `_prepared` forms undo their enable at unbind, newest first among the devres actions.
 */
import type { Device } from './device.js';
import { dev_err, devm_add_action } from './device.js';
import { EINVAL, ENOENT } from './errno.js';
import { kapi_report } from './bug.js';
import { debug_site } from './debug.js';
import { might_sleep } from './preempt.js';
import { track_resource, untrack_resource, type TrackedResource } from './unbind-check.js';

/** Linux's ESHUTDOWN: what clk_enable returns for an unprepared clock. */
const ESHUTDOWN = 108;

/** One clock of a device (Linux's clk_core): rate and counts shared by all handles to it. */
class ClkCore {
  prepare_count = 0;
  enable_count = 0;
  /** The unbind check's record while prepared. */
  tracked: TrackedResource | undefined = undefined;
  constructor(readonly dev: Device, readonly name: string, public rate: number) {}
}

/** A consumer's handle to a clock (struct clk). */
export class Clk {
  /** @internal */ _put = false;
  constructor(/** @internal */ readonly _core: ClkCore, readonly con_id: string | null) {}
  get name(): string { return this._core.name; }
  get prepare_count(): number { return this._core.prepare_count; }
  get enable_count(): number { return this._core.enable_count; }
}
export type clk = Clk;

/** Per device: its clocks from the `clocks` property (null: malformed), parsed on first use. */
const cores = new WeakMap<Device, Map<string, ClkCore> | null>();

function clocksOf(dev: Device): Map<string, ClkCore> | null {
  const known = cores.get(dev);
  if (known !== undefined) return known;
  const prop = dev.handle.spec.properties['clocks'];
  let out: Map<string, ClkCore> | null = new Map();
  if (prop !== undefined) {
    if (typeof prop !== 'object' || prop === null || Array.isArray(prop)) {
      dev_err(dev, 'property "clocks" must be an object of clock names to rates in Hz, e.g. { "core": 200000000 }');
      out = null;
    } else {
      for (const [name, rate] of Object.entries(prop as Record<string, unknown>)) {
        if (typeof rate !== 'number' || !Number.isSafeInteger(rate) || rate < 0) {
          dev_err(dev, `clock "${name}": rate must be a non-negative integer (Hz), got ${JSON.stringify(rate)}`);
          out = null;
          break;
        }
        out.set(name, new ClkCore(dev, name, rate));
      }
    }
  }
  cores.set(dev, out);
  return out;
}

/** clk_get(dev, id): the device's clock `id` (null: the first), or -ENOENT / -EINVAL. */
export function clk_get(dev: Device, id: string | null): Clk | number {
  const all = clocksOf(dev);
  if (!all) return -EINVAL;
  const core = id === null ? all.values().next().value : all.get(id);
  return core ? new Clk(core, id) : -ENOENT;
}

/** clk_put(clk): releases a clk_get handle (not one from devm_clk_get*). */
export function clk_put(clk: Clk | null): void {
  if (!clk) return;
  if (clk._put) kapi_report('clk-put', 4, `WARNING: clk ${clk._core.dev.init_name}:${clk.name}: clk_put twice`, rep(clk));
  clk._put = true;
}

/** devm_clk_get(dev, id): clk_get, put at unbind. */
export function devm_clk_get(dev: Device, id: string | null): Clk | number {
  const c = clk_get(dev, id);
  if (typeof c !== 'number') devm_add_action(dev, () => clk_put(c));
  return c;
}

/** devm_clk_get_optional(dev, id): as devm_clk_get, but null (the no-op clock) when absent. */
export function devm_clk_get_optional(dev: Device, id: string | null): Clk | null | number {
  const c = devm_clk_get(dev, id);
  return c === -ENOENT ? null : c;
}

/** devm_clk_get_prepared(dev, id): prepared now, unprepared at unbind. */
export function devm_clk_get_prepared(dev: Device, id: string | null): Clk | number {
  return getWith(dev, id, false, false) as Clk | number;
}

/** devm_clk_get_enabled(dev, id): prepared and enabled now, disabled and unprepared at unbind. */
export function devm_clk_get_enabled(dev: Device, id: string | null): Clk | number {
  return getWith(dev, id, true, false) as Clk | number;
}

/** devm_clk_get_optional_enabled(dev, id): devm_clk_get_enabled, or null when absent. */
export function devm_clk_get_optional_enabled(dev: Device, id: string | null): Clk | null | number {
  return getWith(dev, id, true, true);
}

/** devm_clk_get_optional_prepared(dev, id): devm_clk_get_prepared, or null when absent. */
export function devm_clk_get_optional_prepared(dev: Device, id: string | null): Clk | null | number {
  return getWith(dev, id, false, true);
}

function getWith(dev: Device, id: string | null, enable: boolean, optional: boolean): Clk | null | number {
  let c: Clk | null | number = clk_get(dev, id);
  if (c === -ENOENT && optional) c = null;
  if (typeof c === 'number' || c === null) return c;
  const clk = c;
  const r = enable ? clk_prepare_enable(clk) : clk_prepare(clk);
  if (r !== 0) { clk_put(clk); return r; }
  devm_add_action(dev, () => {
    if (enable) clk_disable_unprepare(clk); else clk_unprepare(clk);
    clk_put(clk);
  });
  return clk;
}

const rep = (clk: Clk): { env: Device['env']; binding: number; key: string } =>
  ({ env: clk._core.dev.env, binding: clk._core.dev.binding, key: clk.name });
const label = (clk: Clk): string => `clk ${clk._core.dev.init_name}:${clk.name}`;

/** clk_prepare(clk): 0 (may sleep: reported in atomic context). */
export function clk_prepare(clk: Clk | null): number {
  might_sleep('clk_prepare()');
  if (!clk) return 0;
  const core = clk._core;
  if (core.prepare_count++ === 0) {
    core.tracked = track_resource(core.dev, {
      kind: 'clock', name: core.name, site: debug_site(core.dev.env),
      hint: 'prepared or enabled: clk_disable_unprepare missing in remove, or use devm_clk_get_enabled',
    });
  }
  return 0;
}

/** clk_unprepare(clk): reports an unprepared clock ("already unprepared") or an enabled one. */
export function clk_unprepare(clk: Clk | null): void {
  might_sleep('clk_unprepare()');
  if (!clk) return;
  const core = clk._core;
  if (core.prepare_count === 0) {
    kapi_report('clk-unbalanced', 4, `WARNING: ${label(clk)} already unprepared`, rep(clk));
    return;
  }
  if (--core.prepare_count > 0) return;
  if (core.enable_count > 0) kapi_report('clk-unbalanced', 4, `WARNING: Unpreparing enabled ${label(clk)}`, rep(clk));
  untrack_resource(core.dev, core.tracked);
  core.tracked = undefined;
}

/** clk_enable(clk): 0, or -ESHUTDOWN (reported) if the clock is not prepared. Atomic-safe. */
export function clk_enable(clk: Clk | null): number {
  if (!clk) return 0;
  const core = clk._core;
  if (core.prepare_count === 0) {
    kapi_report('clk-unbalanced', 4, `WARNING: Enabling unprepared ${label(clk)}`, rep(clk));
    return -ESHUTDOWN;
  }
  core.enable_count++;
  return 0;
}

/** clk_disable(clk): reports "already disabled" when the enable count is 0. */
export function clk_disable(clk: Clk | null): void {
  if (!clk) return;
  const core = clk._core;
  if (core.enable_count === 0) {
    kapi_report('clk-unbalanced', 4, `WARNING: ${label(clk)} already disabled`, rep(clk));
    return;
  }
  core.enable_count--;
}

/** clk_prepare_enable(clk): prepare then enable (unprepared again if enable fails). */
export function clk_prepare_enable(clk: Clk | null): number {
  const r = clk_prepare(clk);
  if (r !== 0) return r;
  const e = clk_enable(clk);
  if (e !== 0) clk_unprepare(clk);
  return e;
}

/** clk_disable_unprepare(clk). */
export function clk_disable_unprepare(clk: Clk | null): void {
  clk_disable(clk);
  clk_unprepare(clk);
}

/** clk_get_rate(clk): Hz (0 for the null clock). */
export const clk_get_rate = (clk: Clk | null): number => (clk ? clk._core.rate : 0);

/** clk_round_rate(clk, rate): the rate clk_set_rate would give, which is the request here. */
export function clk_round_rate(clk: Clk | null, rate: number): number {
  if (!clk) return 0;
  return Number.isSafeInteger(rate) && rate > 0 ? rate : -EINVAL;
}

/** clk_set_rate(clk, rate): records the rate (Hz, a positive integer), or -EINVAL. */
export function clk_set_rate(clk: Clk | null, rate: number): number {
  if (!clk) return 0;
  if (!Number.isSafeInteger(rate) || rate <= 0) return -EINVAL;
  clk._core.rate = rate;
  return 0;
}

/** __clk_is_enabled(clk) (provider-side in Linux, handy in drivers' debug code). */
export const __clk_is_enabled = (clk: Clk | null): boolean => !!clk && clk._core.enable_count > 0;
