/**
 * @module drm/drm_mode_config.h, drm_crtc.h, drm_plane.h, drm_encoder.h, drm_connector.h,
 * drm_framebuffer.h, drm_modes.h (the objects and the query ioctls)
 * KMS objects (CRTC, primary plane, encoder, connector, framebuffer) with ids from one idr per
 * device, display modes, and the ioctls that read them or create framebuffers:
 * GETRESOURCES, GETCONNECTOR, GETENCODER, GETCRTC, ADDFB, ADDFB2, RMFB.
 *
 * Unknown object ids (or ids of another type) are -ENOENT, as drm_mode_object_find makes them.
 * Framebuffers belong to the file that added them: RMFB from another file is -ENOENT, and they
 * go when that file closes; removing one the CRTC scans out turns the CRTC off first
 * (drm_framebuffer_remove).
 *
 * Pointer fields (the id arrays of GETRESOURCES, a connector's modes and encoders, SETCRTC's
 * connectors) cannot point into another buffer: an ioctl here carries exactly one user buffer.
 * So a pointer field holds an **offset into the ioctl's own buffer**, at or past the end of the
 * struct: the caller passes one buffer with the struct first and room for the arrays after it,
 * and sets e.g. `connector_id_ptr = 64`. A pointer below the struct's size, or an array running
 * past the buffer, is -EFAULT (Linux's answer to a bad user pointer). Counts follow Linux's
 * two-call protocol: call with counts 0 to learn them, then again with room for the arrays.
 * Properties are not modelled: count_props is always 0.
 */
import { mutex_init, type Mutex } from './mutex.js';
import { EFAULT, EINVAL, ENOENT } from './errno.js';
import { copy_from_user, copy_to_user, type UserPtr } from './uaccess.js';
import type { DrmDevice } from './drm-device.js';
import type { DrmFile } from './drm-file.js';
import { drm_gem_object_get, drm_gem_object_lookup, drm_gem_object_put, type DrmGemObject } from './drm-gem.js';
import type { DrmPendingVblankEvent } from './drm-vblank.js';
import {
  DRM_MODE_CONNECTED, DRM_MODE_FB_MODIFIERS, DRM_MODE_FLAG_NHSYNC, DRM_MODE_FLAG_NVSYNC,
  DRM_MODE_FLAG_PHSYNC, DRM_MODE_FLAG_PVSYNC, DRM_MODE_OBJECT_CONNECTOR, DRM_MODE_OBJECT_CRTC, DRM_MODE_OBJECT_ENCODER,
  DRM_MODE_OBJECT_FB, DRM_MODE_OBJECT_PLANE, DRM_MODE_SUBPIXEL_UNKNOWN, DRM_MODE_TYPE_DRIVER, DRM_MODE_TYPE_PREFERRED,
  drm_format_cpp, drm_mode_card_res, drm_mode_crtc, drm_mode_fb_cmd, drm_mode_fb_cmd2, drm_mode_get_connector,
  drm_mode_get_encoder, drm_mode_legacy_fb_format, drm_mode_modeinfo, drm_modeinfo_to_bytes, drm_mode_rmfb_arg,
  DRM_MODE_CRTC_MODE_OFFSET, StructView, type DrmModeModeinfo,
} from './drm-uapi.js';
import { FB_SYNC_HOR_HIGH_ACT, FB_SYNC_VERT_HIGH_ACT } from './fb-uapi.js';
import type { FbVideomode } from './fb-modedb.js';

export type DrmDisplayMode = DrmModeModeinfo;

/** What every KMS object has: its id and type (struct drm_mode_object). */
export interface DrmModeObject { id: number; readonly type: number }

export class DrmFramebuffer implements DrmModeObject {
  id = 0;
  readonly type = DRM_MODE_OBJECT_FB;
  constructor(readonly dev: DrmDevice, readonly file: DrmFile | null, readonly width: number, readonly height: number,
    readonly format: number, readonly pitches: number[], readonly offsets: number[], readonly obj: DrmGemObject[],
    readonly modifier = 0n) {}
  /** Bytes per pixel of plane 0. */
  get cpp(): number { return drm_format_cpp(this.format); }
}

