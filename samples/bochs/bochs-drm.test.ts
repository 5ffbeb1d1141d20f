/**
 * The bochs driver's DRM device (/dev/dri/card0) on the Bochs display model, in IC0, IC1 and IC2:
 * version and caps, resources -> connector -> modes, dumb buffers in VRAM mapped zero-copy,
 * ADDFB + SETCRTC shown on the display (the model's scanout compared pixel by pixel), page flips
 * whose flip-complete events are read back from the fd with advancing sequences, WAIT_VBLANK,
 * Linux's errnos for bad input, and fbdev standing aside while DRM shows a mode, then coming
 * back. Struct layouts are Linux's 64-bit ones; pointer fields are offsets into the ioctl's own
 * buffer (docs/kapi.md). No timing asserts: waits are bounded by the driver's timeouts.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootPlatform } from '../../containers/boot.js';
import type { BootedKernel } from '../../framework/boot.js';
import { screenshot } from '../../framework/control/screenshot-method.js';
import type { IFileHandle } from '../../framework/vfs/api.js';
import { O } from '../../framework/vfs/types.js';
import type { IsolationClass } from '../../framework/platform/types.js';
import {
  DRM_CAP_DUMB_BUFFER, DRM_CAP_PRIME, DRM_CAP_TIMESTAMP_MONOTONIC, DRM_CAP_VBLANK_HIGH_CRTC, DRM_CLIENT_CAP_ATOMIC,
  DRM_CLIENT_CAP_UNIVERSAL_PLANES, DRM_EVENT_FLIP_COMPLETE, DRM_EVENT_VBLANK, DRM_IOCTL_GET_CAP, DRM_IOCTL_MODE_ADDFB,
  DRM_IOCTL_MODE_ADDFB2, DRM_IOCTL_MODE_CREATE_DUMB, DRM_IOCTL_MODE_DESTROY_DUMB, DRM_IOCTL_MODE_GETCONNECTOR,
  DRM_IOCTL_MODE_GETCRTC, DRM_IOCTL_MODE_GETENCODER, DRM_IOCTL_MODE_GETRESOURCES, DRM_IOCTL_MODE_MAP_DUMB,
  DRM_IOCTL_MODE_PAGE_FLIP, DRM_IOCTL_MODE_RMFB, DRM_IOCTL_MODE_SETCRTC, DRM_IOCTL_SET_CLIENT_CAP, DRM_IOCTL_VERSION,
  DRM_IOCTL_WAIT_VBLANK, DRM_FORMAT_XRGB8888, DRM_MODE_CONNECTOR_VIRTUAL, DRM_MODE_PAGE_FLIP_EVENT, DRM_MODE_TYPE_PREFERRED,
  _DRM_VBLANK_ABSOLUTE, _DRM_VBLANK_EVENT, _DRM_VBLANK_RELATIVE, drm_get_cap, drm_mode_card_res, drm_mode_create_dumb,
  drm_mode_crtc, drm_mode_crtc_page_flip, drm_mode_fb_cmd, drm_mode_fb_cmd2, drm_mode_get_connector, drm_mode_get_encoder,
  drm_mode_map_dumb, drm_modeinfo_from_bytes, drm_set_client_cap, drm_version, drm_wait_vblank, drm_event_vblank, StructView,
} from '../../linux-kapi/drm-uapi.js';
import { FB_VAR_SCREENINFO_SIZE, FBIO_WAITFORVSYNC, FBIOGET_VSCREENINFO, FBIOPUT_VSCREENINFO, fb_var_from_bytes, fb_var_to_bytes } from '../../linux-kapi/fb-uapi.js';
import { _IOWR } from '../../linux-kapi/ioctl.js';
import { decodePng } from './png-read.testing.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PLATFORM = join(ROOT, 'samples', 'platforms', 'display.platform.json');
const W = 1024, H = 768, PITCH = W * 4;

const pixel = (x: number, y: number, s: number): number =>
  ((((x * 5 + y * 3 + s * 97) & 0xff) << 16) | (((x ^ y) + s * 41) & 0xff) << 8 | ((y + 3 * x + s) & 0xff)) >>> 0;

function draw(view: Uint8Array, s: number): void {
  const px = new Uint32Array(view.buffer, view.byteOffset, W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) px[y * W + x] = pixel(x, y, s);
}

function firstMismatch(rgba: Uint8Array, s: number): number {
  for (let i = 0; i < W * H; i++) {
    const p = pixel(i % W, Math.floor(i / W), s);
    if (rgba[4 * i] !== (p >>> 16 & 0xff) || rgba[4 * i + 1] !== (p >>> 8 & 0xff) || rgba[4 * i + 2] !== (p & 0xff)) return i;
  }
  return -1;
}

type Fields<T> = T extends { fields: infer F } ? keyof F & string : never;

/** An ioctl on a struct (plus `extra` bytes for arrays after it); resolves the struct view and the whole buffer. */
async function io<T extends { size: number; fields: Record<string, readonly [number, 1 | 2 | 4 | 8]> }>(fh: IFileHandle, cmd: number, layout: T,
  set: Partial<Record<Fields<T>, number | bigint>> = {}, extra = 0): Promise<{ v: StructView<T['fields']>; buf: Buffer }> {
  const buf = Buffer.alloc(layout.size + extra);
  const v = new StructView(layout, buf.subarray(0, layout.size));
  for (const [k, x] of Object.entries(set)) v.set(k as Fields<T>, x as number);
  await fh.ioctl(cmd, buf);
  return { v: new StructView(layout, buf.subarray(0, layout.size)), buf };
}

