/**
 * @module drm/drm_simple_kms_helper.h (+ the legacy SETCRTC and PAGE_FLIP ioctls it serves)
 * One CRTC, its primary plane, an encoder and a connector for a simple display, driven through
 * `drm_simple_display_pipe_funcs`: mode_valid, check, enable, disable, update, enable_vblank,
 * disable_vblank (and get_vblank_counter, see below).
 *
 * ```ts
 * const connector = drm_connector_init(drm, DRM_MODE_CONNECTOR_VIRTUAL);
 * drm_connector_helper_add(connector, { get_modes });
 * const pipe = drm_simple_display_pipe_init(drm, funcs, [DRM_FORMAT_XRGB8888], null, connector);
 * // funcs.update(pipe, old_plane_state): program pipe.plane.state.fb; take pipe.crtc.state.event
 * // and send it with drm_crtc_send_vblank_event once the hardware shows the new buffer.
 * ```
 *
 * - SETCRTC with a mode: the fb (or -1: the current one) must cover the mode at (x, y)
 *   (-ENOSPC), have a format of the plane (-EINVAL), the mode must be sane and pass mode_valid
 *   (-EINVAL); then check, and enable (a new mode) or update (the same mode, a new fb or pan).
 *   Without a mode it turns the pipe off. A pending flip is waited for (1 s, then -EBUSY).
 * - PAGE_FLIP: to an fb of the same format covering the mode; -EBUSY while a flip is pending or
 *   before any fb is shown (Linux: "old_fb == NULL"), -EINVAL for unknown flags, ASYNC and
 *   TARGET flips (not offered: DRM_CAP_ASYNC_PAGE_FLIP is 0), -ENOMEM when the file's event space
 *   is used up. The driver's update takes `crtc.state.event` and sends it when the hardware
 *   latched the flip; an event it leaves there is sent at once (drm_atomic_helper_fake_vblank).
 *
 * Differs from Linux, and why: there are no atomic states to swap, only the current state,
 * changed in place after check succeeds; the core calls drm_crtc_vblank_on/off around enable
 * and disable (Linux leaves that to the driver). `get_vblank_counter` is a pipe hook here (Linux
 * has it on drm_crtc_funcs only) because the pipe's CRTC is the core's.
 */
import { EBUSY, EINVAL, ENOENT, ENOSPC, ERANGE } from './errno.js';
import { wait_event_interruptible_timeout } from './wait.js';
import { drm_event_cancel_free, drm_event_reserve_init, type DrmFile } from './drm-file.js';
import type { DrmDevice } from './drm-device.js';
import {
  DrmConnector, DrmCrtc, DrmEncoder, DrmPlane, DrmPlaneState, DrmCrtcState, drm_connector_lookup, drm_crtc_find,
  drm_framebuffer_lookup, drm_mode_object_add, drm_copy_array_from_user, type DrmConnectorHelperFuncs, type DrmDisplayMode,
  type DrmFramebuffer, type DrmUser,
} from './drm-mode.js';
import { DrmPendingVblankEvent, drm_crtc_send_vblank_event, drm_crtc_vblank_off, drm_crtc_vblank_on } from './drm-vblank.js';
import {
  DRM_EVENT_FLIP_COMPLETE, DRM_MODE_CRTC_MODE_OFFSET, DRM_MODE_ENCODER_NONE, DRM_MODE_PAGE_FLIP_ASYNC, DRM_MODE_PAGE_FLIP_EVENT,
  DRM_MODE_PAGE_FLIP_FLAGS, DRM_MODE_PAGE_FLIP_TARGET_ABSOLUTE, DRM_MODE_PAGE_FLIP_TARGET_RELATIVE, drm_mode_crtc,
  drm_mode_crtc_page_flip, drm_mode_modeinfo, drm_modeinfo_from_bytes, StructView,
} from './drm-uapi.js';

/** enum drm_mode_status (the values used here). */
export const MODE_OK = 0, MODE_H_ILLEGAL = 3, MODE_V_ILLEGAL = 4, MODE_BAD_WIDTH = 5, MODE_MEM = 10, MODE_NOCLOCK = 14,
  MODE_ERROR = -1, MODE_BAD = -3;

/** How long SETCRTC waits for a pending flip before -EBUSY. */
const FLIP_WAIT_MS = 1000;

