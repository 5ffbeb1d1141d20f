/**
 * @module drm/drm_ioctl.c
 * The DRM ioctl dispatcher and the core's own ioctls (VERSION, GET_CAP, SET_CLIENT_CAP).
 *
 * drm_ioctl works as Linux's does: the handler is chosen by the ioctl number (nr) alone; the
 * struct is copied in for _IOC_SIZE(cmd) bytes when both the caller's cmd and the table's carry
 * IOC_IN, zero-extended to the kernel's size (so an older, shorter struct still works), and
 * copied back for _IOC_SIZE(cmd) bytes when both carry IOC_OUT, whatever the handler returned.
 * A user buffer shorter than _IOC_SIZE(cmd) (or an integer where a struct belongs) is -EFAULT;
 * an nr with no handler is -EINVAL. Mode-setting ioctls run under mode_config.mutex.
 *
 * Differs from Linux: a cmd whose type is not 'd' is -ENOTTY (Linux does not look at the type);
 * there is no DRM master or authentication (every opener may set modes: one client per
 * display here), so SET_MASTER/DROP_MASTER and the AUTH ioctls are not offered (-EINVAL).
 * Pointer fields are offsets into the ioctl's own buffer: see drm-mode.ts.
 */
import { EFAULT, EINVAL, ENODEV, ENOTTY, EOPNOTSUPP } from './errno.js';
import { _IOC_NR, _IOC_READ, _IOC_SIZE, _IOC_TYPE, _IOC_WRITE, _IOC_DIR } from './ioctl.js';
import { mutex_lock, mutex_unlock } from './mutex.js';
import { copy_from_user, copy_to_user, type UserPtr } from './uaccess.js';
import type { DrmDevice } from './drm-device.js';
import type { DrmFile } from './drm-file.js';
import { drm_mode_create_dumb_ioctl, drm_mode_destroy_dumb_ioctl, drm_mode_map_dumb_ioctl } from './drm-gem.js';
import {
  drm_copy_array_to_user, drm_mode_addfb, drm_mode_addfb2, drm_mode_getconnector, drm_mode_getcrtc, drm_mode_getencoder,
  drm_mode_getresources, drm_mode_rmfb, type DrmUser,
} from './drm-mode.js';
import { drm_mode_page_flip_ioctl, drm_mode_setcrtc } from './drm-simple-kms.js';
import { drm_wait_vblank_ioctl } from './drm-vblank.js';
import {
  DRM_CAP_ADDFB2_MODIFIERS, DRM_CAP_ASYNC_PAGE_FLIP, DRM_CAP_ATOMIC_ASYNC_PAGE_FLIP, DRM_CAP_CRTC_IN_VBLANK_EVENT,
  DRM_CAP_CURSOR_HEIGHT, DRM_CAP_CURSOR_WIDTH, DRM_CAP_DUMB_BUFFER, DRM_CAP_DUMB_PREFERRED_DEPTH, DRM_CAP_DUMB_PREFER_SHADOW,
  DRM_CAP_PAGE_FLIP_TARGET, DRM_CAP_PRIME, DRM_CAP_SYNCOBJ, DRM_CAP_SYNCOBJ_TIMELINE, DRM_CAP_TIMESTAMP_MONOTONIC,
  DRM_CAP_VBLANK_HIGH_CRTC, DRM_CLIENT_CAP_ASPECT_RATIO, DRM_CLIENT_CAP_ATOMIC, DRM_CLIENT_CAP_STEREO_3D,
  DRM_CLIENT_CAP_UNIVERSAL_PLANES, DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, DRM_IOCTL_BASE, DRM_IOCTL_GET_CAP,
  DRM_IOCTL_MODE_ADDFB, DRM_IOCTL_MODE_ADDFB2, DRM_IOCTL_MODE_CREATE_DUMB, DRM_IOCTL_MODE_DESTROY_DUMB,
  DRM_IOCTL_MODE_GETCONNECTOR, DRM_IOCTL_MODE_GETCRTC, DRM_IOCTL_MODE_GETENCODER, DRM_IOCTL_MODE_GETRESOURCES,
  DRM_IOCTL_MODE_MAP_DUMB, DRM_IOCTL_MODE_PAGE_FLIP, DRM_IOCTL_MODE_RMFB, DRM_IOCTL_MODE_SETCRTC, DRM_IOCTL_SET_CLIENT_CAP,
  DRM_IOCTL_VERSION, DRM_IOCTL_WAIT_VBLANK, drm_get_cap, drm_set_client_cap, drm_version, StructView,
} from './drm-uapi.js';

