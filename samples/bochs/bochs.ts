/**
 * bochs: a Linux-style driver for the Bochs DISPI display (devices/display), shaped like the
 * hardware half of drivers/gpu/drm/tiny/bochs.c (bochs_hw_init, bochs_hw_setmode,
 * bochs_hw_setbase, bochs_hw_setformat) with an fbdev front instead of DRM.
 *
 * - probe: ioremap of the registers (reg[0], BAR2) and memremap of VRAM (reg[1], BAR0), the ID
 *   check, the VRAM size from VIDEO_MEMORY_64K (checked against the window), the QEXT byte order,
 *   then the default mode (module params defx × defy, 32 bpp) with a virtual height of two
 *   screens for double buffering, and /dev/fbN.
 * - Mode setting through DISPI, in bochs_hw_setmode's order (ENABLE 0, BPP, XRES, YRES, BANK,
 *   VIRT_WIDTH, VIRT_HEIGHT, X_OFFSET, Y_OFFSET, ENABLE | LFB). fb_check_var refuses what the
 *   hardware cannot show: depths other than 16/24/32, below 64×64, past the DISPI maximums, or
 *   more than VRAM.
 * - Panning (page flips) through bochs_hw_setbase: VIRT_WIDTH, X_OFFSET, Y_OFFSET; the display
 *   latches them at the next vblank. With FB_ACTIVATE_VBL the pan waits for that (FLIP_DONE).
 * - FBIO_WAITFORVSYNC sleeps on a wait queue the vblank IRQ handler wakes, with a timeout
 *   (-ETIMEDOUT, e.g. while the display is blanked: it has no vblanks then). The vblank
 *   interrupt is unmasked only while someone waits (as DRM's vblank_get/put). FBIOGET_VBLANK
 *   reports the hardware frame counter and scanline.
 * - Blanking turns scanout off (ENABLE 0) and back on without clearing VRAM (NOCLEARMEM):
 *   bochs-display has no VGA attribute controller for bochs_hw_blank's palette trick.
 *
 * DRM (module param `drm`, default on; Linux's bochs-drm also offers fbdev emulation): /dev/dri/card0
 * beside /dev/fb0, a simple display pipe (one CRTC, a virtual connector with the VESA modes of
 * the fb modedb, XRGB8888 and RGB565), dumb buffers in the VRAM above the fbdev framebuffer's
 * default double-buffered size (fbdev modes are kept inside that reservation), page flips
 * through bochs_hw_setbase completed on FLIP_DONE with a flip-complete event, vblank events and
 * waits on the VBLANK interrupt with FRAME_COUNT as the hardware counter. While DRM shows a
 * mode, fbdev mode changes, pans and blanking are -EBUSY (as fbdev emulation refuses them
 * while a DRM master holds the display); when DRM turns the pipe off (SETCRTC without a mode, or
 * its framebuffer removed, e.g. by the last close) the fbdev mode and picture come back.
 *
 * Runs unchanged in IC0, IC1 and IC2; in each the framebuffer the caller maps is VRAM itself.
 */
