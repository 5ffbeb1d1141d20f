/**
 * The bochs fbdev driver on the Bochs display model, in every isolation class: /dev/fb0 and its
 * sysfs class device, var/fix with Linux's layouts, drawing through mmap (VRAM itself, not a
 * copy: the model scans out what was written), page flips latched at vblank, FBIO_WAITFORVSYNC,
 * mode checks that leave the state alone, Linux's errno for bad arguments, fb_read/fb_write,
 * blanking, and `hmdrv screenshot` through the control socket (PNG decoded and compared pixel by
 * pixel; pngcheck when installed). No timing asserts: waits are bounded by the driver's timeout.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootPlatform } from '../../containers/boot.js';
import type { BootedKernel } from '../../framework/boot.js';
import { ControlServer } from '../../framework/control/server.js';
import { screenshot } from '../../framework/control/screenshot-method.js';
import type { IFileHandle } from '../../framework/vfs/api.js';
import type { KernelServices } from '../../framework/container-host.js';
import { O } from '../../framework/vfs/types.js';
import type { IsolationClass } from '../../framework/platform/types.js';
import {
  FB_ACTIVATE_VBL, FB_FIX_SCREENINFO_SIZE, FB_VAR_SCREENINFO_SIZE, FBIO_WAITFORVSYNC, FBIOBLANK, FBIOGET_FSCREENINFO,
  FBIOGET_VBLANK, FBIOGET_VSCREENINFO, FBIOGETCMAP, FBIOPAN_DISPLAY, FBIOPUT_VSCREENINFO, fb_fix_from_bytes,
  fb_var_from_bytes, fb_var_to_bytes, type FbVarScreeninfo,
} from '../../linux-kapi/fb.js';
import { decodePng } from './png-read.testing.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PLATFORM = join(ROOT, 'samples', 'platforms', 'display.platform.json');
const W = 1024, H = 768, SCREEN = W * H * 4, VRAM = 16 << 20;

/** XRGB8888 of pixel (x, y) of screen `s`: every screen and row differs. */
const pixel = (x: number, y: number, s: number): number =>
  ((((x * 7 + y * 3 + s * 101) & 0xff) << 16) | (((x ^ y) + s * 53) & 0xff) << 8 | ((y + 2 * x + s) & 0xff)) >>> 0;

function draw(view: Uint8Array, s: number): void {
  const px = new Uint32Array(view.buffer, view.byteOffset + s * SCREEN, W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) px[y * W + x] = pixel(x, y, s);
}

/** Index of the first pixel of `rgba` that differs from screen `s`, or -1. */
function firstMismatch(rgba: Uint8Array, s: number): number {
  for (let i = 0; i < W * H; i++) {
    const p = pixel(i % W, Math.floor(i / W), s);
    if (rgba[4 * i] !== (p >>> 16 & 0xff) || rgba[4 * i + 1] !== (p >>> 8 & 0xff) || rgba[4 * i + 2] !== (p & 0xff) || rgba[4 * i + 3] !== 0xff) return i;
  }
  return -1;
}

async function getVar(fh: IFileHandle): Promise<FbVarScreeninfo> {
  const b = Buffer.alloc(FB_VAR_SCREENINFO_SIZE);
  await fh.ioctl(FBIOGET_VSCREENINFO, b);
  return fb_var_from_bytes(b);
}

async function putVar(fh: IFileHandle, v: FbVarScreeninfo): Promise<FbVarScreeninfo> {
  const b = Buffer.from(fb_var_to_bytes(v));
  await fh.ioctl(FBIOPUT_VSCREENINFO, b);
  return fb_var_from_bytes(b);
}

async function pan(fh: IFileHandle, yoffset: number, activate = 0): Promise<void> {
  const v = await getVar(fh);
  v.yoffset = yoffset;
  v.activate = activate;
  await fh.ioctl(FBIOPAN_DISPLAY, Buffer.from(fb_var_to_bytes(v)));
}

const waitVsync = (fh: IFileHandle) => fh.ioctl(FBIO_WAITFORVSYNC, Buffer.alloc(4));

async function frameCount(fh: IFileHandle): Promise<number> {
  const b = Buffer.alloc(32);
  await fh.ioctl(FBIOGET_VBLANK, b);
  return b.readUInt32LE(4);
}

