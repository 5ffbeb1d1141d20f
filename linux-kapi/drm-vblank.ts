/**
 * @module drm/drm_vblank.h (drm_vblank.c)
 * Vblank counting, waits and events for the CRTCs of a device: drm_vblank_init,
 * drm_crtc_vblank_get/put (the interrupt is on while anyone needs it), drm_crtc_vblank_on/off,
 * drm_crtc_handle_vblank (from the driver's interrupt handler), drm_crtc_send_vblank_event, and
 * DRM_IOCTL_WAIT_VBLANK (relative or absolute sequence, NEXTONMISS, EVENT, the CRTC in the
 * high-crtc bits or SECONDARY).
 *
 * - With a hardware frame counter (crtc funcs get_vblank_counter, e.g. the display's
 *   FRAME_COUNT) the count is resynchronised from it whenever the interrupt is turned on and at
 *   each vblank, so it stays exact while the interrupt is off; without one it counts interrupts.
 * - Timestamps are CLOCK_MONOTONIC (the kapi clock) at the handled vblank: DRM_CAP_TIMESTAMP_MONOTONIC.
 * - WAIT_VBLANK: on a CRTC that is off (before the first mode set, or disabled) -EINVAL, as
 *   drm_vblank_get makes it; a blocking wait gives up after 3 s with -EBUSY (Linux's timeout);
 *   _DRM_VBLANK_SIGNAL or unknown type bits -EINVAL; a device without vblank support -EOPNOTSUPP.
 *
 * Differs from Linux: the interrupt is turned off as soon as the last reference is dropped
 * (Linux waits drm_vblank_offdelay, 5 s) since the hardware counter keeps the count exact; there
 * are no high-precision scanout-position timestamps (the time the handler ran is used).
 */
import { EBUSY, EINVAL, EOPNOTSUPP } from './errno.js';
import { ktime_get } from './time.js';
import { init_waitqueue_head, wait_event_interruptible_timeout, wake_up, type WaitQueueHead } from './wait.js';
import { DrmPendingEvent, drm_event_reserve_init, drm_send_event, type DrmFile } from './drm-file.js';
import type { DrmDevice } from './drm-device.js';
import type { DrmCrtc } from './drm-mode.js';
import {
  DRM_EVENT_VBLANK, _DRM_VBLANK_EVENT, _DRM_VBLANK_FLAGS_MASK, _DRM_VBLANK_HIGH_CRTC_MASK, _DRM_VBLANK_HIGH_CRTC_SHIFT,
  _DRM_VBLANK_NEXTONMISS, _DRM_VBLANK_RELATIVE, _DRM_VBLANK_SECONDARY, _DRM_VBLANK_SIGNAL, _DRM_VBLANK_TYPES_MASK,
  _DRM_VBLANK_ABSOLUTE, drm_event_vblank, drm_wait_vblank, StructView,
} from './drm-uapi.js';

/** How long a blocking WAIT_VBLANK waits (Linux: 3 s, then -EBUSY). */
const WAIT_VBLANK_TIMEOUT_MS = 3000;

/** A vblank or flip-complete event: its record is completed (sequence, time) when sent. */
export class DrmPendingVblankEvent extends DrmPendingEvent {
  /** For WAIT_VBLANK events: the sequence to send at. */
  sequence = 0;
  constructor(file: DrmFile | null, readonly pipe: number, readonly event_type: number, user_data: bigint, crtc_id: number) {
    const rec = new StructView(drm_event_vblank);
    rec.set('type', event_type).set('length', drm_event_vblank.size).set('user_data', user_data).set('crtc_id', crtc_id);
    super(file, rec.bytes);
  }
}

/** struct drm_vblank_crtc. */
export class DrmVblankCrtc {
  /** The cooked count (u32). */
  count = 0;
  /** Monotonic ns of the last counted vblank. */
  time = 0n;
  refcount = 0;
  /** The interrupt is on. */
  enabled = false;
  /** Off (drm_crtc_vblank_off, or never turned on): drm_vblank_get refuses. */
  inmodeset = true;
  /** Last hardware counter value seen. */
  last = 0;
  readonly queue: WaitQueueHead = init_waitqueue_head();
  /** WAIT_VBLANK events waiting for their sequence. */
  readonly pending: DrmPendingVblankEvent[] = [];
  constructor(readonly pipe: number) {}
}

/** vblank_passed(seq, ref): `seq` is at or past `ref`, u32 wrap-around included. */
export const vblank_passed = (seq: number, ref: number): boolean => ((seq - ref) >>> 0) <= 1 << 23;

/** drm_vblank_init(dev, num_crtcs): 0. */
export function drm_vblank_init(dev: DrmDevice, num_crtcs: number): number {
  dev.vblank = Array.from({ length: num_crtcs }, (_, i) => new DrmVblankCrtc(i));
  return 0;
}