import {
  copy_to_user, dev_err, dev_err_probe, dev_info, dev_warn, devm_add_action_or_reset, devm_ioremap_resource,
  devm_memremap, devm_register_framebuffer, devm_request_irq, EFAULT, EINVAL, ENODEV, ENOMEM, ETIMEDOUT, ENOTTY,
  fb_add_videomode, fb_set_var, fb_vblank_to_bytes, fb_videomode_to_var, framebuffer_alloc, get_user, init_waitqueue_head,
  IORESOURCE_MEM, IRQ_HANDLED, IRQ_NONE, IS_ERR, MEMREMAP_WC, module_param, module_platform_driver, platform_get_irq,
  platform_get_resource, readl, readw, vesa_modes, wait_event_interruptible_timeout, wake_up, writel, writew,
  FB_ACCEL_NONE, FB_ACTIVATE_NOW, FB_ACTIVATE_VBL, FB_BLANK_UNBLANK, FB_TYPE_PACKED_PIXELS, FB_VISUAL_TRUECOLOR,
  FB_VBLANK_HAVE_COUNT, FB_VBLANK_HAVE_VBLANK, FB_VBLANK_HAVE_VCOUNT, FB_VBLANK_VBLANKING, FBINFO_HWACCEL_XPAN,
  FBINFO_HWACCEL_YPAN, FBIO_WAITFORVSYNC, FBIOGET_VBLANK, FbBitfield, FbVarScreeninfo, FbVblank, FbVideomode,
  type Device, type FbInfo, type FbOps, type IoMem, type PlatformDevice, type UserPtr, type WaitQueueHead,
  EBUSY, DRM_FORMAT_RGB565, DRM_FORMAT_XRGB8888, DRM_MODE_CONNECTOR_VIRTUAL, MODE_BAD, MODE_MEM, MODE_OK,
  devm_drm_dev_alloc, drm_connector_helper_add, drm_connector_init, drm_crtc_handle_vblank, drm_crtc_send_vblank_event,
  drm_crtc_vblank_get, drm_crtc_vblank_put, drm_dev_register, drm_mode_from_fb_videomode, drm_mode_probed_add,
  drm_set_preferred_mode, drm_simple_display_pipe_init, drm_vblank_init, drmm_vram_helper_init,
  type DrmDriver, type DrmPendingVblankEvent, type DrmPlaneState, type DrmSimpleDisplayPipe, type DrmSimpleDisplayPipeFuncs,
} from '../../linux-kapi/index.js';
import {
  BOCHS_REGS, BOCHS_VRAM, DISPI_ENABLE, DISPI_ID, DISPI_INDEX, DISPI_LIMITS, QEXT_BYTE_ORDER, dispiOffset,
} from '../../devices/display/bochs.regs.js';

const A = BOCHS_REGS.offsets;
const IRQ_VBLANK = BOCHS_REGS.bits.IMSC.VBLANK;
const IRQ_FLIP = BOCHS_REGS.bits.IMSC.FLIP_DONE;
/** How long FBIO_WAITFORVSYNC and a FB_ACTIVATE_VBL pan wait for the display (ms). */
const VSYNC_TIMEOUT_MS = 1000;

interface HwMode { xres: number; yres: number; bpp: number; xvirt: number; yvirt: number }

interface Bochs {
  dev: Device;
  mmio: IoMem;
  /** VRAM as the CPU sees it (memremap of BAR0). */
  fb_map: Uint8Array;
  fb_base: number;
  fb_size: number;
  /** What the DISPI registers hold now (null: nothing programmed yet). */
  hw: HwMode | null;
  blanked: boolean;
  /** IMSC as written, and how many waiters need each interrupt unmasked. */
  imsc: number;
  users: Map<number, number>;
  /** Interrupts seen since probe: the waiters' sequence numbers. */
  vblanks: number;
  flips: number;
  wq: WaitQueueHead;
  /** The fbdev framebuffer (its mode comes back when DRM turns its pipe off). */
  info: FbInfo | null;
  /** VRAM fbdev may use: all of it without DRM, else what precedes the dumb-buffer pool. */
  fb_limit: number;
  /** DRM: the pipe, whether it shows a mode (fbdev then stands aside), the flip being latched. */
  pipe: DrmSimpleDisplayPipe | null;
  drm_on: boolean;
  flip_event: DrmPendingVblankEvent | null;
  /** FRAME_COUNT up to which a FLIP_DONE may have latched a half-written base (see bochs_hw_setbase). */
  flip_stale_until: number | null;
}

const bochs_dispi_write = (b: Bochs, reg: number, val: number): void => writew(val, b.mmio, dispiOffset(reg));

// ---- hardware (bochs.c's bochs_hw_*) ------------------------------------------------------------