async function shot(k: BootedKernel, source: 'scanout' | 'fb') {
  const r = await screenshot(k, { path: '/dev/fb0', source });
  return { ...r, img: decodePng(Buffer.from(r.png, 'base64')) };
}

const irqCount = async (k: BootedKernel): Promise<number> =>
  Number(/48:\s+(\d+)/.exec(await k.vfs.readFile('/proc/interrupts', { encoding: 'utf8' }) as string)?.[1] ?? NaN);

for (const ic of ['ic0', 'ic1', 'ic2'] as IsolationClass[]) {
  describe(`bochs fbdev on the display model in ${ic}`, () => {
    let k: BootedKernel;
    let fh: IFileHandle;
    before(async () => {
      k = await bootPlatform({ platform: PLATFORM, isolation: ic });
      fh = await k.vfs.open('/dev/fb0', O.RDWR);
    });
    after(async () => {
      await fh?.close().catch(() => undefined);
      await k?.shutdown();
    });

    it('registers /dev/fb0 (29:0) with its graphics class device and attributes', async () => {
      assert.equal(k.devices()[0]!.state, 'bound');
      const st = await k.vfs.stat('/dev/fb0');
      assert.ok(st.isCharacterDevice());
      assert.equal(st.rdev, (29 << 8) | 0);
      assert.equal(await k.vfs.readlink('/sys/class/graphics/fb0'), '../../devices/platform/display0/graphics/fb0');
      const attr = async (n: string) => k.vfs.readFile(`/sys/class/graphics/fb0/${n}`, { encoding: 'utf8' });
      assert.equal(await attr('dev'), '29:0\n');
      assert.equal(await attr('name'), 'bochsfb\n');
      assert.equal(await attr('bits_per_pixel'), '32\n');
      assert.equal(await attr('virtual_size'), '1024,1536\n');
      assert.equal(await attr('stride'), '4096\n');
      assert.equal(await attr('mode'), 'V:1024x768p-60\n');
      assert.match(await attr('modes') as string, /^V:640x480p-60\nV:800x600p-60\nV:1024x768p-60\n/);
    });

    it('reports var and fix with Linux binary layouts', async () => {
      const v = await getVar(fh);
      assert.deepEqual([v.xres, v.yres, v.xres_virtual, v.yres_virtual, v.xoffset, v.yoffset, v.bits_per_pixel], [W, H, W, 2 * H, 0, 0, 32]);
      assert.deepEqual([v.red, v.green, v.blue, v.transp].map((f) => [f.offset, f.length]), [[16, 8], [8, 8], [0, 8], [0, 0]]);
      assert.equal(v.pixclock, 15384);
      const b = Buffer.alloc(FB_FIX_SCREENINFO_SIZE);
      await fh.ioctl(FBIOGET_FSCREENINFO, b);
      const f = fb_fix_from_bytes(b);
      assert.equal(f.id, 'bochsfb');
      assert.equal(b.readBigUInt64LE(16), 0x40000000n); // smem_start: 8 bytes at 16 (LP64)
      assert.deepEqual([f.smem_len, f.type, f.visual, f.xpanstep, f.ypanstep, f.ywrapstep, f.line_length, f.mmio_len],
        [VRAM, 0, 2, 1, 1, 0, 4096, 0]);
    });

    it('shows what is drawn through mmap (VRAM itself), flips to the second buffer at vblank', async () => {
      const fb = await fh.mmap(2 * SCREEN, 0);
      draw(fb, 0);
      draw(fb, 1);
      // The driver's view (fb_read from screen_base) is the same memory as the caller's mapping.
      const back = Buffer.alloc(16);
      await fh.read(back, 0, 16, SCREEN + 4 * (5 * W + 9));
      assert.equal(back.readUInt32LE(0), pixel(9, 5, 1));
      await waitVsync(fh);
      let s = await shot(k, 'scanout');
      assert.equal(firstMismatch(s.img.rgba, 0), -1, 'scanout shows screen 0');
      // Pan: the fb view moves at once, the display at the next vblank.
      await pan(fh, H);
      s = await shot(k, 'fb');
      assert.deepEqual([s.xoffset, s.yoffset, s.bpp], [0, H, 32]);
      assert.equal(firstMismatch(s.img.rgba, 1), -1, 'fb source shows screen 1 after the pan');
      await waitVsync(fh);
      s = await shot(k, 'scanout');
      assert.equal(s.source, 'scanout');
      assert.equal(firstMismatch(s.img.rgba, 1), -1, 'scanout shows screen 1 after a vblank');
      assert.equal(await k.vfs.readFile('/sys/class/graphics/fb0/pan', { encoding: 'utf8' }), `0,${H}\n`);
      // FB_ACTIVATE_VBL: the pan returns once the flip is latched (FLIP_DONE).
      await pan(fh, 0, FB_ACTIVATE_VBL);
      assert.equal(firstMismatch((await shot(k, 'scanout')).img.rgba, 0), -1, 'scanout is back on screen 0');
      // Pixels written now are what the display scans out: no copy in between.
      new Uint32Array(fb.buffer, fb.byteOffset, 1)[0] = 0x00123456;
      assert.deepEqual([...(await shot(k, 'scanout')).img.rgba.subarray(0, 4)], [0x12, 0x34, 0x56, 0xff]);
      new Uint32Array(fb.buffer, fb.byteOffset, 1)[0] = pixel(0, 0, 0);
    });

    it('FBIO_WAITFORVSYNC returns after a vblank: the frame counter and the IRQ count move', async () => {
      const c0 = await frameCount(fh);
      const i0 = await irqCount(k);
      for (let n = 0; n < 3; n++) assert.equal((await waitVsync(fh)).ret, 0);
      const c1 = await frameCount(fh);
      assert.ok(c1 >= c0 + 3, `frame count ${c0} -> ${c1}`);
      assert.ok(await irqCount(k) >= i0 + 3, 'one vblank interrupt per wait at least');
    });

    it('refuses a bad mode with EINVAL and leaves the state as it was', async () => {
      const before = await getVar(fh);
      const bad: ((v: FbVarScreeninfo) => void)[] = [
        (v) => { v.bits_per_pixel = 8; },
        (v) => { v.xres = 32; v.yres = 32; },
        (v) => { v.yres_virtual = 10_000; }, // 40 MB: more than VRAM
        (v) => { v.xres = 20_000; },
        (v) => { v.yoffset = 1000; },       // past yres_virtual - yres
      ];
      for (const change of bad) {
        const v = await getVar(fh);
        change(v);
        await assert.rejects(putVar(fh, v), { code: 'EINVAL' });
        assert.deepEqual(await getVar(fh), before);
      }
      assert.equal(await k.vfs.readFile('/sys/class/graphics/fb0/bits_per_pixel', { encoding: 'utf8' }), '32\n');
      await assert.rejects(k.vfs.writeFile('/sys/class/graphics/fb0/bits_per_pixel', '12'), { code: 'EINVAL' });
      // A good one: 800x600 RGB565, rounded up by fb_check_var and reported back.
      const v = await getVar(fh);
      Object.assign(v, { xres: 800, yres: 600, xres_virtual: 0, yres_virtual: 0, bits_per_pixel: 16 });
      const got = await putVar(fh, v);
      assert.deepEqual([got.xres_virtual, got.yres_virtual, got.red.offset, got.red.length, got.green.length], [800, 600, 11, 5, 6]);
      assert.equal(await k.vfs.readFile('/sys/class/graphics/fb0/stride', { encoding: 'utf8' }), '1600\n');
      assert.equal((await shot(k, 'fb')).img.width, 800);
      const restored = await putVar(fh, before);
      assert.deepEqual([restored.xres, restored.yres_virtual, restored.bits_per_pixel], [W, 2 * H, 32]);
    });

    it('answers bad ioctl arguments with Linux errnos', async () => {
      await assert.rejects(fh.ioctl(FBIOGET_VSCREENINFO, Buffer.alloc(100)), { code: 'EFAULT' }); // buffer too small
      await assert.rejects(fh.ioctl(FBIOGET_VSCREENINFO, 0), { code: 'EFAULT' });                  // not a pointer
      await assert.rejects(fh.ioctl(FBIOPUT_VSCREENINFO, Buffer.alloc(10)), { code: 'EFAULT' });
      await assert.rejects(fh.ioctl(FBIOGET_FSCREENINFO, Buffer.alloc(68)), { code: 'EFAULT' });  // the 32-bit size
      await assert.rejects(fh.ioctl(FBIOPAN_DISPLAY, Buffer.alloc(159)), { code: 'EFAULT' });
      await assert.rejects(fh.ioctl(0x46ff, Buffer.alloc(8)), { code: 'ENOTTY' });
      await assert.rejects(fh.ioctl(FBIOGETCMAP, Buffer.alloc(40)), { code: 'ENOTTY' });
      await assert.rejects(fh.ioctl(FBIOBLANK, 99), { code: 'EINVAL' });
      await assert.rejects(fh.ioctl(FBIO_WAITFORVSYNC, 0), { code: 'EFAULT' });
      await assert.rejects(fh.ioctl(FBIO_WAITFORVSYNC, Buffer.from([1, 0, 0, 0])), { code: 'ENODEV' }); // CRTC 1
      await assert.rejects(pan(fh, H + 1), { code: 'EINVAL' });
      const other = await k.vfs.open('/dev/fb0', O.RDONLY);
      await other.close();
      await assert.rejects(other.ioctl(FBIOGET_VSCREENINFO, Buffer.alloc(160)), { code: 'EBADF' });
    });

    it('reads and writes framebuffer memory as fb_read/fb_write do', async () => {
      const fb = await fh.mmap(4096, VRAM - 4096);
      assert.equal((await fh.write(Buffer.from([1, 2, 3, 4]), 0, 4, VRAM - 8)).bytesWritten, 4);
      assert.deepEqual([...fb.subarray(4088, 4092)], [1, 2, 3, 4]);
      const b = Buffer.alloc(16);
      assert.equal((await fh.read(b, 0, 16, VRAM - 8)).bytesRead, 8, 'a read stops at the end');
      assert.equal((await fh.read(b, 0, 16, VRAM)).bytesRead, 0, 'EOF at smem_len');
      assert.equal((await fh.write(Buffer.alloc(16, 7), 0, 16, VRAM - 4)).bytesWritten, 4, 'a short write');
      await assert.rejects(fh.write(Buffer.alloc(4), 0, 4, VRAM), { code: 'ENOSPC' });
      await assert.rejects(fh.write(Buffer.alloc(4), 0, 4, VRAM + 1), { code: 'EFBIG' });
      assert.equal(await fh.seek(0x100, 0), 0x100);
    });

    it('maps the framebuffer only: a mapping past smem_len is EINVAL', async () => {
      assert.equal((await fh.mmap(VRAM, 0)).length, VRAM);
      await assert.rejects(fh.mmap(VRAM + 4096, 0), { code: 'EINVAL' });
      await assert.rejects(fh.mmap(4096, VRAM), { code: 'EINVAL' });
      await assert.rejects(fh.mmap(8192, VRAM - 4096), { code: 'EINVAL' });
    });

    it('maps device memory only inside the binding device\'s RAM windows', () => {
      const dm = (k as unknown as { dm: { containers: Map<string, { id: string; bindings: Map<number, unknown> }>; services: KernelServices } }).dm;
      const c = [...dm.containers.values()][0]!;
      const b = [...c.bindings.keys()][0]!;
      const map = (binding: number, addr: number, size: number) => dm.services.mapDeviceMemory(c.id, binding, 9000 + addr % 997, addr, size);
      assert.equal(map(b, 0x30000000, 4096).status, -22, 'the register window is not RAM');
      assert.equal(map(b, 0x40000000 + VRAM - 4096, 8192).status, -22, 'past the VRAM window');
      assert.equal(map(b, 0x40000100, 4096).status, -22, 'not page-aligned');
      assert.equal(map(b + 1000, 0x40000000, 4096).status, -19, 'not a binding of this container');
      const ok = map(b, 0x40001000, 4096);
      assert.equal(ok.status, 0);
      new Uint8Array(ok.buffer!)[0] = 0xa5; // the same bytes the device (and every mapping) has
      return fh.read(Buffer.alloc(1), 0, 1, 0x1000).then((r) => assert.equal(r.buffer[0], 0xa5));
    });

    it('blanks the display without losing the picture', async () => {
      draw(await fh.mmap(SCREEN, 0), 0); // the mode changes above cleared the first screen (std-VGA does)
      await waitVsync(fh);
      await fh.ioctl(FBIOBLANK, 4);
      await assert.rejects(shot(k, 'scanout'), { code: 'ENODATA' });
      { const m = await shot(k, 'fb'); assert.equal(firstMismatch(m.img.rgba, 0), -1, `the memory is intact (${m.xoffset},${m.yoffset} ${m.img.width}x${m.img.height})`); }
      await fh.ioctl(FBIOBLANK, 0);
      assert.equal(firstMismatch((await shot(k, 'scanout')).img.rgba, 0), -1, 'the same picture comes back');
    });
  });
}

