/**
 * @module uapi/drm/drm.h + uapi/drm/drm_mode.h + uapi/drm/drm_fourcc.h (the parts used here)
 * The DRM ABI user space sees: ioctl numbers, capability and flag values, and the structs of
 * the ioctls this kapi serves, with Linux's exact layouts on a 64-bit (LP64, little-endian)
 * machine: drm_version 64 bytes (size_t and pointers 8), drm_get_cap 16, drm_mode_card_res 64,
 * drm_mode_modeinfo 68, drm_mode_crtc 104, drm_mode_get_encoder 20, drm_mode_get_connector 80,
 * drm_mode_fb_cmd 28, drm_mode_fb_cmd2 104 (modifier[] 8-aligned at 72), drm_mode_crtc_page_flip
 * 24, drm_mode_create_dumb 32, drm_mode_map_dumb 16, drm_wait_vblank 24, drm_event_vblank 32.
 *
 * Structs are read and written with `StructView` over the caller's bytes (named fields at
 * Linux's offsets), so the ioctl code reads like the C it mirrors: `r.u32('crtc_id')`.
 */
import { _IOW, _IOWR } from './ioctl.js';

export const DRM_IOCTL_BASE = 'd';
export const DRM_MAJOR = 226;
/** Primary nodes are card0..card63 (Linux's minor range for DRM_MINOR_PRIMARY). */
export const DRM_MAX_MINOR = 64;
export const DRM_COMMAND_BASE = 0x40, DRM_COMMAND_END = 0xa0;

// ---- struct layouts: field -> [offset, size in bytes] ----------------------------------------------

type Layout = Record<string, readonly [number, 1 | 2 | 4 | 8]>;
const L = <T extends Layout>(size: number, fields: T): { size: number; fields: T } => ({ size, fields });

export const drm_version = L(64, {
  version_major: [0, 4], version_minor: [4, 4], version_patchlevel: [8, 4],
  name_len: [16, 8], name: [24, 8], date_len: [32, 8], date: [40, 8], desc_len: [48, 8], desc: [56, 8],
});
export const drm_get_cap = L(16, { capability: [0, 8], value: [8, 8] });
export const drm_set_client_cap = L(16, { capability: [0, 8], value: [8, 8] });
export const drm_mode_card_res = L(64, {
  fb_id_ptr: [0, 8], crtc_id_ptr: [8, 8], connector_id_ptr: [16, 8], encoder_id_ptr: [24, 8],
  count_fbs: [32, 4], count_crtcs: [36, 4], count_connectors: [40, 4], count_encoders: [44, 4],
  min_width: [48, 4], max_width: [52, 4], min_height: [56, 4], max_height: [60, 4],
});
export const drm_mode_modeinfo = L(68, {
  clock: [0, 4], hdisplay: [4, 2], hsync_start: [6, 2], hsync_end: [8, 2], htotal: [10, 2], hskew: [12, 2],
  vdisplay: [14, 2], vsync_start: [16, 2], vsync_end: [18, 2], vtotal: [20, 2], vscan: [22, 2],
  vrefresh: [24, 4], flags: [28, 4], type: [32, 4], /* name[32] at 36 */
});
export const DRM_DISPLAY_MODE_LEN = 32;
export const drm_mode_crtc = L(104, {
  set_connectors_ptr: [0, 8], count_connectors: [8, 4], crtc_id: [12, 4], fb_id: [16, 4], x: [20, 4], y: [24, 4],
  gamma_size: [28, 4], mode_valid: [32, 4], /* struct drm_mode_modeinfo mode at 36 */
});
export const DRM_MODE_CRTC_MODE_OFFSET = 36;
export const drm_mode_get_encoder = L(20, {
  encoder_id: [0, 4], encoder_type: [4, 4], crtc_id: [8, 4], possible_crtcs: [12, 4], possible_clones: [16, 4],
});
export const drm_mode_get_connector = L(80, {
  encoders_ptr: [0, 8], modes_ptr: [8, 8], props_ptr: [16, 8], prop_values_ptr: [24, 8],
  count_modes: [32, 4], count_props: [36, 4], count_encoders: [40, 4], encoder_id: [44, 4], connector_id: [48, 4],
  connector_type: [52, 4], connector_type_id: [56, 4], connection: [60, 4], mm_width: [64, 4], mm_height: [68, 4],
  subpixel: [72, 4], pad: [76, 4],
});
export const drm_mode_fb_cmd = L(28, {
  fb_id: [0, 4], width: [4, 4], height: [8, 4], pitch: [12, 4], bpp: [16, 4], depth: [20, 4], handle: [24, 4],
});
export const drm_mode_fb_cmd2 = L(104, {
  fb_id: [0, 4], width: [4, 4], height: [8, 4], pixel_format: [12, 4], flags: [16, 4],
  handles0: [20, 4], handles1: [24, 4], handles2: [28, 4], handles3: [32, 4],
  pitches0: [36, 4], pitches1: [40, 4], pitches2: [44, 4], pitches3: [48, 4],
  offsets0: [52, 4], offsets1: [56, 4], offsets2: [60, 4], offsets3: [64, 4],
  modifier0: [72, 8], modifier1: [80, 8], modifier2: [88, 8], modifier3: [96, 8],
});
export const drm_mode_rmfb_arg = L(4, { fb_id: [0, 4] });
export const drm_mode_crtc_page_flip = L(24, { crtc_id: [0, 4], fb_id: [4, 4], flags: [8, 4], reserved: [12, 4], user_data: [16, 8] });
export const drm_mode_create_dumb = L(32, {
  height: [0, 4], width: [4, 4], bpp: [8, 4], flags: [12, 4], handle: [16, 4], pitch: [20, 4], size: [24, 8],
});
export const drm_mode_map_dumb = L(16, { handle: [0, 4], pad: [4, 4], offset: [8, 8] });
export const drm_mode_destroy_dumb = L(4, { handle: [0, 4] });
/** union drm_wait_vblank: request { type, sequence, signal } / reply { type, sequence, tval_sec, tval_usec }. */
export const drm_wait_vblank = L(24, { type: [0, 4], sequence: [4, 4], signal: [8, 8], tval_sec: [8, 8], tval_usec: [16, 8] });
export const drm_event_vblank = L(32, {
  type: [0, 4], length: [4, 4], user_data: [8, 8], tv_sec: [16, 4], tv_usec: [20, 4], sequence: [24, 4], crtc_id: [28, 4],
});