const crtcOf = (dev: DrmDevice, pipe: number): DrmCrtc | undefined => dev.mode_config.crtcs[pipe];

/** drm_update_vblank_count: adds the vblanks since the last look (hardware counter, or 1 per interrupt). */
function drm_update_vblank_count(dev: DrmDevice, pipe: number, in_vblank_irq: boolean): void {
  const v = dev.vblank[pipe]!;
  const crtc = crtcOf(dev, pipe);
  let diff: number;
  if (crtc?.funcs.get_vblank_counter) {
    const cur = crtc.funcs.get_vblank_counter(crtc) >>> 0;
    diff = (cur - v.last) >>> 0;
    v.last = cur;
  } else {
    diff = in_vblank_irq ? 1 : 0;
  }
  if (diff > 0 || v.time === 0n) v.time = ktime_get();
  v.count = (v.count + diff) >>> 0;
}

/** drm_vblank_count: the cooked count of `pipe`. */
export const drm_crtc_vblank_count = (crtc: DrmCrtc): number => crtc.dev.vblank[crtc.index]?.count ?? 0;

/** drm_vblank_get: a reference that keeps the vblank interrupt on; -EINVAL while the CRTC is off. */
export function drm_vblank_get(dev: DrmDevice, pipe: number): number {
  const v = dev.vblank[pipe];
  const crtc = crtcOf(dev, pipe);
  if (!v || !crtc) return -EINVAL;
  if (v.refcount++ === 0) {
    if (v.inmodeset) { v.refcount--; return -EINVAL; }
    const r = crtc.funcs.enable_vblank?.(crtc) ?? 0;
    if (r) { v.refcount--; return r; }
    v.enabled = true;
    drm_update_vblank_count(dev, pipe, false);
  } else if (!v.enabled) {
    v.refcount--;
    return -EINVAL;
  }
  return 0;
}

/** drm_vblank_put: the last reference turns the interrupt off. */
export function drm_vblank_put(dev: DrmDevice, pipe: number): void {
  const v = dev.vblank[pipe];
  const crtc = crtcOf(dev, pipe);
  if (!v || !crtc || v.refcount === 0) return;
  if (--v.refcount === 0 && v.enabled) {
    drm_update_vblank_count(dev, pipe, false);
    crtc.funcs.disable_vblank?.(crtc);
    v.enabled = false;
  }
}

export const drm_crtc_vblank_get = (crtc: DrmCrtc): number => drm_vblank_get(crtc.dev, crtc.index);
export const drm_crtc_vblank_put = (crtc: DrmCrtc): void => drm_vblank_put(crtc.dev, crtc.index);

/** Fills the record's sequence and time and queues it. */
function send_vblank_event(e: DrmPendingVblankEvent, seq: number, time: bigint): void {
  const rec = new StructView(drm_event_vblank, e.event);
  const us = time / 1000n;
  rec.set('sequence', seq).set('tv_sec', Number(us / 1_000_000n)).set('tv_usec', Number(us % 1_000_000n));
  drm_send_event(e); // a flip without DRM_MODE_PAGE_FLIP_EVENT has no file: only its completion counts
}

/** drm_crtc_send_vblank_event: sends `e` with the current count and vblank time. */
export function drm_crtc_send_vblank_event(crtc: DrmCrtc, e: DrmPendingVblankEvent): void {
  const v = crtc.dev.vblank[crtc.index];
  let seq = 0, time = ktime_get();
  if (v) {
    if (v.enabled) drm_update_vblank_count(crtc.dev, crtc.index, false);
    seq = v.count;
    if (v.enabled || v.time) time = v.time;
  }
  send_vblank_event(e, seq, time);
  if (crtc.flip_pending === e) {
    crtc.flip_pending = null;
    wake_up(crtc.dev.flip_wq);
  }
}

/** drm_handle_vblank: counts the vblank, wakes waiters, sends the WAIT_VBLANK events now due. */
export function drm_crtc_handle_vblank(crtc: DrmCrtc): boolean {
  const dev = crtc.dev;
  const v = dev.vblank[crtc.index];
  if (!v || !v.enabled) return false;
  drm_update_vblank_count(dev, crtc.index, true);
  for (const e of [...v.pending]) {
    if (!vblank_passed(v.count, e.sequence)) continue;
    v.pending.splice(v.pending.indexOf(e), 1);
    send_vblank_event(e, v.count, v.time);
    drm_vblank_put(dev, crtc.index);
  }
  wake_up(v.queue);
  return true;
}

/** drm_crtc_vblank_on: the CRTC is on; references may turn the interrupt on again. */
export function drm_crtc_vblank_on(crtc: DrmCrtc): void {
  const v = crtc.dev.vblank[crtc.index];
  if (!v) return;
  v.inmodeset = false;
  if (v.refcount > 0 && !v.enabled && !(crtc.funcs.enable_vblank?.(crtc) ?? 0)) {
    v.enabled = true;
    drm_update_vblank_count(crtc.dev, crtc.index, false);
  }
}