/** bochs_hw_setmode: the DISPI sequence, with the virtual size and offsets of `v`. */
function bochs_hw_setmode(b: Bochs, v: FbVarScreeninfo, enable_flags = 0): void {
  bochs_dispi_write(b, DISPI_INDEX.ENABLE, 0);
  bochs_dispi_write(b, DISPI_INDEX.BPP, v.bits_per_pixel);
  bochs_dispi_write(b, DISPI_INDEX.XRES, v.xres);
  bochs_dispi_write(b, DISPI_INDEX.YRES, v.yres);
  bochs_dispi_write(b, DISPI_INDEX.BANK, 0);
  bochs_dispi_write(b, DISPI_INDEX.VIRT_WIDTH, v.xres_virtual);
  bochs_dispi_write(b, DISPI_INDEX.VIRT_HEIGHT, v.yres_virtual);
  bochs_dispi_write(b, DISPI_INDEX.X_OFFSET, v.xoffset);
  bochs_dispi_write(b, DISPI_INDEX.Y_OFFSET, v.yoffset);
  if (!b.blanked) bochs_dispi_write(b, DISPI_INDEX.ENABLE, DISPI_ENABLE.ENABLED | DISPI_ENABLE.LFB_ENABLED | enable_flags);
  // Writes are posted: read back so the mode (and the display's clearing of the first screen
  // on enable) is in place before set_par returns and anyone draws into the new mode.
  readw(b.mmio, dispiOffset(DISPI_INDEX.ENABLE));
  b.hw = { xres: v.xres, yres: v.yres, bpp: v.bits_per_pixel, xvirt: v.xres_virtual, yvirt: v.yres_virtual };
}

/**
 * bochs_hw_setbase: a flip is three register writes, latched together at the next vblank.
 * The three are not atomic: a vblank that falls between them latches half a base and raises
 * FLIP_DONE early. FRAME_COUNT read before and after (the read also waits for the writes) tells
 * whether one may have; if so the flip is re-armed (the shadow is complete now, so the next
 * latch is whole) and FLIP_DONEs up to that frame are not taken as this flip's completion.
 */
function bochs_hw_setbase(b: Bochs, x: number, y: number, stride: number, bpp: number): void {
  const offset = y * stride + x * (bpp / 8);
  const before = readl(b.mmio, A.FRAME_COUNT);
  bochs_dispi_write(b, DISPI_INDEX.VIRT_WIDTH, stride * 8 / bpp);
  bochs_dispi_write(b, DISPI_INDEX.X_OFFSET, (offset % stride) * 8 / bpp);
  bochs_dispi_write(b, DISPI_INDEX.Y_OFFSET, Math.floor(offset / stride));
  const after = readl(b.mmio, A.FRAME_COUNT);
  if (after !== before) {
    bochs_dispi_write(b, DISPI_INDEX.Y_OFFSET, Math.floor(offset / stride));
    b.flip_stale_until = after;
  }
}

/** A FLIP_DONE seen now completes the last base written (false: it latched a half-written one). */
function bochs_flip_is_whole(b: Bochs): boolean {
  if (b.flip_stale_until === null) return true;
  if (((readl(b.mmio, A.FRAME_COUNT) - b.flip_stale_until) | 0) <= 0) return false;
  b.flip_stale_until = null;
  return true;
}

/** bochs_hw_setformat: little-endian XRGB in VRAM (QEXT byte order), when the device has QEXT. */
function bochs_hw_setformat(b: Bochs): void {
  if (readl(b.mmio, A.QEXT_SIZE) >= 8) writel(QEXT_BYTE_ORDER.LITTLE_ENDIAN, b.mmio, A.BYTE_ORDER);
}

/** enable_vblank/disable_vblank, counted: unmasked while anyone waits; a stale status is cleared first. */
function bochs_irq_get(b: Bochs, bit: number): void {
  const n = b.users.get(bit) ?? 0;
  b.users.set(bit, n + 1);
  if (n > 0) return;
  writel(bit, b.mmio, A.ICR);
  b.imsc |= bit;
  writel(b.imsc, b.mmio, A.IMSC);
}

function bochs_irq_put(b: Bochs, bit: number): void {
  const n = (b.users.get(bit) ?? 1) - 1;
  b.users.set(bit, n);
  if (n > 0) return;
  b.imsc &= ~bit;
  writel(b.imsc, b.mmio, A.IMSC);
}