export class DrmPlaneState {
  fb: DrmFramebuffer | null = null;
  crtc: DrmCrtc | null = null;
  /** The fb's pixel shown at the CRTC's top left (Linux: 16.16 fixed point src_x/src_y). */
  src_x = 0;
  src_y = 0;
}

export class DrmPlane implements DrmModeObject {
  id = 0;
  readonly type = DRM_MODE_OBJECT_PLANE;
  state = new DrmPlaneState();
  constructor(readonly dev: DrmDevice, readonly format_types: readonly number[]) {}
}

export class DrmCrtcState {
  enable = false;
  active = false;
  mode: DrmDisplayMode | null = null;
  /** The event to send when the commit is on screen (the driver takes it in its update/enable). */
  event: DrmPendingVblankEvent | null = null;
}

/** The vblank hooks of struct drm_crtc_funcs (simple-kms fills them from the pipe's funcs). */
export interface DrmCrtcFuncs {
  enable_vblank?(crtc: DrmCrtc): number;
  disable_vblank?(crtc: DrmCrtc): void;
  /** The hardware frame counter (u32), when the display has one. */
  get_vblank_counter?(crtc: DrmCrtc): number;
}

export class DrmCrtc implements DrmModeObject {
  id = 0;
  funcs: DrmCrtcFuncs = {};
  readonly type = DRM_MODE_OBJECT_CRTC;
  state = new DrmCrtcState();
  gamma_size = 0;
  /** A page flip is committed and its completion not sent yet. */
  flip_pending: DrmPendingVblankEvent | null = null;
  constructor(readonly dev: DrmDevice, readonly index: number, readonly primary: DrmPlane) {}
}

export class DrmEncoder implements DrmModeObject {
  id = 0;
  readonly type = DRM_MODE_OBJECT_ENCODER;
  crtc: DrmCrtc | null = null;
  possible_clones = 0;
  constructor(readonly dev: DrmDevice, readonly encoder_type: number, public possible_crtcs: number) {}
}

export interface DrmConnectorHelperFuncs {
  /** Adds the connector's modes (drm_mode_probed_add); returns how many. */
  get_modes(connector: DrmConnector): number;
}

export class DrmConnector implements DrmModeObject {
  id = 0;
  readonly type = DRM_MODE_OBJECT_CONNECTOR;
  status = DRM_MODE_CONNECTED;
  /** The probed modes (drm_mode_probed_add), then the validated, sorted list. */
  probed_modes: DrmDisplayMode[] = [];
  modes: DrmDisplayMode[] = [];
  encoder: DrmEncoder | null = null;
  readonly possible_encoders: DrmEncoder[] = [];
  display_info = { width_mm: 0, height_mm: 0, subpixel_order: DRM_MODE_SUBPIXEL_UNKNOWN };
  helper_private: DrmConnectorHelperFuncs | null = null;
  /** Set by the owner of the pipe: filters probed modes (mode_valid). */
  mode_valid: ((mode: DrmDisplayMode) => number) | null = null;
  constructor(readonly dev: DrmDevice, readonly connector_type: number, readonly connector_type_id: number) {}
}

/** struct drm_mode_config: limits, the object idr and lists, the modeset lock. */
export class DrmModeConfig {
  min_width = 0;
  max_width = 0;
  min_height = 0;
  max_height = 0;
  preferred_depth = 0;
  prefer_shadow = 0;
  readonly objects = new Map<number, DrmModeObject>();
  readonly crtcs: DrmCrtc[] = [];
  readonly planes: DrmPlane[] = [];
  readonly encoders: DrmEncoder[] = [];
  readonly connectors: DrmConnector[] = [];
  readonly fbs = new Set<DrmFramebuffer>();
  readonly mutex: Mutex = mutex_init('drm_mode_config');
  /** Turns off the CRTCs scanning out `fb` (installed by drm_simple_display_pipe_init). */
  disable_fb_users: ((fb: DrmFramebuffer) => Promise<void>) | null = null;
}