// ---- ioctl numbers ---------------------------------------------------------------------------------

const IOWR = (nr: number, size: number): number => _IOWR(DRM_IOCTL_BASE, nr, size);
export const DRM_IOCTL_VERSION = IOWR(0x00, drm_version.size);
export const DRM_IOCTL_GET_CAP = IOWR(0x0c, drm_get_cap.size);
export const DRM_IOCTL_SET_CLIENT_CAP = _IOW(DRM_IOCTL_BASE, 0x0d, drm_set_client_cap.size);
export const DRM_IOCTL_WAIT_VBLANK = IOWR(0x3a, drm_wait_vblank.size);
export const DRM_IOCTL_MODE_GETRESOURCES = IOWR(0xa0, drm_mode_card_res.size);
export const DRM_IOCTL_MODE_GETCRTC = IOWR(0xa1, drm_mode_crtc.size);
export const DRM_IOCTL_MODE_SETCRTC = IOWR(0xa2, drm_mode_crtc.size);
export const DRM_IOCTL_MODE_GETENCODER = IOWR(0xa6, drm_mode_get_encoder.size);
export const DRM_IOCTL_MODE_GETCONNECTOR = IOWR(0xa7, drm_mode_get_connector.size);
export const DRM_IOCTL_MODE_ADDFB = IOWR(0xae, drm_mode_fb_cmd.size);
export const DRM_IOCTL_MODE_RMFB = IOWR(0xaf, 4);
export const DRM_IOCTL_MODE_PAGE_FLIP = IOWR(0xb0, drm_mode_crtc_page_flip.size);
export const DRM_IOCTL_MODE_CREATE_DUMB = IOWR(0xb2, drm_mode_create_dumb.size);
export const DRM_IOCTL_MODE_MAP_DUMB = IOWR(0xb3, drm_mode_map_dumb.size);
export const DRM_IOCTL_MODE_DESTROY_DUMB = IOWR(0xb4, drm_mode_destroy_dumb.size);
export const DRM_IOCTL_MODE_ADDFB2 = IOWR(0xb8, drm_mode_fb_cmd2.size);

// ---- values ------------------------------------------------------------------------------------------

export const DRM_CAP_DUMB_BUFFER = 0x1, DRM_CAP_VBLANK_HIGH_CRTC = 0x2, DRM_CAP_DUMB_PREFERRED_DEPTH = 0x3,
  DRM_CAP_DUMB_PREFER_SHADOW = 0x4, DRM_CAP_PRIME = 0x5, DRM_CAP_TIMESTAMP_MONOTONIC = 0x6,
  DRM_CAP_ASYNC_PAGE_FLIP = 0x7, DRM_CAP_CURSOR_WIDTH = 0x8, DRM_CAP_CURSOR_HEIGHT = 0x9,
  DRM_CAP_ADDFB2_MODIFIERS = 0x10, DRM_CAP_PAGE_FLIP_TARGET = 0x11, DRM_CAP_CRTC_IN_VBLANK_EVENT = 0x12,
  DRM_CAP_SYNCOBJ = 0x13, DRM_CAP_SYNCOBJ_TIMELINE = 0x14, DRM_CAP_ATOMIC_ASYNC_PAGE_FLIP = 0x15;