type Handler = (dev: DrmDevice, data: Uint8Array, file: DrmFile, u: DrmUser) => number | Promise<number>;
/** DRM_LOCKED-style: run under mode_config.mutex. */
const LOCKED = 1;

interface DrmIoctlDesc { cmd: number; func: Handler; flags: number }

/** drm_copy_field: copies up to *len bytes of `value`, reports its full length. */
function drm_copy_field(v: StructView<typeof drm_version.fields>, u: DrmUser, lenField: 'name_len' | 'date_len' | 'desc_len',
  ptrField: 'name' | 'date' | 'desc', value: string): number {
  const s = new TextEncoder().encode(value);
  const len = Math.min(s.length, v.u32(lenField));
  v.set(lenField, s.length);
  const ptr = v.u32(ptrField);
  if (len && ptr) return drm_copy_array_to_user(u, ptr, s.subarray(0, len));
  return 0;
}

/** DRM_IOCTL_VERSION: the driver's version, and name/date/desc into the caller's buffer. */
function drm_version_ioctl(dev: DrmDevice, data: Uint8Array, _file: DrmFile, u: DrmUser): number {
  const v = new StructView(drm_version, data);
  const d = dev.driver;
  v.set('version_major', d.major).set('version_minor', d.minor).set('version_patchlevel', d.patchlevel ?? 0);
  return drm_copy_field(v, u, 'name_len', 'name', d.name) || drm_copy_field(v, u, 'date_len', 'date', d.date) ||
    drm_copy_field(v, u, 'desc_len', 'desc', d.desc);
}

/** DRM_IOCTL_GET_CAP. */
function drm_getcap(dev: DrmDevice, data: Uint8Array): number {
  const c = new StructView(drm_get_cap, data);
  const mc = dev.mode_config;
  let value: number;
  switch (c.u32('capability')) {
    case DRM_CAP_DUMB_BUFFER: value = dev.vram ? 1 : 0; break;
    case DRM_CAP_VBLANK_HIGH_CRTC: value = 1; break;
    case DRM_CAP_DUMB_PREFERRED_DEPTH: value = mc.preferred_depth; break;
    case DRM_CAP_DUMB_PREFER_SHADOW: value = mc.prefer_shadow; break;
    case DRM_CAP_PRIME: value = 0; break;
    case DRM_CAP_TIMESTAMP_MONOTONIC: value = 1; break;
    case DRM_CAP_ASYNC_PAGE_FLIP: value = 0; break;
    case DRM_CAP_CURSOR_WIDTH: case DRM_CAP_CURSOR_HEIGHT: value = 64; break;
    case DRM_CAP_ADDFB2_MODIFIERS: value = 0; break;
    case DRM_CAP_PAGE_FLIP_TARGET: value = 0; break;
    case DRM_CAP_CRTC_IN_VBLANK_EVENT: value = 1; break;
    case DRM_CAP_SYNCOBJ: case DRM_CAP_SYNCOBJ_TIMELINE: case DRM_CAP_ATOMIC_ASYNC_PAGE_FLIP: value = 0; break;
    default: return -EINVAL;
  }
  c.set('value', value);
  return 0;
}

/** DRM_IOCTL_SET_CLIENT_CAP: universal planes, stereo, aspect ratio; no atomic (-EOPNOTSUPP). */
function drm_setclientcap(_dev: DrmDevice, data: Uint8Array, file: DrmFile): number {
  const c = new StructView(drm_set_client_cap, data);
  const value = c.u64('value');
  switch (c.u32('capability')) {
    case DRM_CLIENT_CAP_STEREO_3D:
      return value > 1n ? -EINVAL : 0;
    case DRM_CLIENT_CAP_UNIVERSAL_PLANES:
      if (value > 1n) return -EINVAL;
      file.universal_planes = value === 1n;
      return 0;
    case DRM_CLIENT_CAP_ATOMIC:
      return -EOPNOTSUPP; // not a DRIVER_ATOMIC device here: no DRM_IOCTL_MODE_ATOMIC
    case DRM_CLIENT_CAP_ASPECT_RATIO:
      if (value > 1n) return -EINVAL;
      file.aspect_ratio_allowed = value === 1n;
      return 0;
    case DRM_CLIENT_CAP_WRITEBACK_CONNECTORS:
      return -EINVAL; // needs the atomic cap
    default:
      return -EINVAL;
  }
}