type M<T> = T | Promise<T>;

export interface DrmSimpleDisplayPipeFuncs {
  /** MODE_OK or why the display cannot show `mode`. Filters the connector's modes too. */
  mode_valid?(pipe: DrmSimpleDisplayPipe, mode: DrmDisplayMode): number;
  /** Turns the display on in crtc_state.mode, showing plane_state.fb. */
  enable?(pipe: DrmSimpleDisplayPipe, crtc_state: DrmCrtcState, plane_state: DrmPlaneState): M<void>;
  disable?(pipe: DrmSimpleDisplayPipe): M<void>;
  /** Checks a new plane/CRTC state before it is committed: 0 or -errno. Must not touch the hardware. */
  check?(pipe: DrmSimpleDisplayPipe, plane_state: DrmPlaneState, crtc_state: DrmCrtcState): number;
  /** Shows pipe.plane.state (a new fb or position); takes pipe.crtc.state.event if it wants to send it later. */
  update?(pipe: DrmSimpleDisplayPipe, old_plane_state: DrmPlaneState): M<void>;
  enable_vblank?(pipe: DrmSimpleDisplayPipe): number;
  disable_vblank?(pipe: DrmSimpleDisplayPipe): void;
  /** The hardware frame counter (u32), if the display has one. */
  get_vblank_counter?(pipe: DrmSimpleDisplayPipe): number;
}

export class DrmSimpleDisplayPipe {
  constructor(readonly crtc: DrmCrtc, readonly plane: DrmPlane, readonly encoder: DrmEncoder,
    readonly connector: DrmConnector | null, readonly funcs: DrmSimpleDisplayPipeFuncs) {}
}

/** drm_connector_init(dev, type): a connector with the next id of its type (connector_type_id from 1). */
export function drm_connector_init(dev: DrmDevice, connector_type: number): DrmConnector {
  const n = dev.mode_config.connectors.filter((c) => c.connector_type === connector_type).length + 1;
  const c = new DrmConnector(dev, connector_type, n);
  drm_mode_object_add(dev, c);
  dev.mode_config.connectors.push(c);
  return c;
}

export function drm_connector_helper_add(c: DrmConnector, funcs: DrmConnectorHelperFuncs): void {
  c.helper_private = funcs;
}

/** drm_simple_display_pipe_init: the plane, CRTC and encoder, joined to `connector`. The pipe or -errno. */
export function drm_simple_display_pipe_init(dev: DrmDevice, funcs: DrmSimpleDisplayPipeFuncs, formats: readonly number[],
  _format_modifiers: readonly bigint[] | null, connector: DrmConnector | null): DrmSimpleDisplayPipe | number {
  if (!formats.length) return -EINVAL;
  const mc = dev.mode_config;
  const plane = new DrmPlane(dev, [...formats]);
  drm_mode_object_add(dev, plane);
  mc.planes.push(plane);
  const crtc = new DrmCrtc(dev, mc.crtcs.length, plane);
  drm_mode_object_add(dev, crtc);
  mc.crtcs.push(crtc);
  const encoder = new DrmEncoder(dev, DRM_MODE_ENCODER_NONE, 1 << crtc.index);
  drm_mode_object_add(dev, encoder);
  mc.encoders.push(encoder);
  const pipe = new DrmSimpleDisplayPipe(crtc, plane, encoder, connector, funcs);
  crtc.funcs = {
    enable_vblank: funcs.enable_vblank ? () => funcs.enable_vblank!(pipe) : undefined,
    disable_vblank: funcs.disable_vblank ? () => funcs.disable_vblank!(pipe) : undefined,
    get_vblank_counter: funcs.get_vblank_counter ? () => funcs.get_vblank_counter!(pipe) : undefined,
  };
  if (connector) {
    connector.possible_encoders.push(encoder);
    connector.mode_valid = (m) => funcs.mode_valid?.(pipe, m) ?? MODE_OK;
  }
  mc.disable_fb_users = async (fb) => { if (plane.state.fb === fb) await simple_pipe_disable(pipe); };
  dev.pipes.push(pipe);
  return pipe;
}

const pipeOf = (crtc: DrmCrtc): DrmSimpleDisplayPipe | undefined => crtc.dev.pipes.find((p) => p.crtc === crtc);

