/**
 * @module kapi debug mode (Linux: CONFIG_PROVE_LOCKING, CONFIG_DEBUG_ATOMIC_SLEEP,
 * CONFIG_DMA_API_DEBUG, devres/resource leak checks)
 * The switch and the counters. The detectors live next to what they check: lockdep.ts (lock
 * order), dma-debug.ts (DMA API), unbind-check.ts (resources left at unbind), preempt.ts
 * (sleeping in atomic context, always on) and io.ts (MMIO outside the window, always on).
 *
 * Turning it on (any of):
 * - `HMDRV_KAPI_DEBUG=1 hmdrv run ...`: every linux-kapi driver (the variable is inherited by
 *   IC1 workers and IC2 processes);
 * - `"kapi-debug": true` in a device's `properties` in the platform file: the driver bound to that
 *   device (from its probe on; in IC0 the lock-order checker then also sees other drivers' locks,
 *   since they share the kapi);
 * - `kapi_debug_enable(env)` from code (tests).
 *
 * Differs from Linux, and why: Linux selects these at build time for the whole kernel; here
 * they are a run-time switch per driver container, because the same driver build runs in every
 * isolation class and the checks cost a stack capture per lock acquisition and DMA mapping.
 * A report never stops the driver: it is logged (once per kind and call site) and counted.
 */
import type { DriverEnv } from '../framework/driver-port.js';
import { callerSite, kapiBugs, kapiDebug } from './bug.js';

const fromEnvVar = typeof process !== 'undefined' && /^(1|true|yes|on)$/i.test(process.env['HMDRV_KAPI_DEBUG'] ?? '');
let globalOn = fromEnvVar;
const enabled = new WeakSet<DriverEnv>();
if (globalOn) kapiDebug.lockSites = true;

/** Turns the debug mode on (or off) for one driver env, or for every driver with `null`. */
export function kapi_debug_enable(env: DriverEnv | null, on = true): void {
  if (env === null) globalOn = on;
  else if (on) enabled.add(env);
  else enabled.delete(env);
  if (on) kapiDebug.lockSites = true;
  else if (env === null && !fromEnvVar) kapiDebug.lockSites = false;
}

/** True when the debug mode is on for `env` (or, without `env`, for anyone). */
export function kapi_debug_enabled(env?: DriverEnv | null): boolean {
  if (globalOn) return true;
  return env ? enabled.has(env) : false;
}

/** The driver's call site when the debug mode is on for `env`, else '' (no stack capture). */
export function debug_site(env: DriverEnv | null | undefined): string {
  return kapi_debug_enabled(env) ? callerSite() : '';
}

/** Counts of the reports so far by kind (repeats included), for `hmdrv dmesg`-side summaries and tests. */
export function kapi_debug_counts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of kapiBugs()) out[b.kind] = (out[b.kind] ?? 0) + b.count;
  return out;
}