/** Sleeps until `count()` moves past its value now (an interrupt of `bit`), or the timeout. */
async function bochs_wait_irq(b: Bochs, bit: number, count: () => number): Promise<number> {
  const seen = count();
  try {
    const left = await wait_event_interruptible_timeout(b.wq, () => count() !== seen, VSYNC_TIMEOUT_MS);
    return left > 0 ? 0 : -ETIMEDOUT;
  } finally {
    bochs_irq_put(b, bit);
  }
}

/** The vblank block's handler: count, acknowledge (W1C what was seen), wake the waiters. */
function bochs_irq(_irq: number, devId: unknown): number {
  const b = devId as Bochs;
  const mis = readl(b.mmio, A.MIS);
  if (!mis) return IRQ_NONE;
  writel(mis, b.mmio, A.ICR);
  if (mis & IRQ_VBLANK) b.vblanks++;
  const flip = (mis & IRQ_FLIP) !== 0 && bochs_flip_is_whole(b);
  if (flip) b.flips++;
  if (b.pipe && b.drm_on) {
    const crtc = b.pipe.crtc;
    if (mis & IRQ_VBLANK) drm_crtc_handle_vblank(crtc);
    if (flip) bochs_drm_flip_done(b);
  }
  wake_up(b.wq);
  return IRQ_HANDLED;
}

// ---- fb_ops ------------------------------------------------------------------------------------

const bf = (offset: number, length: number): FbBitfield => new FbBitfield(offset, length, 0);

function bochs_fb_check_var(v: FbVarScreeninfo, info: FbInfo): number {
  const b = info.par as Bochs;
  if (b.drm_on) return -EBUSY; // DRM shows a mode
  if (!DISPI_LIMITS.BPP.includes(v.bits_per_pixel)) return -EINVAL;
  if (v.xres < DISPI_LIMITS.MIN_XRES || v.yres < DISPI_LIMITS.MIN_YRES) return -EINVAL;
  if (v.xres > DISPI_LIMITS.MAX_XRES || v.yres > DISPI_LIMITS.MAX_YRES) return -EINVAL;
  v.xres_virtual = Math.max(v.xres_virtual, v.xres);
  v.yres_virtual = Math.max(v.yres_virtual, v.yres);
  if (v.xres_virtual > DISPI_LIMITS.MAX_XRES || v.yres_virtual > 0xffff) return -EINVAL;
  if (v.xres_virtual * (v.bits_per_pixel / 8) * v.yres_virtual > b.fb_limit) return -EINVAL;
  if (v.xoffset + v.xres > v.xres_virtual || v.yoffset + v.yres > v.yres_virtual) return -EINVAL;
  // The pixel format follows from the depth: RGB565, RGB888 (bytes B, G, R), XRGB8888.
  if (v.bits_per_pixel === 16) [v.red, v.green, v.blue] = [bf(11, 5), bf(5, 6), bf(0, 5)];
  else [v.red, v.green, v.blue] = [bf(16, 8), bf(8, 8), bf(0, 8)];
  v.transp = bf(0, 0);
  v.grayscale = 0;
  v.nonstd = 0;
  return 0;
}

function bochs_fb_set_par(info: FbInfo): number {
  const b = info.par as Bochs;
  const v = info.var;
  info.fix.line_length = v.xres_virtual * (v.bits_per_pixel / 8);
  info.fix.visual = FB_VISUAL_TRUECOLOR;
  const h = b.hw;
  if (!h || h.xres !== v.xres || h.yres !== v.yres || h.bpp !== v.bits_per_pixel || h.xvirt !== v.xres_virtual || h.yvirt !== v.yres_virtual) {
    bochs_hw_setmode(b, v);
    dev_info(b.dev, `mode ${v.xres}x${v.yres}-${v.bits_per_pixel} (virtual ${v.xres_virtual}x${v.yres_virtual})`);
  }
  return 0;
}