/** drm_mode_object_add: the lowest free id (from 1). */
export function drm_mode_object_add(dev: DrmDevice, obj: DrmModeObject): void {
  let id = 1;
  while (dev.mode_config.objects.has(id)) id++;
  obj.id = id;
  dev.mode_config.objects.set(id, obj);
}

/** drm_mode_object_find: the object `id` if it has `type`, else null (the ioctls answer -ENOENT). */
export function drm_mode_object_find<T extends DrmModeObject>(dev: DrmDevice, id: number, type: number): T | null {
  const o = dev.mode_config.objects.get(id);
  return o && o.type === type ? (o as T) : null;
}

export const drm_crtc_find = (dev: DrmDevice, id: number): DrmCrtc | null => drm_mode_object_find<DrmCrtc>(dev, id, DRM_MODE_OBJECT_CRTC);
export const drm_connector_lookup = (dev: DrmDevice, id: number): DrmConnector | null => drm_mode_object_find<DrmConnector>(dev, id, DRM_MODE_OBJECT_CONNECTOR);
export const drm_encoder_find = (dev: DrmDevice, id: number): DrmEncoder | null => drm_mode_object_find<DrmEncoder>(dev, id, DRM_MODE_OBJECT_ENCODER);
export const drm_framebuffer_lookup = (dev: DrmDevice, id: number): DrmFramebuffer | null => drm_mode_object_find<DrmFramebuffer>(dev, id, DRM_MODE_OBJECT_FB);

// ---- display modes -----------------------------------------------------------------------------

/** drm_mode_vrefresh: Hz, rounded as Linux does. */
export function drm_mode_vrefresh(m: DrmDisplayMode): number {
  if (!m.htotal || !m.vtotal) return 0;
  return Math.round((m.clock * 1000) / (m.htotal * m.vtotal));
}

/** A DRM mode from an fb modedb entry (fb_videomode: margins and sync lengths, pixclock in ps). */
export function drm_mode_from_fb_videomode(v: FbVideomode): DrmDisplayMode {
  const clock = v.pixclock ? Math.trunc(1e9 / v.pixclock) : Math.round((v.refresh || 60) * v.xres * v.yres / 1000);
  const hsync_start = v.xres + v.right_margin, hsync_end = hsync_start + v.hsync_len;
  const vsync_start = v.yres + v.lower_margin, vsync_end = vsync_start + v.vsync_len;
  const m: DrmDisplayMode = {
    clock, hdisplay: v.xres, hsync_start, hsync_end, htotal: hsync_end + v.left_margin, hskew: 0,
    vdisplay: v.yres, vsync_start, vsync_end, vtotal: vsync_end + v.upper_margin, vscan: 0, vrefresh: 0,
    flags: (v.sync & FB_SYNC_HOR_HIGH_ACT ? DRM_MODE_FLAG_PHSYNC : DRM_MODE_FLAG_NHSYNC) |
      (v.sync & FB_SYNC_VERT_HIGH_ACT ? DRM_MODE_FLAG_PVSYNC : DRM_MODE_FLAG_NVSYNC),
    type: DRM_MODE_TYPE_DRIVER, name: `${v.xres}x${v.yres}`,
  };
  m.vrefresh = v.refresh || drm_mode_vrefresh(m);
  return m;
}

export const drm_mode_probed_add = (c: DrmConnector, m: DrmDisplayMode): void => { c.probed_modes.push({ ...m }); };

/** drm_set_preferred_mode: marks the w×h mode preferred. */
export function drm_set_preferred_mode(c: DrmConnector, w: number, h: number): void {
  for (const m of c.probed_modes) if (m.hdisplay === w && m.vdisplay === h) m.type |= DRM_MODE_TYPE_PREFERRED;
}