export const DRM_CLIENT_CAP_STEREO_3D = 1, DRM_CLIENT_CAP_UNIVERSAL_PLANES = 2, DRM_CLIENT_CAP_ATOMIC = 3,
  DRM_CLIENT_CAP_ASPECT_RATIO = 4, DRM_CLIENT_CAP_WRITEBACK_CONNECTORS = 5;

export const DRM_EVENT_VBLANK = 0x01, DRM_EVENT_FLIP_COMPLETE = 0x02;

export const _DRM_VBLANK_ABSOLUTE = 0x0, _DRM_VBLANK_RELATIVE = 0x1, _DRM_VBLANK_HIGH_CRTC_MASK = 0x0000003e,
  _DRM_VBLANK_EVENT = 0x4000000, _DRM_VBLANK_FLIP = 0x8000000, _DRM_VBLANK_NEXTONMISS = 0x10000000,
  _DRM_VBLANK_SECONDARY = 0x20000000, _DRM_VBLANK_SIGNAL = 0x40000000;
export const _DRM_VBLANK_HIGH_CRTC_SHIFT = 1;
export const _DRM_VBLANK_TYPES_MASK = _DRM_VBLANK_ABSOLUTE | _DRM_VBLANK_RELATIVE;
export const _DRM_VBLANK_FLAGS_MASK = _DRM_VBLANK_EVENT | _DRM_VBLANK_SIGNAL | _DRM_VBLANK_SECONDARY | _DRM_VBLANK_NEXTONMISS;

export const DRM_MODE_PAGE_FLIP_EVENT = 0x01, DRM_MODE_PAGE_FLIP_ASYNC = 0x02,
  DRM_MODE_PAGE_FLIP_TARGET_ABSOLUTE = 0x4, DRM_MODE_PAGE_FLIP_TARGET_RELATIVE = 0x8;
export const DRM_MODE_PAGE_FLIP_FLAGS = DRM_MODE_PAGE_FLIP_EVENT | DRM_MODE_PAGE_FLIP_ASYNC |
  DRM_MODE_PAGE_FLIP_TARGET_ABSOLUTE | DRM_MODE_PAGE_FLIP_TARGET_RELATIVE;

export const DRM_MODE_TYPE_PREFERRED = 1 << 3, DRM_MODE_TYPE_USERDEF = 1 << 5, DRM_MODE_TYPE_DRIVER = 1 << 6;
export const DRM_MODE_FLAG_PHSYNC = 1 << 0, DRM_MODE_FLAG_NHSYNC = 1 << 1, DRM_MODE_FLAG_PVSYNC = 1 << 2,
  DRM_MODE_FLAG_NVSYNC = 1 << 3, DRM_MODE_FLAG_INTERLACE = 1 << 4, DRM_MODE_FLAG_DBLSCAN = 1 << 5;

export const DRM_MODE_CONNECTED = 1, DRM_MODE_DISCONNECTED = 2, DRM_MODE_UNKNOWNCONNECTION = 3;
export const DRM_MODE_CONNECTOR_Unknown = 0, DRM_MODE_CONNECTOR_VGA = 1, DRM_MODE_CONNECTOR_VIRTUAL = 15;
export const DRM_MODE_ENCODER_NONE = 0, DRM_MODE_ENCODER_DAC = 1, DRM_MODE_ENCODER_VIRTUAL = 5;
export const DRM_MODE_SUBPIXEL_UNKNOWN = 1;

export const DRM_MODE_OBJECT_CRTC = 0xcccccccc, DRM_MODE_OBJECT_CONNECTOR = 0xc0c0c0c0,
  DRM_MODE_OBJECT_ENCODER = 0xe0e0e0e0, DRM_MODE_OBJECT_FB = 0xfbfbfbfb, DRM_MODE_OBJECT_PLANE = 0xeeeeeeee;

export const DRM_MODE_FB_MODIFIERS = 1 << 1;

/** fourcc_code('X', 'R', '2', '4') etc. */
export const fourcc_code = (a: string, b: string, c: string, d: string): number =>
  (a.charCodeAt(0) | (b.charCodeAt(0) << 8) | (c.charCodeAt(0) << 16) | (d.charCodeAt(0) << 24)) >>> 0;