async function bochs_fb_pan_display(v: FbVarScreeninfo, info: FbInfo): Promise<number> {
  const b = info.par as Bochs;
  if (b.drm_on) return -EBUSY;
  const vbl = (v.activate & FB_ACTIVATE_VBL) !== 0 && !b.blanked;
  if (vbl) bochs_irq_get(b, IRQ_FLIP); // before the writes: their FLIP_DONE must not be cleared
  bochs_hw_setbase(b, v.xoffset, v.yoffset, info.fix.line_length, info.var.bits_per_pixel);
  return vbl ? bochs_wait_irq(b, IRQ_FLIP, () => b.flips) : 0;
}

function bochs_fb_blank(blank: number, info: FbInfo): number {
  const b = info.par as Bochs;
  if (b.drm_on) return -EBUSY;
  const off = blank !== FB_BLANK_UNBLANK;
  if (off === b.blanked) return 0;
  b.blanked = off;
  bochs_dispi_write(b, DISPI_INDEX.ENABLE, off ? 0 : DISPI_ENABLE.ENABLED | DISPI_ENABLE.LFB_ENABLED | DISPI_ENABLE.NOCLEARMEM);
  readw(b.mmio, dispiOffset(DISPI_INDEX.ENABLE)); // flush: blanked (or shown) when FBIOBLANK returns
  return 0;
}

/** The 16-entry pseudo palette of truecolour consoles (16-bit components in). */
function bochs_fb_setcolreg(regno: number, red: number, green: number, blue: number, _transp: number, info: FbInfo): number {
  if (regno >= 16 || !info.pseudo_palette) return -EINVAL;
  const v = info.var;
  const c = (x: number, f: FbBitfield): number => ((x >>> (16 - f.length)) & ((1 << f.length) - 1)) << f.offset;
  info.pseudo_palette[regno] = (c(red, v.red) | c(green, v.green) | c(blue, v.blue)) >>> 0;
  return 0;
}

async function bochs_fb_ioctl(info: FbInfo, cmd: number, arg: UserPtr | number): Promise<number> {
  const b = info.par as Bochs;
  switch (cmd) {
    case FBIO_WAITFORVSYNC: {
      if (typeof arg === 'number') return -EFAULT;
      const [err, crtc] = get_user(arg, 'u32');
      if (err) return -EFAULT;
      if (crtc !== 0) return -ENODEV; // one CRTC
      bochs_irq_get(b, IRQ_VBLANK);
      return bochs_wait_irq(b, IRQ_VBLANK, () => b.vblanks);
    }
    case FBIOGET_VBLANK: {
      if (typeof arg === 'number') return -EFAULT;
      const vb = new FbVblank();
      vb.count = readl(b.mmio, A.FRAME_COUNT);
      vb.vcount = readl(b.mmio, A.SCANLINE);
      vb.flags = FB_VBLANK_HAVE_VBLANK | FB_VBLANK_HAVE_COUNT | FB_VBLANK_HAVE_VCOUNT |
        (!b.blanked && vb.vcount >= info.var.yres ? FB_VBLANK_VBLANKING : 0);
      return copy_to_user(arg, fb_vblank_to_bytes(vb)) ? -EFAULT : 0;
    }
    default:
      return -ENOTTY;
  }
}

const bochs_fb_ops: FbOps = {
  fb_check_var: bochs_fb_check_var,
  fb_set_par: bochs_fb_set_par,
  fb_pan_display: bochs_fb_pan_display,
  fb_blank: bochs_fb_blank,
  fb_setcolreg: bochs_fb_setcolreg,
  fb_ioctl: bochs_fb_ioctl,
};

// ---- DRM (bochs-drm's simple display pipe) ----------------------------------------------------------

const bochs_drm_driver: DrmDriver = {
  name: 'bochs-drm', desc: 'bochs dispi vga interface (qemu stdvga)', date: '20130925', major: 1, minor: 0,
};

const pipeBochs = (pipe: DrmSimpleDisplayPipe): Bochs => pipe.crtc.dev.dev_private as Bochs;