/** Waits for a pending flip to complete: 0 or -EBUSY. */
async function wait_flip(crtc: DrmCrtc): Promise<number> {
  if (!crtc.flip_pending) return 0;
  const left = await wait_event_interruptible_timeout(crtc.dev.flip_wq, () => !crtc.flip_pending, FLIP_WAIT_MS);
  return left ? 0 : -EBUSY;
}

/** Turns the pipe off: disable, vblank off, any flip still pending completed. */
export async function simple_pipe_disable(pipe: DrmSimpleDisplayPipe): Promise<void> {
  const { crtc, plane, encoder, connector } = pipe;
  if (crtc.state.active) {
    await pipe.funcs.disable?.(pipe);
    drm_crtc_vblank_off(crtc);
  }
  if (crtc.flip_pending) drm_crtc_send_vblank_event(crtc, crtc.flip_pending);
  crtc.state = new DrmCrtcState();
  plane.state = new DrmPlaneState();
  encoder.crtc = null;
  if (connector) connector.encoder = null;
}

/** drm_mode_validate_basic: timings in order, a clock. */
function mode_validate_basic(m: DrmDisplayMode): number {
  if (!m.clock) return MODE_NOCLOCK;
  if (!m.hdisplay || m.hsync_start < m.hdisplay || m.hsync_end < m.hsync_start || m.htotal < m.hsync_end) return MODE_H_ILLEGAL;
  if (!m.vdisplay || m.vsync_start < m.vdisplay || m.vsync_end < m.vsync_start || m.vtotal < m.vsync_end) return MODE_V_ILLEGAL;
  return MODE_OK;
}

/** drm_crtc_check_viewport: the fb covers the mode at (x, y), else -ENOSPC. */
function check_viewport(mode: DrmDisplayMode, x: number, y: number, fb: DrmFramebuffer): number {
  return mode.hdisplay > fb.width || mode.vdisplay > fb.height || x > fb.width - mode.hdisplay || y > fb.height - mode.vdisplay
    ? -ENOSPC : 0;
}

/** DRM_IOCTL_MODE_SETCRTC (drm_mode_setcrtc). */
export async function drm_mode_setcrtc(dev: DrmDevice, data: Uint8Array, _file: DrmFile, u: DrmUser): Promise<number> {
  const r = new StructView(drm_mode_crtc, data);
  const x = r.u32('x'), y = r.u32('y');
  if (x & 0xffff0000 || y & 0xffff0000) return -ERANGE;
  const crtc = drm_crtc_find(dev, r.u32('crtc_id'));
  if (!crtc) return -ENOENT;
  const pipe = pipeOf(crtc);
  if (!pipe) return -EINVAL;
  let fb: DrmFramebuffer | null = null;
  let mode: DrmDisplayMode | null = null;
  if (r.u32('mode_valid')) {
    const fbId = r.u32('fb_id');
    if (fbId === 0xffffffff) {
      fb = crtc.primary.state.fb;
      if (!fb) return -EINVAL;
    } else {
      fb = drm_framebuffer_lookup(dev, fbId);
      if (!fb) return -ENOENT;
    }
    mode = drm_modeinfo_from_bytes(data.subarray(DRM_MODE_CRTC_MODE_OFFSET, DRM_MODE_CRTC_MODE_OFFSET + drm_mode_modeinfo.size));
    if (mode.clock > 0x7fffffff || mode.vrefresh > 0x7fffffff) return -ERANGE;
    if (mode_validate_basic(mode) !== MODE_OK) return -EINVAL;
    if (!crtc.primary.format_types.includes(fb.format)) return -EINVAL;
    const vp = check_viewport(mode, x, y, fb);
    if (vp) return vp;
  }
  const count = r.u32('count_connectors');
  if (count === 0 && mode) return -EINVAL;
  if (count > 0 && (!mode || !fb)) return -EINVAL;
  if (count > dev.mode_config.connectors.length) return -EINVAL;
  const ids = drm_copy_array_from_user(u, r.u32('set_connectors_ptr'), count * 4);
  if (typeof ids === 'number') return ids;
  const dv = new DataView(ids.buffer);
  for (let i = 0; i < count; i++) {
    const c = drm_connector_lookup(dev, dv.getUint32(i * 4, true));
    if (!c) return -ENOENT;
    if (!c.possible_encoders.some((e) => e.possible_crtcs & (1 << crtc.index))) return -EINVAL;
  }
  const err = await wait_flip(crtc);
  if (err) return err;
  if (!mode || !fb) {
    await simple_pipe_disable(pipe);
    return 0;
  }
  if ((pipe.funcs.mode_valid?.(pipe, mode) ?? MODE_OK) !== MODE_OK) return -EINVAL;
  const ps = new DrmPlaneState();
  Object.assign(ps, { fb, crtc, src_x: x, src_y: y });
  const cs = new DrmCrtcState();
  Object.assign(cs, { enable: true, active: true, mode });
  const ret = pipe.funcs.check?.(pipe, ps, cs) ?? 0;
  if (ret) return ret;
  const same = crtc.state.active && crtc.state.mode !== null && sameMode(crtc.state.mode, mode);
  if (same) {
    const old = crtc.primary.state;
    crtc.primary.state = ps;
    crtc.state.mode = mode;
    await pipe.funcs.update?.(pipe, old);
  } else {
    if (crtc.state.active) {
      await pipe.funcs.disable?.(pipe);
      drm_crtc_vblank_off(crtc);
    }
    crtc.state = cs;
    crtc.primary.state = ps;
    await pipe.funcs.enable?.(pipe, cs, ps);
    drm_crtc_vblank_on(crtc);
  }
  pipe.encoder.crtc = crtc;
  if (pipe.connector) pipe.connector.encoder = pipe.encoder;
  return 0;
}