describe('bochs after a driver crash', () => {
  for (const ic of ['ic0', 'ic2'] as IsolationClass[]) it(`comes back in ${ic}: the device is reset, re-probed, /dev/fb0 serves the default mode again`, async () => {
    const k = await bootPlatform({ platform: PLATFORM, isolation: ic });
    try {
      let fh = await k.vfs.open('/dev/fb0', O.RDWR);
      const v = await getVar(fh);
      Object.assign(v, { xres: 800, yres: 600, xres_virtual: 800, yres_virtual: 600 });
      await putVar(fh, v);
      await fh.close();
      const dm = (k as unknown as { dm: { containers: Map<string, { host: { kill(e: unknown): void } }> } }).dm;
      for (const c of dm.containers.values()) c.host.kill({ reason: 'crash', detail: 'test' });
      fh = await k.vfs.open('/dev/fb0', O.RDWR); // waits for the restart
      const again = await getVar(fh);
      assert.deepEqual([again.xres, again.yres, again.yres_virtual], [W, H, 2 * H]);
      assert.deepEqual([...k.devices()[0]!.nodes].sort(), ['/dev/dri/card0', '/dev/fb0']); // fbdev + DRM (param drm)
      draw(await fh.mmap(SCREEN, 0), 0);
      assert.equal((await waitVsync(fh)).ret, 0);
      assert.equal(firstMismatch((await shot(k, 'scanout')).img.rgba, 0), -1);
      await fh.close();
    } finally {
      await k.shutdown();
    }
  });
});