/** Where plane state `ps` starts in VRAM, as DISPI's VIRT_WIDTH / X_OFFSET / Y_OFFSET. */
function bochs_plane_base(b: Bochs, ps: DrmPlaneState): { offset: number; pitch: number; cpp: number } {
  const fb = ps.fb!;
  const pitch = fb.pitches[0]!, cpp = fb.cpp;
  return { offset: fb.obj[0]!.gpu_addr - b.fb_base + fb.offsets[0]! + ps.src_y * pitch + ps.src_x * cpp, pitch, cpp };
}

/** FLIP_DONE: the new base is latched; the flip's event goes out with this vblank's sequence. */
function bochs_drm_flip_done(b: Bochs): void {
  const e = b.flip_event;
  if (!e || !b.pipe) return;
  b.flip_event = null;
  drm_crtc_send_vblank_event(b.pipe.crtc, e);
  drm_crtc_vblank_put(b.pipe.crtc);
  bochs_irq_put(b, IRQ_FLIP);
}

const bochs_pipe_funcs: DrmSimpleDisplayPipeFuncs = {
  mode_valid(pipe, mode) {
    const b = pipeBochs(pipe);
    if (mode.hdisplay < DISPI_LIMITS.MIN_XRES || mode.vdisplay < DISPI_LIMITS.MIN_YRES) return MODE_BAD;
    if (mode.hdisplay > DISPI_LIMITS.MAX_XRES || mode.vdisplay > DISPI_LIMITS.MAX_YRES) return MODE_BAD;
    return mode.hdisplay * mode.vdisplay * 4 > (b.fb_size - b.fb_limit) ? MODE_MEM : MODE_OK;
  },
  check(pipe, ps) {
    if (!ps.fb) return 0;
    const { offset, pitch, cpp } = bochs_plane_base(pipeBochs(pipe), ps);
    if (pitch % cpp || (offset % pitch) % cpp) return -EINVAL;       // DISPI counts pixels
    if (pitch / cpp > DISPI_LIMITS.MAX_XRES || Math.floor(offset / pitch) > 0xffff) return -EINVAL;
    return 0;
  },
  enable(pipe, cs, ps) {
    const b = pipeBochs(pipe);
    const m = cs.mode!;
    const { offset, pitch, cpp } = bochs_plane_base(b, ps);
    const v = new FbVarScreeninfo();
    Object.assign(v, {
      xres: m.hdisplay, yres: m.vdisplay, bits_per_pixel: cpp * 8, xres_virtual: pitch / cpp,
      yres_virtual: Math.min(0xffff, Math.floor(offset / pitch) + m.vdisplay), xoffset: (offset % pitch) / cpp, yoffset: Math.floor(offset / pitch),
    });
    b.drm_on = true;
    b.blanked = false;
    bochs_hw_setmode(b, v, DISPI_ENABLE.NOCLEARMEM); // keep fbdev's picture in VRAM for later
    dev_info(b.dev, `drm: mode ${m.name} ${m.hdisplay}x${m.vdisplay}-${cpp * 8} at VRAM offset 0x${offset.toString(16)}`);
  },
  disable(pipe) {
    const b = pipeBochs(pipe);
    bochs_drm_flip_done(b);
    b.drm_on = false;
    const info = b.info!;
    b.blanked = info.blank !== FB_BLANK_UNBLANK;
    bochs_hw_setmode(b, info.var, DISPI_ENABLE.NOCLEARMEM); // fbdev's mode and pan position come back
    dev_info(b.dev, 'drm: pipe off, fbdev mode restored');
  },
  update(pipe) {
    const b = pipeBochs(pipe);
    const crtc = pipe.crtc;
    const ps = pipe.plane.state;
    if (!crtc.state.active || !ps.fb) return;
    const e = crtc.state.event;
    if (e) {
      crtc.state.event = null;
      bochs_drm_flip_done(b); // (none pending: the core refuses a second flip)
      if (drm_crtc_vblank_get(crtc)) {
        drm_crtc_send_vblank_event(crtc, e);
      } else {
        b.flip_event = e;
        bochs_irq_get(b, IRQ_FLIP); // before the writes: their FLIP_DONE must not be cleared
      }
    }
    const { offset, pitch, cpp } = bochs_plane_base(b, ps);
    bochs_hw_setbase(b, (offset % pitch) / cpp, Math.floor(offset / pitch), pitch, cpp * 8);
  },
  enable_vblank(pipe) {
    bochs_irq_get(pipeBochs(pipe), IRQ_VBLANK);
    return 0;
  },
  disable_vblank(pipe) {
    bochs_irq_put(pipeBochs(pipe), IRQ_VBLANK);
  },
  get_vblank_counter(pipe) {
    return readl(pipeBochs(pipe).mmio, A.FRAME_COUNT);
  },
};