/** drm_mode_equal_no_clocks-style comparison used to match a requested mode. */
export const drm_mode_equal = (a: DrmDisplayMode, b: DrmDisplayMode): boolean =>
  a.clock === b.clock && a.hdisplay === b.hdisplay && a.hsync_start === b.hsync_start && a.hsync_end === b.hsync_end &&
  a.htotal === b.htotal && a.vdisplay === b.vdisplay && a.vsync_start === b.vsync_start && a.vsync_end === b.vsync_end &&
  a.vtotal === b.vtotal && a.flags === b.flags;

/**
 * drm_helper_probe_single_connector_modes: get_modes, mode_valid, then drm_mode_sort's order
 * (preferred first, then larger first).
 */
export function drm_helper_probe_single_connector_modes(c: DrmConnector): number {
  c.probed_modes = [];
  c.helper_private?.get_modes(c);
  const ok = c.probed_modes.filter((m) => (c.mode_valid ? c.mode_valid(m) === 0 : true));
  ok.sort((a, b) => (b.type & DRM_MODE_TYPE_PREFERRED) - (a.type & DRM_MODE_TYPE_PREFERRED) ||
    b.hdisplay * b.vdisplay - a.hdisplay * a.vdisplay || b.vrefresh - a.vrefresh || b.clock - a.clock);
  c.modes = ok;
  return ok.length;
}

// ---- user arrays ---------------------------------------------------------------------------------

/** Where a handler writes arrays: the caller's whole buffer and the struct's size. */
export interface DrmUser { readonly user: UserPtr | null; readonly ksize: number }

/**
 * Writes `bytes` at the offset a pointer field holds (see the module header). 0 or -EFAULT.
 * The root UserPtr's `written` is extended so the bytes go back to the caller.
 */
export function drm_copy_array_to_user(u: DrmUser, ptr: number, bytes: Uint8Array): number {
  if (!bytes.length) return 0;
  if (!u.user || ptr < u.ksize || ptr + bytes.length > u.user.length) return -EFAULT;
  if (copy_to_user(u.user.add(ptr), bytes)) return -EFAULT;
  u.user.written = Math.max(u.user.written, u.user.offset + ptr + bytes.length);
  return 0;
}

/** Reads `n` bytes at the offset a pointer field holds. The bytes or -EFAULT. */
export function drm_copy_array_from_user(u: DrmUser, ptr: number, n: number): Uint8Array | number {
  const b = new Uint8Array(n);
  if (!n) return b;
  if (!u.user || ptr < u.ksize || ptr + n > u.user.length) return -EFAULT;
  return copy_from_user(b, u.user.add(ptr)) ? -EFAULT : b;
}

const u32s = (ids: readonly number[]): Uint8Array => {
  const b = new Uint8Array(ids.length * 4);
  const d = new DataView(b.buffer);
  ids.forEach((id, i) => d.setUint32(i * 4, id >>> 0, true));
  return b;
};

// ---- query ioctls ---------------------------------------------------------------------------------

/** DRM_IOCTL_MODE_GETRESOURCES: copies up to the caller's counts, always reports the real ones. */
export function drm_mode_getresources(dev: DrmDevice, data: Uint8Array, file: DrmFile, u: DrmUser): number {
  const r = new StructView(drm_mode_card_res, data);
  const mc = dev.mode_config;
  const lists = [
    ['fb_id_ptr', 'count_fbs', [...file.fbs].map((f) => f.id)],
    ['crtc_id_ptr', 'count_crtcs', mc.crtcs.map((c) => c.id)],
    ['encoder_id_ptr', 'count_encoders', mc.encoders.map((e) => e.id)],
    ['connector_id_ptr', 'count_connectors', mc.connectors.map((c) => c.id)],
  ] as const;
  for (const [ptr, count, ids] of lists) {
    const room = Math.min(r.u32(count), ids.length);
    if (drm_copy_array_to_user(u, r.u32(ptr), u32s(ids.slice(0, room)))) return -EFAULT;
    r.set(count, ids.length);
  }
  r.set('min_width', mc.min_width).set('max_width', mc.max_width).set('min_height', mc.min_height).set('max_height', mc.max_height);
  return 0;
}