async function shot(k: BootedKernel) {
  const r = await screenshot(k, { path: '/dev/dri/card0', source: 'scanout' });
  return decodePng(Buffer.from(r.png, 'base64'));
}

interface Ids { crtc: number; conn: number; enc: number; mode: Buffer }

async function createFb(fh: IFileHandle, s: number): Promise<{ handle: number; fb: number; map: Uint8Array }> {
  const { v: c } = await io(fh, DRM_IOCTL_MODE_CREATE_DUMB, drm_mode_create_dumb, { width: W, height: H, bpp: 32 });
  assert.deepEqual([c.u32('pitch'), c.u32('size')], [PITCH, PITCH * H]);
  const handle = c.u32('handle');
  const { v: m } = await io(fh, DRM_IOCTL_MODE_MAP_DUMB, drm_mode_map_dumb, { handle });
  assert.ok(m.u32('offset') >= 2 ** 32, 'a fake offset past 4 GiB');
  const map = await fh.mmap(PITCH * H, m.u32('offset'));
  draw(map, s);
  const { v: f } = await io(fh, DRM_IOCTL_MODE_ADDFB, drm_mode_fb_cmd, { width: W, height: H, pitch: PITCH, bpp: 32, depth: 24, handle });
  return { handle, fb: f.u32('fb_id'), map };
}

async function readEvent(fh: IFileHandle): Promise<StructView<typeof drm_event_vblank.fields>> {
  const b = Buffer.alloc(64);
  const { bytesRead } = await fh.read(b, 0, 64, null);
  assert.equal(bytesRead, 32, 'one drm_event_vblank');
  return new StructView(drm_event_vblank, b.subarray(0, 32));
}

const waitVblank = (fh: IFileHandle, type: number, sequence: number, signal = 0) =>
  io(fh, DRM_IOCTL_WAIT_VBLANK, drm_wait_vblank, { type, sequence, signal }).then((r) => r.v);

