/**
 * @module resources left at unbind (Linux: devres/DMA-API debug "pending DMA allocations while
 * released from device", "Trying to free already-free IRQ", ODEBUG's "active timer_list" on
 * free...), run by module.ts after `remove` and the devres release, and after a failed probe.
 *
 * Always (kapi bookkeeping, no report): IRQ lines the driver requested without devm and never
 * freed are released, and the device's streaming DMA mappings are forgotten (the kernel frees
 * the binding's DMA memory; the bounce pool went with devres).
 *
 * Debug mode (debug.ts) reports, one line each, naming the driver, the device and where the
 * resource was set up: IRQs still requested (`request_irq` without `free_irq`), DMA mappings
 * not unmapped and coherent buffers not freed, nodes and attributes registered without devm and
 * not removed (`misc_register`, `device_create`, `device_create_file`...), and, when the last
 * device of the driver goes, timers still armed (cancelled), work still queued or running, and
 * locks still held. Linux would oops later (a timer firing into unloaded code) or leak; hmdrv's
 * kernel cleans up after the binding anyway, which is why these are warnings, not errors.
 */
import type { Device } from './device.js';
import { kapi_report } from './bug.js';
import { kapi_debug_enabled } from './debug.js';
import { live_dma_mappings } from './dma-debug.js';
import { requested_irqs, free_irq } from './interrupt.js';
import { held_sleeping_locks } from './lockdep.js';
import { held_locks } from './preempt.js';
import { dmaState } from './swiotlb.js';
import { cancelPendingTimers, pendingTimers } from './time.js';
import { pendingWork } from './workqueue.js';

/** A kernel-side object a driver registered without devm (misc device, node, attribute...). */
export interface TrackedResource { readonly kind: string; readonly name: string; readonly site: string; readonly hint: string }

const tracked = new WeakMap<Device, Set<TrackedResource>>();

/** Records a non-devm registration of `dev`; undo with untrack_resource when the driver removes it. */
export function track_resource(dev: Device, r: TrackedResource): TrackedResource {
  let s = tracked.get(dev);
  if (!s) { s = new Set(); tracked.set(dev, s); }
  s.add(r);
  return r;
}

export function untrack_resource(dev: Device, r: TrackedResource | undefined): void {
  if (r) tracked.get(dev)?.delete(r);
}

const hex = (a: number): string => `0x${a.toString(16).padStart(8, '0')}`;

/**
 * The check itself. `driver` names the driver in reports; `last`: no other device of the driver
 * stays bound (timers, work and locks are per driver, not per device); `when` says which path.
 * Returns the number of reports.
 */
export async function kapi_unbind_check(dev: Device, driver: string, last: boolean, when: 'unbind' | 'failed probe' = 'unbind'): Promise<number> {
  const debug = kapi_debug_enabled(dev.env);
  let n = 0;
  const who = `${driver} ${dev.init_name}`;
  const report = (kind: string, msg: string, site: string, level: 3 | 4 = 4): void => {
    n++;
    kapi_report(kind, level, `WARNING: ${who}: ${msg} at ${when}`, { env: dev.env, binding: dev.binding, site, key: msg });
  };

  for (const irq of requested_irqs(dev)) {
    if (debug) report('leak-irq', `IRQ ${irq.irq} (${irq.name}) still requested (request_irq without free_irq)`, irq.site);
    await free_irq(dev, irq.irq).catch(() => undefined);
  }

  const maps = live_dma_mappings(dev);
  const st = dmaState(dev);
  if (debug && (maps.length > 0 || st.coherent.length > 0)) {
    n++;
    kapi_report('leak-dma', 3, `DMA-API: ${dev.init_name}: device driver has pending DMA allocations while released from device `
      + `[count=${maps.length + st.coherent.length}] (${driver}, at ${when})`, { env: dev.env, binding: dev.binding, site: '', key: 'pending' });
    for (const m of maps.slice(0, 16)) {
      report('leak-dma', `DMA mapping [device address=${hex(m.dma)}] [size=${m.size} bytes] [${m.dir}] not unmapped`, m.site, 3);
    }
    for (const c of st.coherent.slice(0, 16)) {
      report('leak-dma', `coherent DMA buffer [device address=${hex(c.dma)}] [size=${c.bytes.length} bytes] not freed (dma_alloc_coherent without dma_free_coherent)`, '', 3);
    }
  }
  st.maps.clear();
  st.coherent.length = 0;
  st.coherentBuffers.clear();

  const left = tracked.get(dev);
  if (left) {
    if (debug) for (const r of left) report('leak-node', `${r.kind} ${r.name} still registered (${r.hint})`, r.site);
    left.clear();
  }

  if (!debug || !last) return n;
  for (const t of pendingTimers(dev.env)) {
    report('leak-timer', `${t.kind} ${t.name} still pending (cancelled now; del_timer_sync/hrtimer_cancel/cancel_delayed_work_sync missing in remove)`, t.site);
  }
  cancelPendingTimers(dev.env);
  for (const w of pendingWork(dev.env)) {
    report('leak-work', `work ${w.name} on workqueue ${w.workqueue} still ${w.state} (cancel_work_sync/flush_work missing in remove)`, '');
  }
  for (const l of held_sleeping_locks(dev.env)) report('leak-lock', `lock ${l.name} still held`, l.site);
  for (const l of held_locks()) {
    if ((l as { env?: unknown }).env === dev.env) report('leak-lock', `spinlock ${l.name} still held`, l.heldSite);
  }
  return n;
}
