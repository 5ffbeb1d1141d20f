/**
 * @module drm/drm_file.h (struct drm_file, struct drm_pending_event, drm_event_reserve_init,
 * drm_send_event) and drm_file.c's read/poll.
 * One open file of a DRM device: its GEM handles, its framebuffers, its client caps, and the
 * queue of events (struct drm_event_vblank records) read() hands out.
 *
 * - Every file may have at most 4096 bytes of events pending or reserved (event_space, as on
 *   Linux): a page flip or vblank event past that is -ENOMEM.
 * - read() returns whole events only, as many as fit; an event larger than what is left of the
 *   buffer stays queued (a buffer too small for the first event reads 0 bytes, as on Linux).
 *   With no event queued it sleeps until one is, or answers -EAGAIN with O_NONBLOCK.
 * - poll() is POLLIN | POLLRDNORM while an event is queued, else 0.
 */
import { type File, O_NONBLOCK, type Loff } from './fs.js';
import { EAGAIN, EFAULT, ENOMEM } from './errno.js';
import { copy_to_user, type UserPtr } from './uaccess.js';
import { init_waitqueue_head, poll_wait, POLLIN, POLLRDNORM, wait_event_interruptible, wake_up_interruptible, type WaitQueueHead } from './wait.js';
import type { DrmGemObject } from './drm-gem.js';
import type { DrmFramebuffer } from './drm-mode.js';

/** Linux's per-file allowance for pending events (drm_file.event_space). */
export const DRM_EVENT_SPACE = 4096;

export class DrmFile {
  /** GEM handles (idr from 1): handle -> object. */
  readonly object_idr = new Map<number, DrmGemObject>();
  /** Framebuffers this file created (ADDFB): removed when it closes. */
  readonly fbs = new Set<DrmFramebuffer>();
  /** Event records ready for read(). */
  readonly event_list: Uint8Array[] = [];
  event_space = DRM_EVENT_SPACE;
  readonly event_wait: WaitQueueHead = init_waitqueue_head();
  universal_planes = false;
  atomic = false;
  aspect_ratio_allowed = false;
  /** Set by release: events for a closed file are dropped. */
  closed = false;
  constructor(readonly filp: File | null) {}
}

/** struct drm_pending_event: space reserved in a file's queue for one event record. */
export class DrmPendingEvent {
  constructor(readonly file: DrmFile | null, readonly event: Uint8Array) {}
}

/** drm_event_reserve_init: reserves room for `p`'s record in the file's event space; 0 or -ENOMEM when full. */
export function drm_event_reserve_init(file: DrmFile, p: DrmPendingEvent): number {
  if (file.event_space < p.event.length) return -ENOMEM;
  file.event_space -= p.event.length;
  return 0;
}

/** drm_event_cancel_free: gives the reserved space back without sending. */
export function drm_event_cancel_free(p: DrmPendingEvent): void {
  if (p.file) p.file.event_space += p.event.length;
}

/** drm_send_event: queues the record for read() and wakes readers and pollers. */
export function drm_send_event(p: DrmPendingEvent): void {
  const f = p.file;
  if (!f || f.closed) return;
  f.event_list.push(p.event);
  wake_up_interruptible(f.event_wait);
}

/**
 * drm_read: whole events, as many as fit in `count`, copied with one copy_to_user (a UserPtr
 * moved with add() would not report what it wrote back to the caller's buffer).
 */
export async function drm_read(file: DrmFile, buf: UserPtr, count: number, _ppos: Loff): Promise<number> {
  while (!file.event_list.length) {
    if (file.closed) return 0;
    if (file.filp && file.filp.f_flags & O_NONBLOCK) return -EAGAIN;
    await wait_event_interruptible(file.event_wait, () => file.event_list.length > 0 || file.closed);
  }
  let ret = 0, n = 0;
  for (const e of file.event_list) {
    if (e.length > count - ret) break; // it stays queued (first of the rest)
    ret += e.length;
    n++;
  }
  if (!ret) return 0;
  const out = new Uint8Array(ret);
  let at = 0;
  for (const e of file.event_list.slice(0, n)) { out.set(e, at); at += e.length; }
  if (copy_to_user(buf, out)) return -EFAULT;
  file.event_list.splice(0, n);
  file.event_space += ret;
  return ret;
}

/** drm_poll: POLLIN | POLLRDNORM while an event is queued. */
export function drm_poll(file: DrmFile, filp: File): number {
  poll_wait(filp, file.event_wait, null);
  return file.event_list.length ? POLLIN | POLLRDNORM : 0;
}