/** DRM_IOCTL_MODE_GETCONNECTOR: probes the modes when count_modes is 0; arrays only when they all fit. */
export function drm_mode_getconnector(dev: DrmDevice, data: Uint8Array, _file: DrmFile, u: DrmUser): number {
  const r = new StructView(drm_mode_get_connector, data);
  const c = drm_connector_lookup(dev, r.u32('connector_id'));
  if (!c) return -ENOENT;
  const encs = c.possible_encoders.map((e) => e.id);
  if (r.u32('count_encoders') >= encs.length && drm_copy_array_to_user(u, r.u32('encoders_ptr'), u32s(encs))) return -EFAULT;
  r.set('count_encoders', encs.length);
  if (r.u32('count_modes') === 0) drm_helper_probe_single_connector_modes(c);
  const modes = c.status === DRM_MODE_CONNECTED ? c.modes : [];
  if (r.u32('count_modes') >= modes.length && modes.length) {
    const b = new Uint8Array(modes.length * drm_mode_modeinfo.size);
    modes.forEach((m, i) => b.set(drm_modeinfo_to_bytes(m), i * drm_mode_modeinfo.size));
    if (drm_copy_array_to_user(u, r.u32('modes_ptr'), b)) return -EFAULT;
  }
  r.set('count_modes', modes.length).set('count_props', 0).set('encoder_id', c.encoder?.id ?? 0)
    .set('connector_type', c.connector_type).set('connector_type_id', c.connector_type_id).set('connection', c.status)
    .set('mm_width', c.display_info.width_mm).set('mm_height', c.display_info.height_mm)
    .set('subpixel', c.display_info.subpixel_order).set('pad', 0);
  return 0;
}

/** DRM_IOCTL_MODE_GETENCODER. */
export function drm_mode_getencoder(dev: DrmDevice, data: Uint8Array): number {
  const r = new StructView(drm_mode_get_encoder, data);
  const e = drm_encoder_find(dev, r.u32('encoder_id'));
  if (!e) return -ENOENT;
  r.set('encoder_type', e.encoder_type).set('crtc_id', e.crtc?.id ?? 0).set('possible_crtcs', e.possible_crtcs)
    .set('possible_clones', e.possible_clones);
  return 0;
}

/** DRM_IOCTL_MODE_GETCRTC: the fb, the pan position and the mode (mode_valid 0 while off). */
export function drm_mode_getcrtc(dev: DrmDevice, data: Uint8Array): number {
  const r = new StructView(drm_mode_crtc, data);
  const crtc = drm_crtc_find(dev, r.u32('crtc_id'));
  if (!crtc) return -ENOENT;
  const ps = crtc.primary.state;
  r.set('gamma_size', crtc.gamma_size).set('fb_id', ps.crtc === crtc ? ps.fb?.id ?? 0 : 0)
    .set('x', ps.src_x).set('y', ps.src_y);
  const mode = crtc.state.enable ? crtc.state.mode : null;
  data.fill(0, DRM_MODE_CRTC_MODE_OFFSET, DRM_MODE_CRTC_MODE_OFFSET + drm_mode_modeinfo.size);
  if (mode) data.set(drm_modeinfo_to_bytes(mode), DRM_MODE_CRTC_MODE_OFFSET);
  r.set('mode_valid', mode ? 1 : 0);
  return 0;
}