/**
 * /dev/dri/cardN over the VRAM past fbdev's default framebuffer (its two screens): fbdev modes
 * stay inside that part from now on (fb_limit).
 */
async function bochs_drm_init(b: Bochs, vram_start: number): Promise<number> {
  const info = b.info!;
  const reserve = Math.ceil(info.var.xres_virtual * (info.var.bits_per_pixel / 8) * info.var.yres_virtual / 4096) * 4096;
  if (reserve >= b.fb_size) return -ENOMEM;
  const drm = devm_drm_dev_alloc(b.dev, bochs_drm_driver);
  drm.dev_private = b;
  Object.assign(drm.mode_config, {
    min_width: DISPI_LIMITS.MIN_XRES, min_height: DISPI_LIMITS.MIN_YRES, max_width: DISPI_LIMITS.MAX_XRES,
    max_height: DISPI_LIMITS.MAX_YRES, preferred_depth: 24, prefer_shadow: 0,
  });
  let err = drmm_vram_helper_init(drm, vram_start + reserve, b.fb_size - reserve, b.fb_map.subarray(reserve));
  if (err) return err;
  const connector = drm_connector_init(drm, DRM_MODE_CONNECTOR_VIRTUAL);
  drm_connector_helper_add(connector, {
    get_modes(c) {
      for (const m of vesa_modes) drm_mode_probed_add(c, drm_mode_from_fb_videomode(m));
      drm_set_preferred_mode(c, module_param('defx', 1024), module_param('defy', 768));
      return vesa_modes.length;
    },
  });
  const pipe = drm_simple_display_pipe_init(drm, bochs_pipe_funcs, [DRM_FORMAT_XRGB8888, DRM_FORMAT_RGB565], null, connector);
  if (typeof pipe === 'number') return pipe;
  b.pipe = pipe;
  err = drm_vblank_init(drm, 1);
  if (err) return err;
  b.fb_limit = reserve;
  err = await drm_dev_register(drm, 0);
  if (err) { b.fb_limit = b.fb_size; b.pipe = null; }
  return err;
}

// ---- probe -------------------------------------------------------------------------------------

/** The default mode: a VESA timing when there is one for defx × defy (so `modes` shows 60 Hz). */
function default_mode(xres: number, yres: number): FbVideomode {
  return vesa_modes.find((m) => m.xres === xres && m.yres === yres) ?? new FbVideomode(null, 60, xres, yres);
}