for (const ic of ['ic0', 'ic1', 'ic2'] as IsolationClass[]) {
  describe(`bochs DRM on the display model in ${ic}`, () => {
    let k: BootedKernel;
    let fh: IFileHandle;
    let fb0: IFileHandle;
    const ids = {} as Ids;
    before(async () => {
      k = await bootPlatform({ platform: PLATFORM, isolation: ic });
      fh = await k.vfs.open('/dev/dri/card0', O.RDWR);
      fb0 = await k.vfs.open('/dev/fb0', O.RDWR);
    });
    after(async () => {
      await fh?.close().catch(() => undefined);
      await fb0?.close().catch(() => undefined);
      await k?.shutdown();
    });

    it('registers /dev/dri/card0 (226:0, class drm) beside /dev/fb0; VERSION and caps', async () => {
      const st = await k.vfs.stat('/dev/dri/card0');
      assert.ok(st.isCharacterDevice());
      assert.equal(st.rdev, (226 << 8) | 0);
      assert.equal(await k.vfs.readFile('/sys/class/drm/card0/dev', { encoding: 'utf8' }), '226:0\n');
      assert.ok((await k.vfs.stat('/dev/fb0')).isCharacterDevice());
      // Strings land at the offsets the pointer fields hold (64.., after the struct); lengths are full lengths.
      const { v, buf } = await io(fh, DRM_IOCTL_VERSION, drm_version, { name_len: 32, name: 64, date_len: 4, date: 96, desc_len: 64, desc: 128 }, 192);
      assert.deepEqual([v.u32('version_major'), v.u32('version_minor'), v.u32('name_len'), v.u32('date_len')], [1, 0, 9, 8]);
      assert.equal(buf.toString('latin1', 64, 73), 'bochs-drm');
      assert.equal(buf.toString('latin1', 96, 101), '2013\0', 'date cut at date_len');
      assert.match(buf.toString('latin1', 128, 128 + v.u32('desc_len')), /^bochs dispi vga interface/);
      const cap = async (c: number) => (await io(fh, DRM_IOCTL_GET_CAP, drm_get_cap, { capability: c })).v.u32('value');
      assert.deepEqual([await cap(DRM_CAP_DUMB_BUFFER), await cap(DRM_CAP_VBLANK_HIGH_CRTC), await cap(DRM_CAP_PRIME),
        await cap(DRM_CAP_TIMESTAMP_MONOTONIC)], [1, 1, 0, 1]);
      await assert.rejects(cap(0x999), { code: 'EINVAL' });
      await io(fh, DRM_IOCTL_SET_CLIENT_CAP, drm_set_client_cap, { capability: DRM_CLIENT_CAP_UNIVERSAL_PLANES, value: 1 });
      await assert.rejects(io(fh, DRM_IOCTL_SET_CLIENT_CAP, drm_set_client_cap, { capability: DRM_CLIENT_CAP_ATOMIC, value: 1 }), { code: 'EOPNOTSUPP' });
    });

    it('lists resources, the connector with its modes, the encoder and an idle CRTC', async () => {
      const { v: r0 } = await io(fh, DRM_IOCTL_MODE_GETRESOURCES, drm_mode_card_res);
      assert.deepEqual(['count_fbs', 'count_crtcs', 'count_connectors', 'count_encoders'].map((f) => r0.u32(f as 'count_fbs')), [0, 1, 1, 1]);
      assert.deepEqual([r0.u32('min_width'), r0.u32('max_width'), r0.u32('min_height'), r0.u32('max_height')], [64, 16000, 64, 12000]);
      const { buf } = await io(fh, DRM_IOCTL_MODE_GETRESOURCES, drm_mode_card_res,
        { crtc_id_ptr: 64, count_crtcs: 1, connector_id_ptr: 68, count_connectors: 1, encoder_id_ptr: 72, count_encoders: 1 }, 12);
      [ids.crtc, ids.conn, ids.enc] = [buf.readUInt32LE(64), buf.readUInt32LE(68), buf.readUInt32LE(72)];
      assert.ok(ids.crtc > 0 && ids.conn > 0 && ids.enc > 0 && new Set([ids.crtc, ids.conn, ids.enc]).size === 3);
      const { v: c0 } = await io(fh, DRM_IOCTL_MODE_GETCONNECTOR, drm_mode_get_connector, { connector_id: ids.conn });
      const n = c0.u32('count_modes');
      assert.deepEqual([c0.u32('connection'), c0.u32('connector_type'), c0.u32('connector_type_id'), c0.u32('count_encoders')],
        [1, DRM_MODE_CONNECTOR_VIRTUAL, 1, 1]);
      assert.ok(n >= 3, `${n} modes`);
      const { buf: cb } = await io(fh, DRM_IOCTL_MODE_GETCONNECTOR, drm_mode_get_connector,
        { connector_id: ids.conn, count_modes: n, modes_ptr: 80, count_encoders: 1, encoders_ptr: 80 + 68 * n }, 68 * n + 4);
      const modes = Array.from({ length: n }, (_, i) => drm_modeinfo_from_bytes(cb.subarray(80 + 68 * i, 148 + 68 * i)));
      assert.equal(modes[0]!.name, '1024x768');
      assert.ok(modes[0]!.type & DRM_MODE_TYPE_PREFERRED, 'defx x defy first, preferred');
      assert.deepEqual([modes[0]!.clock, modes[0]!.htotal, modes[0]!.vtotal, modes[0]!.vrefresh], [65002, 1344, 806, 60]);
      assert.ok(modes.some((m) => m.name === '640x480'));
      assert.equal(cb.readUInt32LE(80 + 68 * n), ids.enc);
      ids.mode = Buffer.from(cb.subarray(80, 148));
      const { v: e } = await io(fh, DRM_IOCTL_MODE_GETENCODER, drm_mode_get_encoder, { encoder_id: ids.enc });
      assert.deepEqual([e.u32('possible_crtcs'), e.u32('crtc_id')], [1, 0]);
      const { v: crtc } = await io(fh, DRM_IOCTL_MODE_GETCRTC, drm_mode_crtc, { crtc_id: ids.crtc });
      assert.deepEqual([crtc.u32('mode_valid'), crtc.u32('fb_id')], [0, 0]);
    });

    it('answers bad input with Linux errnos', async () => {
      await assert.rejects(fh.ioctl(DRM_IOCTL_MODE_GETRESOURCES, Buffer.alloc(32)), { code: 'EFAULT' }); // buffer < _IOC_SIZE
      await assert.rejects(fh.ioctl(DRM_IOCTL_VERSION, 0), { code: 'EFAULT' });                       // not a pointer
      await assert.rejects(fh.ioctl(_IOWR('d', 0x99, 8), Buffer.alloc(8)), { code: 'EINVAL' });       // no such nr
      await assert.rejects(fh.ioctl(_IOWR('F', 0xa0, 64), Buffer.alloc(64)), { code: 'ENOTTY' });
      await assert.rejects(io(fh, DRM_IOCTL_MODE_GETCONNECTOR, drm_mode_get_connector, { connector_id: 999 }), { code: 'ENOENT' });
      await assert.rejects(io(fh, DRM_IOCTL_MODE_GETCONNECTOR, drm_mode_get_connector, { connector_id: ids.crtc }), { code: 'ENOENT' });
      await assert.rejects(io(fh, DRM_IOCTL_MODE_GETCRTC, drm_mode_crtc, { crtc_id: ids.conn }), { code: 'ENOENT' });
      await assert.rejects(io(fh, DRM_IOCTL_MODE_GETRESOURCES, drm_mode_card_res, { crtc_id_ptr: 8, count_crtcs: 1 }), { code: 'EFAULT' }); // into the struct
      await assert.rejects(io(fh, DRM_IOCTL_MODE_GETRESOURCES, drm_mode_card_res, { crtc_id_ptr: 64, count_crtcs: 1 }), { code: 'EFAULT' }); // past the buffer
      await assert.rejects(io(fh, DRM_IOCTL_MODE_CREATE_DUMB, drm_mode_create_dumb, { width: 16000, height: 12000, bpp: 32 }), { code: 'ENOMEM' });
      await assert.rejects(io(fh, DRM_IOCTL_MODE_CREATE_DUMB, drm_mode_create_dumb, { width: 0, height: 10, bpp: 32 }), { code: 'EINVAL' });
      await assert.rejects(io(fh, DRM_IOCTL_MODE_MAP_DUMB, drm_mode_map_dumb, { handle: 77 }), { code: 'ENOENT' });
      await assert.rejects(io(fh, DRM_IOCTL_MODE_ADDFB, drm_mode_fb_cmd, { width: W, height: H, pitch: PITCH, bpp: 32, depth: 24, handle: 77 }), { code: 'ENOENT' });
      await assert.rejects(io(fh, DRM_IOCTL_MODE_ADDFB, drm_mode_fb_cmd, { width: W, height: H, pitch: PITCH, bpp: 12, depth: 7, handle: 1 }), { code: 'EINVAL' });
      await assert.rejects(io(fh, DRM_IOCTL_MODE_RMFB, { size: 4, fields: { id: [0, 4] } } as const, { id: 4242 }), { code: 'ENOENT' });
      await assert.rejects(fh.mmap(4096, 2 ** 32 + 4096 * 5000), { code: 'EINVAL' });
      // A flip before any mode set: Linux's drm_mode_page_flip_ioctl answers -EBUSY (no fb on the plane).
      await assert.rejects(io(fh, DRM_IOCTL_MODE_PAGE_FLIP, drm_mode_crtc_page_flip, { crtc_id: ids.crtc, fb_id: 1 }), { code: 'EBUSY' });
      await assert.rejects(io(fh, DRM_IOCTL_MODE_PAGE_FLIP, drm_mode_crtc_page_flip, { crtc_id: ids.crtc, fb_id: 1, flags: 0x100 }), { code: 'EINVAL' });
      await assert.rejects(waitVblank(fh, _DRM_VBLANK_RELATIVE, 1), { code: 'EINVAL' }, 'WAIT_VBLANK on a CRTC that is off');
      // A dumb buffer with no handle in another file cannot be mapped through it.
      const { v: c } = await io(fh, DRM_IOCTL_MODE_CREATE_DUMB, drm_mode_create_dumb, { width: 64, height: 64, bpp: 32 });
      const { v: m } = await io(fh, DRM_IOCTL_MODE_MAP_DUMB, drm_mode_map_dumb, { handle: c.u32('handle') });
      const other = await k.vfs.open('/dev/dri/card0', O.RDWR);
      await assert.rejects(other.mmap(4096, m.u32('offset')), { code: 'EACCES' });
      await other.close();
      await assert.rejects(fh.mmap(c.u32('size') + 4096, m.u32('offset')), { code: 'EINVAL' }, 'longer than the buffer');
      await io(fh, DRM_IOCTL_MODE_DESTROY_DUMB, { size: 4, fields: { handle: [0, 4] } } as const, { handle: c.u32('handle') });
    });

    it('shows a dumb buffer: CREATE_DUMB, mmap (VRAM itself), ADDFB, SETCRTC; fbdev stands aside', async () => {
      // fbdev's own picture first, to see it come back later.
      const fbmap = await fb0.mmap(W * H * 4, 0);
      draw(fbmap, 7);
      const a = await createFb(fh, 0);
      const set = async (fb: number, x = 0) => {
        const buf = Buffer.alloc(drm_mode_crtc.size + 4);
        new StructView(drm_mode_crtc, buf.subarray(0, drm_mode_crtc.size)).set('crtc_id', ids.crtc).set('fb_id', fb).set('x', x)
          .set('count_connectors', 1).set('set_connectors_ptr', 104).set('mode_valid', 1);
        buf.writeUInt32LE(ids.conn, 104);
        ids.mode.copy(buf, 36);
        return fh.ioctl(DRM_IOCTL_MODE_SETCRTC, buf);
      };
      await assert.rejects(set(999), { code: 'ENOENT' });
      await assert.rejects(set(a.fb, 8), { code: 'ENOSPC' }, 'the fb does not cover the mode at x = 8');
      await set(a.fb);
      await waitVblank(fh, _DRM_VBLANK_RELATIVE, 1);
      assert.equal(firstMismatch((await shot(k)).rgba, 0), -1, 'scanout shows the dumb buffer');
      const { v: crtc } = await io(fh, DRM_IOCTL_MODE_GETCRTC, drm_mode_crtc, { crtc_id: ids.crtc });
      assert.deepEqual([crtc.u32('mode_valid'), crtc.u32('fb_id')], [1, a.fb]);
      const { v: e } = await io(fh, DRM_IOCTL_MODE_GETENCODER, drm_mode_get_encoder, { encoder_id: ids.enc });
      assert.equal(e.u32('crtc_id'), ids.crtc);
      // Zero-copy: a pixel written through the mapping is on screen at the next frame.
      new Uint32Array(a.map.buffer, a.map.byteOffset, 1)[0] = 0x00abcdef;
      await waitVblank(fh, _DRM_VBLANK_RELATIVE, 1);
      assert.deepEqual([...(await shot(k)).rgba.subarray(0, 3)], [0xab, 0xcd, 0xef]);
      new Uint32Array(a.map.buffer, a.map.byteOffset, 1)[0] = pixel(0, 0, 0);
      // fbdev: mode changes are refused while DRM shows a mode.
      const vb = Buffer.alloc(FB_VAR_SCREENINFO_SIZE);
      await fb0.ioctl(FBIOGET_VSCREENINFO, vb);
      const v = fb_var_from_bytes(vb);
      v.bits_per_pixel = 16;
      await assert.rejects(fb0.ioctl(FBIOPUT_VSCREENINFO, Buffer.from(fb_var_to_bytes(v))), { code: 'EBUSY' });
      // ADDFB2 works too (XRGB8888 on the same buffer).
      const { v: f2 } = await io(fh, DRM_IOCTL_MODE_ADDFB2, drm_mode_fb_cmd2, { width: W, height: H, pixel_format: DRM_FORMAT_XRGB8888, handles0: a.handle, pitches0: PITCH });
      assert.ok(f2.u32('fb_id') > a.fb);
    });

    it('page flips: flip-complete events read back from the fd, sequences advancing, at vblank', async () => {
      const b = await createFb(fh, 1);
      const { buf: rb } = await io(fh, DRM_IOCTL_MODE_GETRESOURCES, drm_mode_card_res, { fb_id_ptr: 64, count_fbs: 4 }, 16);
      const fbs = [rb.readUInt32LE(64), rb.readUInt32LE(68), rb.readUInt32LE(72)];
      assert.equal(new StructView(drm_mode_card_res, rb.subarray(0, 64)).u32('count_fbs'), 3);
      const nb = await k.vfs.open('/dev/dri/card0', O.RDWR | O.NONBLOCK);
      await assert.rejects(nb.read(Buffer.alloc(32), 0, 32, null), { code: 'EAGAIN' });
      await nb.close();
      let last = -1;
      for (const [i, fb] of [b.fb, fbs[0]!, b.fb].entries()) {
        await io(fh, DRM_IOCTL_MODE_PAGE_FLIP, drm_mode_crtc_page_flip, { crtc_id: ids.crtc, fb_id: fb, flags: DRM_MODE_PAGE_FLIP_EVENT, user_data: 0x1234_0000 + i });
        assert.ok((await fh.poll(1, 3000)) & 1, 'POLLIN once the flip is latched');
        const ev = await readEvent(fh);
        assert.deepEqual([ev.u32('type'), ev.u32('length'), ev.u32('user_data'), ev.u32('crtc_id')], [DRM_EVENT_FLIP_COMPLETE, 32, 0x1234_0000 + i, ids.crtc]);
        assert.ok(ev.u32('sequence') > last, `sequence ${last} -> ${ev.u32('sequence')}`);
        assert.ok(ev.u32('tv_sec') > 0 || ev.u32('tv_usec') > 0);
        last = ev.u32('sequence');
        assert.equal(firstMismatch((await shot(k)).rgba, fb === b.fb ? 1 : 0), -1, `flip ${i}: the display shows the new buffer`);
      }
      assert.equal((await fh.poll(1, 0)) & 1, 0, 'no event left');
    });

    it('WAIT_VBLANK: relative and absolute sequences, a vblank event', async () => {
      const q = await waitVblank(fh, _DRM_VBLANK_RELATIVE, 0);
      const r = await waitVblank(fh, _DRM_VBLANK_RELATIVE, 2);
      assert.ok(r.u32('sequence') >= q.u32('sequence') + 2, `${q.u32('sequence')} -> ${r.u32('sequence')}`);
      assert.ok(r.u32('tval_sec') > 0 || r.u32('tval_usec') > 0);
      const past = await waitVblank(fh, _DRM_VBLANK_ABSOLUTE, q.u32('sequence'));
      assert.ok(past.u32('sequence') >= r.u32('sequence'), 'a passed sequence returns at once');
      const ev = await waitVblank(fh, _DRM_VBLANK_RELATIVE | _DRM_VBLANK_EVENT, 1, 0x77);
      const e = await readEvent(fh);
      assert.deepEqual([e.u32('type'), e.u32('user_data'), e.u32('sequence')], [DRM_EVENT_VBLANK, 0x77, ev.u32('sequence')]);
      await assert.rejects(waitVblank(fh, _DRM_VBLANK_RELATIVE | 0x40000000, 1), { code: 'EINVAL' }); // _DRM_VBLANK_SIGNAL
      await assert.rejects(waitVblank(fh, _DRM_VBLANK_RELATIVE | (3 << 1), 1), { code: 'EINVAL' });   // CRTC 3
    });

    it('gives the display back to fbdev when its last file closes', async () => {
      await fh.close();
      fh = await k.vfs.open('/dev/dri/card0', O.RDWR);
      const { v: crtc } = await io(fh, DRM_IOCTL_MODE_GETCRTC, drm_mode_crtc, { crtc_id: ids.crtc });
      assert.deepEqual([crtc.u32('mode_valid'), crtc.u32('fb_id')], [0, 0], 'the CRTC went off with its fb');
      await fb0.ioctl(FBIO_WAITFORVSYNC, Buffer.alloc(4));
      const r = await screenshot(k, { path: '/dev/fb0', source: 'scanout' });
      assert.equal(firstMismatch(decodePng(Buffer.from(r.png, 'base64')).rgba, 7), -1, 'fbdev\'s picture is back');
      const vb = Buffer.alloc(FB_VAR_SCREENINFO_SIZE);
      await fb0.ioctl(FBIOGET_VSCREENINFO, vb);
      await fb0.ioctl(FBIOPUT_VSCREENINFO, vb); // accepted again
      // Every dumb buffer went with the file: the whole pool is free again.
      const big = await io(fh, DRM_IOCTL_MODE_CREATE_DUMB, drm_mode_create_dumb, { width: W, height: (16 << 20) / PITCH - 2 * H, bpp: 32 });
      assert.ok(big.v.u32('handle') > 0);
    });
  });
}