describe('hmdrv screenshot through the control socket', () => {
  let k: BootedKernel;
  let server: ControlServer;
  let dir: string;
  const run = (...args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [join(ROOT, 'cli', 'bin', 'run.js'), ...args, '--socket', join(dir, 'control.sock')],
      { env: { ...process.env, NO_COLOR: '1' }, timeout: 30_000, encoding: 'utf8' },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hmfb-'));
    k = await bootPlatform({ platform: PLATFORM, isolation: 'ic1' });
    server = await ControlServer.listen(k, join(dir, 'control.sock'));
    const fh = await k.vfs.open('/dev/fb0', O.RDWR);
    const fb = await fh.mmap(2 * SCREEN, 0);
    draw(fb, 0);
    draw(fb, 1);
    await pan(fh, H, FB_ACTIVATE_VBL);
    await fh.close();
  });
  after(async () => {
    await server?.close();
    await k?.shutdown();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a valid PNG of what is on screen, and of the framebuffer', async () => {
    for (const source of ['scanout', 'fb']) {
      const file = join(dir, `${source}.png`);
      const r = await run('screenshot', '/dev/fb0', file, '--source', source);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`1024x768 PNG, \\d+ bytes \\(${source}`));
      const img = decodePng(await readFile(file));
      assert.deepEqual([img.width, img.height, img.chunks], [W, H, ['IHDR', 'IDAT', 'IEND']]);
      assert.equal(firstMismatch(img.rgba, 1), -1, `${source}: screen 1, pixel by pixel`);
      const check = spawnSync('pngcheck', [file], { encoding: 'utf8' });
      if (check.error === undefined) assert.equal(check.status, 0, check.stdout + check.stderr);
    }
  });

  it('fails cleanly for a node that is not a display', async () => {
    const r = await run('screenshot', '/dev/nope', join(dir, 'x.png'));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ENOENT|ENODEV/);
  });
});