/** drm_crtc_vblank_off: the interrupt goes off; waiting events are sent with the current count. */
export function drm_crtc_vblank_off(crtc: DrmCrtc): void {
  const dev = crtc.dev;
  const v = dev.vblank[crtc.index];
  if (!v) return;
  if (v.enabled) {
    drm_update_vblank_count(dev, crtc.index, false);
    crtc.funcs.disable_vblank?.(crtc);
    v.enabled = false;
  }
  v.inmodeset = true;
  for (const e of v.pending.splice(0)) {
    send_vblank_event(e, v.count, v.time);
    v.refcount = Math.max(0, v.refcount - 1);
  }
  wake_up(v.queue);
}

/** drm_vblank_cleanup for a closing file: its WAIT_VBLANK events are dropped with their references. */
export function drm_vblank_release_file(dev: DrmDevice, file: DrmFile): void {
  for (const v of dev.vblank) {
    for (const e of [...v.pending]) {
      if (e.file !== file) continue;
      v.pending.splice(v.pending.indexOf(e), 1);
      drm_vblank_put(dev, v.pipe);
    }
  }
}

/** DRM_IOCTL_WAIT_VBLANK (drm_wait_vblank_ioctl). */
export async function drm_wait_vblank_ioctl(dev: DrmDevice, data: Uint8Array, file: DrmFile): Promise<number> {
  const w = new StructView(drm_wait_vblank, data);
  if (!dev.vblank.length) return -EOPNOTSUPP;
  let type = w.u32('type');
  if (type & _DRM_VBLANK_SIGNAL) return -EINVAL;
  if (type & ~(_DRM_VBLANK_TYPES_MASK | _DRM_VBLANK_FLAGS_MASK | _DRM_VBLANK_HIGH_CRTC_MASK)) return -EINVAL;
  const flags = type & _DRM_VBLANK_FLAGS_MASK;
  const high = (type & _DRM_VBLANK_HIGH_CRTC_MASK) >>> _DRM_VBLANK_HIGH_CRTC_SHIFT;
  const pipe = high ? high : flags & _DRM_VBLANK_SECONDARY ? 1 : 0;
  if (pipe >= dev.vblank.length) return -EINVAL;
  const v = dev.vblank[pipe]!;
  const reply = (): void => {
    const us = v.time / 1000n;
    w.set('sequence', v.count).set('tval_sec', us / 1_000_000n).set('tval_usec', us % 1_000_000n);
  };
  // A query (relative 0, no event): the count and time now, interrupt on or not.
  if (!(flags & _DRM_VBLANK_EVENT) && (type & _DRM_VBLANK_TYPES_MASK) === _DRM_VBLANK_RELATIVE && w.u32('sequence') === 0) {
    const crtc = crtcOf(dev, pipe);
    if (crtc?.funcs.get_vblank_counter) drm_update_vblank_count(dev, pipe, false);
    reply();
    return 0;
  }
  let ret = drm_vblank_get(dev, pipe);
  if (ret) return ret;
  const seq = v.count;
  let req = w.u32('sequence');
  switch (type & _DRM_VBLANK_TYPES_MASK) {
    case _DRM_VBLANK_RELATIVE:
      req = (seq + req) >>> 0;
      type &= ~_DRM_VBLANK_RELATIVE;
      w.set('type', type).set('sequence', req);
      break;
    case _DRM_VBLANK_ABSOLUTE:
      break;
    default:
      drm_vblank_put(dev, pipe);
      return -EINVAL;
  }
  if (flags & _DRM_VBLANK_NEXTONMISS && vblank_passed(seq, req)) {
    req = (seq + 1) >>> 0;
    w.set('sequence', req);
  }
  if (flags & _DRM_VBLANK_EVENT) {
    const e = new DrmPendingVblankEvent(file, pipe, DRM_EVENT_VBLANK, w.u64('signal'), crtcOf(dev, pipe)!.id);
    const r = drm_event_reserve_init(file, e);
    if (r) { drm_vblank_put(dev, pipe); return r; }
    e.sequence = req;
    w.set('sequence', req);
    if (vblank_passed(seq, req)) {
      send_vblank_event(e, seq, v.time);
      drm_vblank_put(dev, pipe);
    } else {
      v.pending.push(e); // keeps its reference until sent
    }
    return 0;
  }
  if (req !== seq) {
    const left = await wait_event_interruptible_timeout(v.queue, () => vblank_passed(v.count, req) || !v.enabled, WAIT_VBLANK_TIMEOUT_MS);
    if (!left) ret = -EBUSY;
  }
  reply();
  drm_vblank_put(dev, pipe);
  return ret;
}