const sameMode = (a: DrmDisplayMode, b: DrmDisplayMode): boolean =>
  a.hdisplay === b.hdisplay && a.vdisplay === b.vdisplay && a.clock === b.clock && a.htotal === b.htotal &&
  a.vtotal === b.vtotal && a.flags === b.flags;

/** DRM_IOCTL_MODE_PAGE_FLIP (drm_mode_page_flip_ioctl on the simple pipe). */
export async function drm_mode_page_flip_ioctl(dev: DrmDevice, data: Uint8Array, file: DrmFile): Promise<number> {
  const r = new StructView(drm_mode_crtc_page_flip, data);
  const flags = r.u32('flags');
  if (flags & ~DRM_MODE_PAGE_FLIP_FLAGS || r.u32('reserved')) return -EINVAL;
  if (flags & DRM_MODE_PAGE_FLIP_ASYNC) return -EINVAL;
  if (flags & (DRM_MODE_PAGE_FLIP_TARGET_ABSOLUTE | DRM_MODE_PAGE_FLIP_TARGET_RELATIVE)) return -EINVAL;
  const crtc = drm_crtc_find(dev, r.u32('crtc_id'));
  if (!crtc) return -ENOENT;
  const pipe = pipeOf(crtc);
  if (!pipe) return -EINVAL;
  const old = crtc.primary.state;
  if (!old.fb) return -EBUSY;
  const fb = drm_framebuffer_lookup(dev, r.u32('fb_id'));
  if (!fb) return -ENOENT;
  if (!crtc.state.active || !crtc.state.mode) return -EINVAL;
  const vp = check_viewport(crtc.state.mode, old.src_x, old.src_y, fb);
  if (vp) return vp;
  if (fb.format !== old.fb.format) return -EINVAL;
  if (crtc.flip_pending) return -EBUSY;
  const withEvent = (flags & DRM_MODE_PAGE_FLIP_EVENT) !== 0;
  const e = new DrmPendingVblankEvent(withEvent ? file : null, crtc.index, DRM_EVENT_FLIP_COMPLETE, r.u64('user_data'), crtc.id);
  if (withEvent) {
    const err = drm_event_reserve_init(file, e);
    if (err) return err;
  }
  const ps = new DrmPlaneState();
  Object.assign(ps, { fb, crtc, src_x: old.src_x, src_y: old.src_y });
  const ret = pipe.funcs.check?.(pipe, ps, crtc.state) ?? 0;
  if (ret) {
    if (withEvent) drm_event_cancel_free(e);
    return ret;
  }
  crtc.flip_pending = e;
  crtc.state.event = e;
  crtc.primary.state = ps;
  await pipe.funcs.update?.(pipe, old);
  if (crtc.state.event === e) {
    crtc.state.event = null;
    drm_crtc_send_vblank_event(crtc, e); // the driver did not take it: drm_atomic_helper_fake_vblank
  }
  return 0;
}