const DRM_IOCTL_DEF = (cmd: number, func: Handler, flags = 0): [number, DrmIoctlDesc] => [_IOC_NR(cmd), { cmd, func, flags }];

/** drm_ioctls[]: by nr. */
const drm_ioctls = new Map<number, DrmIoctlDesc>([
  DRM_IOCTL_DEF(DRM_IOCTL_VERSION, drm_version_ioctl),
  DRM_IOCTL_DEF(DRM_IOCTL_GET_CAP, drm_getcap),
  DRM_IOCTL_DEF(DRM_IOCTL_SET_CLIENT_CAP, drm_setclientcap),
  DRM_IOCTL_DEF(DRM_IOCTL_WAIT_VBLANK, drm_wait_vblank_ioctl),
  DRM_IOCTL_DEF(DRM_IOCTL_MODE_GETRESOURCES, drm_mode_getresources, LOCKED),
  DRM_IOCTL_DEF(DRM_IOCTL_MODE_GETCRTC, drm_mode_getcrtc, LOCKED),
  DRM_IOCTL_DEF(DRM_IOCTL_MODE_SETCRTC, drm_mode_setcrtc, LOCKED),
  DRM_IOCTL_DEF(DRM_IOCTL_MODE_GETENCODER, drm_mode_getencoder, LOCKED),
  DRM_IOCTL_DEF(DRM_IOCTL_MODE_GETCONNECTOR, drm_mode_getconnector, LOCKED),
  DRM_IOCTL_DEF(DRM_IOCTL_MODE_ADDFB, drm_mode_addfb, LOCKED),
  DRM_IOCTL_DEF(DRM_IOCTL_MODE_ADDFB2, drm_mode_addfb2, LOCKED),
  DRM_IOCTL_DEF(DRM_IOCTL_MODE_RMFB, drm_mode_rmfb, LOCKED),
  DRM_IOCTL_DEF(DRM_IOCTL_MODE_PAGE_FLIP, drm_mode_page_flip_ioctl, LOCKED),
  DRM_IOCTL_DEF(DRM_IOCTL_MODE_CREATE_DUMB, drm_mode_create_dumb_ioctl, LOCKED),
  DRM_IOCTL_DEF(DRM_IOCTL_MODE_MAP_DUMB, drm_mode_map_dumb_ioctl, LOCKED),
  DRM_IOCTL_DEF(DRM_IOCTL_MODE_DESTROY_DUMB, drm_mode_destroy_dumb_ioctl, LOCKED),
]);

/** drm_ioctl: see the module header. */
export async function drm_ioctl(dev: DrmDevice, file: DrmFile, cmd: number, arg: UserPtr | number): Promise<number> {
  if (dev.unplugged) return -ENODEV;
  if (_IOC_TYPE(cmd) !== DRM_IOCTL_BASE.charCodeAt(0)) return -ENOTTY;
  const desc = drm_ioctls.get(_IOC_NR(cmd));
  if (!desc) return -EINVAL;
  const dir = _IOC_DIR(cmd) & _IOC_DIR(desc.cmd);
  const usize = _IOC_SIZE(cmd);
  const in_size = dir & _IOC_WRITE ? usize : 0;
  const out_size = dir & _IOC_READ ? usize : 0;
  const ksize = Math.max(in_size, out_size, _IOC_SIZE(desc.cmd));
  const user = typeof arg === 'number' ? null : arg;
  if ((in_size || out_size) && (!user || user.length < usize)) return -EFAULT;
  const kdata = new Uint8Array(ksize);
  if (in_size && copy_from_user(kdata, user!, in_size)) return -EFAULT;
  const u: DrmUser = { user, ksize: usize };
  let ret: number;
  if (desc.flags & LOCKED) {
    await mutex_lock(dev.mode_config.mutex);
    try { ret = await desc.func(dev, kdata, file, u); } finally { mutex_unlock(dev.mode_config.mutex); }
  } else {
    ret = await desc.func(dev, kdata, file, u);
  }
  if (out_size && copy_to_user(user!, kdata.subarray(0, out_size))) ret = -EFAULT;
  return ret;
}