async function bochs_probe(pdev: PlatformDevice): Promise<number> {
  const dev = pdev.dev;
  const mmio = devm_ioremap_resource(dev, platform_get_resource(pdev, IORESOURCE_MEM, 0));
  if (IS_ERR(mmio)) return dev_err_probe(dev, mmio, 'cannot map the DISPI registers (reg[0])');
  const vram = platform_get_resource(pdev, IORESOURCE_MEM, 1);
  if (!vram) return dev_err_probe(dev, -ENODEV, 'no VRAM window (reg[1])');

  // bochs_hw_init: identify, size VRAM, map it.
  const id = readw(mmio, A.ID);
  if ((id & DISPI_ID.MASK) !== DISPI_ID.ID0) {
    dev_err(dev, `ID mismatch: 0x${id.toString(16)}`);
    return -ENODEV;
  }
  const windowSize = vram.end - vram.start + 1;
  const mem = readw(mmio, A.VIDEO_MEMORY_64K) * BOCHS_VRAM.UNIT_BYTES;
  if (mem !== windowSize) dev_warn(dev, `size mismatch: window ${windowSize} bytes, bochs ${mem} bytes`);
  const size = Math.min(mem, windowSize);
  if (size <= 0) return dev_err_probe(dev, -ENODEV, 'no VRAM');
  const fb_map = await devm_memremap(dev, vram.start, size, MEMREMAP_WC);
  if (typeof fb_map === 'number') return dev_err_probe(dev, fb_map, 'cannot map VRAM');
  const irq = platform_get_irq(pdev, 0);
  if (irq < 0) return dev_err_probe(dev, irq, 'no IRQ');

  const b: Bochs = {
    dev, mmio, fb_map, fb_base: vram.start, fb_size: size, hw: null, blanked: false,
    imsc: 0, users: new Map(), vblanks: 0, flips: 0, wq: init_waitqueue_head(),
    info: null, fb_limit: size, pipe: null, drm_on: false, flip_event: null, flip_stale_until: null,
  };
  dev_info(dev, `Found bochs VGA, ID 0x${id.toString(16)}, ${size >> 20} MiB VRAM at 0x${vram.start.toString(16)}`);
  bochs_hw_setformat(b);
  writel(0, mmio, A.IMSC);
  writel(IRQ_VBLANK | IRQ_FLIP, mmio, A.ICR);
  let err = await devm_request_irq(dev, irq, bochs_irq, 0, 'bochs', b);
  if (err) return dev_err_probe(dev, err, `cannot request IRQ ${irq}`);
  devm_add_action_or_reset(dev, () => {
    writel(0, mmio, A.IMSC);
    bochs_dispi_write(b, DISPI_INDEX.ENABLE, 0);
  });

  const info = framebuffer_alloc(0, dev);
  b.info = info;
  info.par = b;
  info.fbops = bochs_fb_ops;
  info.flags = FBINFO_HWACCEL_XPAN | FBINFO_HWACCEL_YPAN;
  info.screen_base = fb_map;
  info.screen_size = size;
  info.pseudo_palette = new Uint32Array(16);
  Object.assign(info.fix, {
    id: 'bochsfb', smem_start: vram.start, smem_len: size, type: FB_TYPE_PACKED_PIXELS, visual: FB_VISUAL_TRUECOLOR,
    xpanstep: 1, ypanstep: 1, ywrapstep: 0, accel: FB_ACCEL_NONE,
  });
  for (const m of vesa_modes) if (m.xres * m.yres * 4 <= size) fb_add_videomode(m, info.modelist);

  // The default mode, double-buffered when two screens fit.
  const v = new FbVarScreeninfo();
  fb_videomode_to_var(v, default_mode(module_param('defx', 1024), module_param('defy', 768)));
  v.bits_per_pixel = 32;
  v.height = v.width = 0xffffffff; // picture size unknown
  if (v.xres * 4 * v.yres * 2 <= size) v.yres_virtual = v.yres * 2;
  v.activate = FB_ACTIVATE_NOW;
  err = await fb_set_var(info, v);
  if (err) return dev_err_probe(dev, err, `default mode ${v.xres}x${v.yres} refused`);

  err = await devm_register_framebuffer(dev, info);
  if (err) return dev_err_probe(dev, err, 'register_framebuffer failed');
  dev_info(dev, `fb${info.node}: ${info.fix.id} frame buffer device, ${info.var.xres}x${info.var.yres}, virtual ${info.var.xres_virtual}x${info.var.yres_virtual}`);
  if (module_param('drm', true)) {
    err = await bochs_drm_init(b, vram.start);
    if (err) dev_warn(dev, `no DRM device (${err}): /dev/fb${info.node} only`);
  }
  return 0;
}

export default module_platform_driver({
  probe: bochs_probe,
  driver: { name: 'bochs', of_match_table: [{ compatible: 'hmdrv,bochs-display' }, { compatible: 'qemu,bochs-display' }] },
});