export const DRM_FORMAT_XRGB8888 = fourcc_code('X', 'R', '2', '4');
export const DRM_FORMAT_ARGB8888 = fourcc_code('A', 'R', '2', '4');
export const DRM_FORMAT_RGB888 = fourcc_code('R', 'G', '2', '4');
export const DRM_FORMAT_RGB565 = fourcc_code('R', 'G', '1', '6');
export const DRM_FORMAT_XRGB1555 = fourcc_code('X', 'R', '1', '5');
export const DRM_FORMAT_C8 = fourcc_code('C', '8', ' ', ' ');

/** drm_mode_legacy_fb_format(bpp, depth): ADDFB's bpp/depth pair as a fourcc (0: none). */
export function drm_mode_legacy_fb_format(bpp: number, depth: number): number {
  switch (`${bpp}/${depth}`) {
    case '8/8': return DRM_FORMAT_C8;
    case '16/15': return DRM_FORMAT_XRGB1555;
    case '16/16': return DRM_FORMAT_RGB565;
    case '24/24': return DRM_FORMAT_RGB888;
    case '32/24': return DRM_FORMAT_XRGB8888;
    case '32/32': return DRM_FORMAT_ARGB8888;
    default: return 0;
  }
}

/** Bytes per pixel of the single-plane formats above (0: unknown). */
export function drm_format_cpp(format: number): number {
  switch (format) {
    case DRM_FORMAT_C8: return 1;
    case DRM_FORMAT_XRGB1555: case DRM_FORMAT_RGB565: return 2;
    case DRM_FORMAT_RGB888: return 3;
    case DRM_FORMAT_XRGB8888: case DRM_FORMAT_ARGB8888: return 4;
    default: return 0;
  }
}

// ---- reading and writing structs ------------------------------------------------------------------------

/** Named access to a struct's bytes (a copy the ioctl core made of the user's buffer). */
export class StructView<T extends Layout> {
  private readonly d: DataView;
  constructor(readonly layout: { size: number; fields: T }, readonly bytes: Uint8Array = new Uint8Array(layout.size)) {
    this.d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** An unsigned field as a number (u64 fields above 2^53 lose precision: use u64()). */
  u32(name: keyof T & string): number {
    const [o, n] = this.layout.fields[name]!;
    if (n === 8) return Number(this.d.getBigUint64(o, true));
    return n === 4 ? this.d.getUint32(o, true) : n === 2 ? this.d.getUint16(o, true) : this.d.getUint8(o);
  }

  u64(name: keyof T & string): bigint {
    const [o, n] = this.layout.fields[name]!;
    return n === 8 ? this.d.getBigUint64(o, true) : BigInt(this.u32(name));
  }

  set(name: keyof T & string, v: number | bigint): this {
    const [o, n] = this.layout.fields[name]!;
    if (n === 8) this.d.setBigUint64(o, BigInt.asUintN(64, BigInt(v)), true);
    else if (n === 4) this.d.setUint32(o, Number(v) >>> 0, true);
    else if (n === 2) this.d.setUint16(o, Number(v) & 0xffff, true);
    else this.d.setUint8(o, Number(v) & 0xff);
    return this;
  }
}

/** struct drm_mode_modeinfo as values (what GETCONNECTOR lists and SETCRTC takes). */
export interface DrmModeModeinfo {
  clock: number; hdisplay: number; hsync_start: number; hsync_end: number; htotal: number; hskew: number;
  vdisplay: number; vsync_start: number; vsync_end: number; vtotal: number; vscan: number;
  vrefresh: number; flags: number; type: number; name: string;
}

const MODE_FIELDS = ['clock', 'hdisplay', 'hsync_start', 'hsync_end', 'htotal', 'hskew', 'vdisplay', 'vsync_start',
  'vsync_end', 'vtotal', 'vscan', 'vrefresh', 'flags', 'type'] as const;

/** The 68 bytes of a drm_mode_modeinfo. */
export function drm_modeinfo_to_bytes(m: DrmModeModeinfo): Uint8Array {
  const v = new StructView(drm_mode_modeinfo);
  for (const k of MODE_FIELDS) v.set(k, m[k]);
  v.bytes.set(new TextEncoder().encode(m.name).subarray(0, DRM_DISPLAY_MODE_LEN - 1), 36);
  return v.bytes;
}

/** Parses 68 bytes of a drm_mode_modeinfo. */
export function drm_modeinfo_from_bytes(b: Uint8Array): DrmModeModeinfo {
  const v = new StructView(drm_mode_modeinfo, b.subarray(0, drm_mode_modeinfo.size));
  const name = b.subarray(36, 36 + DRM_DISPLAY_MODE_LEN);
  const nul = name.indexOf(0);
  const m = { name: new TextDecoder().decode(nul < 0 ? name : name.subarray(0, nul)) } as DrmModeModeinfo;
  for (const k of MODE_FIELDS) m[k] = v.u32(k);
  return m;
}