/** drm_internal_framebuffer_create + framebuffer_check + drm_gem_fb_init: a new fb or -errno. */
function framebuffer_create(dev: DrmDevice, file: DrmFile, r: StructView<typeof drm_mode_fb_cmd2.fields>): DrmFramebuffer | number {
  const mc = dev.mode_config;
  const flags = r.u32('flags');
  if (flags & ~DRM_MODE_FB_MODIFIERS) return -EINVAL;
  if (flags & DRM_MODE_FB_MODIFIERS) return -EINVAL; // no DRM_CAP_ADDFB2_MODIFIERS
  const width = r.u32('width'), height = r.u32('height'), format = r.u32('pixel_format');
  if (width < mc.min_width || width > mc.max_width || height < mc.min_height || height > mc.max_height || !width || !height) return -EINVAL;
  const cpp = drm_format_cpp(format);
  if (!cpp) return -EINVAL; // single-plane RGB formats only
  const handle = r.u32('handles0'), pitch = r.u32('pitches0'), offset = r.u32('offsets0');
  if (!handle) return -EINVAL;
  if (pitch < width * cpp) return -EINVAL;
  for (const k of ['handles1', 'handles2', 'handles3', 'pitches1', 'pitches2', 'pitches3', 'offsets1', 'offsets2', 'offsets3'] as const) {
    if (r.u32(k)) return -EINVAL; // planes a one-plane format does not have
  }
  const obj = drm_gem_object_lookup(file, handle);
  if (!obj) return -ENOENT;
  if (offset + pitch * (height - 1) + width * cpp > obj.size) return -EINVAL;
  drm_gem_object_get(obj);
  const fb = new DrmFramebuffer(dev, file, width, height, format, [pitch, 0, 0, 0], [offset, 0, 0, 0], [obj]);
  drm_mode_object_add(dev, fb);
  mc.fbs.add(fb);
  file.fbs.add(fb);
  return fb;
}

/** DRM_IOCTL_MODE_ADDFB2. */
export function drm_mode_addfb2(dev: DrmDevice, data: Uint8Array, file: DrmFile): number {
  const r = new StructView(drm_mode_fb_cmd2, data);
  const fb = framebuffer_create(dev, file, r);
  if (typeof fb === 'number') return fb;
  r.set('fb_id', fb.id);
  return 0;
}

/** DRM_IOCTL_MODE_ADDFB: bpp/depth become a fourcc (drm_mode_legacy_fb_format), then ADDFB2. */
export function drm_mode_addfb(dev: DrmDevice, data: Uint8Array, file: DrmFile): number {
  const r = new StructView(drm_mode_fb_cmd, data);
  const format = drm_mode_legacy_fb_format(r.u32('bpp'), r.u32('depth'));
  if (!format) return -EINVAL;
  const r2 = new StructView(drm_mode_fb_cmd2);
  r2.set('width', r.u32('width')).set('height', r.u32('height')).set('pixel_format', format)
    .set('handles0', r.u32('handle')).set('pitches0', r.u32('pitch'));
  const fb = framebuffer_create(dev, file, r2);
  if (typeof fb === 'number') return fb;
  r.set('fb_id', fb.id);
  return 0;
}

/** drm_framebuffer_remove: off the screen first, then gone (its buffer reference dropped). */
export async function drm_framebuffer_remove(fb: DrmFramebuffer): Promise<void> {
  const mc = fb.dev.mode_config;
  if (mc.crtcs.some((c) => c.primary.state.fb === fb)) await mc.disable_fb_users?.(fb);
  mc.objects.delete(fb.id);
  mc.fbs.delete(fb);
  fb.file?.fbs.delete(fb);
  for (const o of fb.obj) drm_gem_object_put(o);
}

/** DRM_IOCTL_MODE_RMFB: only the file that added the fb may remove it (-ENOENT otherwise). */
export async function drm_mode_rmfb(dev: DrmDevice, data: Uint8Array, file: DrmFile): Promise<number> {
  const id = new StructView(drm_mode_rmfb_arg, data).u32('fb_id');
  const fb = drm_framebuffer_lookup(dev, id);
  if (!fb || !file.fbs.has(fb)) return -ENOENT;
  await drm_framebuffer_remove(fb);
  return 0;
}

/** drm_fb_release: a closing file's framebuffers. */
export async function drm_fb_release(file: DrmFile): Promise<void> {
  for (const fb of [...file.fbs]) await drm_framebuffer_remove(fb);
}

