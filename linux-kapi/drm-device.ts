/**
 * @module drm/drm_drv.h, drm_device.h (drm_drv.c, drm_file.c's fops) — and the DRM barrel
 * A DRM device: `struct drm_driver` (name, desc, date, version), `drm_dev_alloc` /
 * `devm_drm_dev_alloc`, `drm_dev_register` / `drm_dev_unregister`, and the file operations of
 * its primary node /dev/dri/cardN (major 226, minor N, class "drm": /sys/class/drm/cardN):
 * ioctl (drm-ioctl.ts), read and poll of events (drm-file.ts), mmap of dumb buffers
 * (drm-gem.ts). Closing a file drops its WAIT_VBLANK events, its framebuffers (turning off a
 * CRTC that shows one) and its buffer handles.
 *
 * ```ts
 * const drm = devm_drm_dev_alloc(dev, { name: 'bochs-drm', desc: 'bochs dispi vga interface', date: '20130925', major: 1, minor: 0 });
 * drmm_mode_config_init(drm);  drm.mode_config.max_width = 16000; ...
 * drmm_vram_helper_init(drm, vramBase, vramSize, vramCpuView);
 * const pipe = drm_simple_display_pipe_init(drm, funcs, formats, null, connector);
 * drm_vblank_init(drm, 1);
 * err = await drm_dev_register(drm, 0);          // /dev/dri/card0
 * // IRQ: drm_crtc_handle_vblank(pipe.crtc); drm_crtc_send_vblank_event(pipe.crtc, e)
 * ```
 *
 * Differs from Linux, and why:
 * - Minors are unique machine-wide (drivers in different containers have their own kapi):
 *   drm_dev_register takes the lowest N whose /dev/dri/cardN the kernel does not have yet.
 *   There are no render nodes (renderD128) and no control nodes.
 * - `devm_drm_dev_alloc` also unregisters the device when the binding goes (Linux drivers call
 *   drm_dev_unregister from remove), so a devm-only driver leaves nothing behind.
 * - `fops` in drm_driver is not needed: the core serves the node (DEFINE_DRM_GEM_FOPS's set).
 */
import type { Device } from './device.js';
import { dev_err } from './device.js';
import { EINVAL, ENODEV, ENXIO } from './errno.js';
import { Errno } from '../framework/errors/errno.js';
import { adaptFileOperations, type File, type FileOperations } from './fs.js';
import { mutex_lock, mutex_unlock } from './mutex.js';
import { MKDEV } from './cdev.js';
import { init_waitqueue_head, wake_up_interruptible, type WaitQueueHead } from './wait.js';
import { DrmFile, drm_poll, drm_read } from './drm-file.js';
import { drm_gem_mmap, drm_gem_release, type DrmGemObject, type DrmVramMm } from './drm-gem.js';
import { DrmModeConfig, drm_fb_release } from './drm-mode.js';
import { drm_vblank_release_file, type DrmVblankCrtc } from './drm-vblank.js';
import { drm_ioctl } from './drm-ioctl.js';
import { simple_pipe_disable, type DrmSimpleDisplayPipe } from './drm-simple-kms.js';
import { DRM_MAJOR, DRM_MAX_MINOR } from './drm-uapi.js';

export * from './drm-uapi.js';
export * from './drm-file.js';
export * from './drm-gem.js';
export * from './drm-mode.js';
export * from './drm-vblank.js';
export * from './drm-simple-kms.js';
export { drm_ioctl } from './drm-ioctl.js';

export const DRIVER_GEM = 1 << 0, DRIVER_MODESET = 1 << 1, DRIVER_RENDER = 1 << 3, DRIVER_ATOMIC = 1 << 4;

/** struct drm_driver: what user space learns from DRM_IOCTL_VERSION, and the feature flags. */
export interface DrmDriver {
  name: string;
  desc: string;
  date: string;
  major: number;
  minor: number;
  patchlevel?: number;
  driver_features?: number;
  /** Called when the last file of the device is closed (after its framebuffers are gone). */
  lastclose?(dev: DrmDevice): void | Promise<void>;
  /** Kept for the signature: the core serves the node (see the module header). */
  fops?: unknown;
}

/** struct drm_device. */
export class DrmDevice {
  dev_private: unknown = null;
  readonly mode_config = new DrmModeConfig();
  vram: DrmVramMm | null = null;
  /** GEM objects by fake mmap offset (pages). */
  readonly vma_objects = new Map<number, DrmGemObject>();
  vblank: DrmVblankCrtc[] = [];
  readonly pipes: DrmSimpleDisplayPipe[] = [];
  /** Woken when a flip completes. */
  readonly flip_wq: WaitQueueHead = init_waitqueue_head();
  readonly filelist = new Set<DrmFile>();
  open_count = 0;
  /** The primary node: cardN. */
  primary: { index: number; node: number } | null = null;
  registered = false;
  unplugged = false;
  constructor(readonly dev: Device, readonly driver: DrmDriver) {}
}

/** drm_dev_alloc(driver, parent): the device (not yet visible). */
export function drm_dev_alloc(driver: DrmDriver, parent: Device): DrmDevice {
  return new DrmDevice(parent, driver);
}

/** devm_drm_dev_alloc(parent, driver): unregistered with the binding (see the module header). */
export function devm_drm_dev_alloc(parent: Device, driver: DrmDriver): DrmDevice {
  const d = drm_dev_alloc(driver, parent);
  parent.devres.push(() => drm_dev_unregister(d));
  return d;
}

/** drmm_mode_config_init: 0 (the mode config is part of the device here). */
export const drmm_mode_config_init = (_dev: DrmDevice): number => 0;
/** drm_mode_config_reset: every CRTC starts off. */
export const drm_mode_config_reset = (_dev: DrmDevice): void => undefined;

const drmOf = (filp: File): { dev: DrmDevice; file: DrmFile } => filp.private_data as { dev: DrmDevice; file: DrmFile };

function drm_fops(dev: DrmDevice): FileOperations {
  return {
    open: (_inode, filp) => {
      if (dev.unplugged || !dev.registered) return -ENODEV;
      const file = new DrmFile(filp);
      filp.private_data = { dev, file };
      dev.filelist.add(file);
      dev.open_count++;
      return 0;
    },
    release: async (_inode, filp) => {
      const { file } = drmOf(filp);
      file.closed = true;
      wake_up_interruptible(file.event_wait);
      drm_vblank_release_file(dev, file);
      await mutex_lock(dev.mode_config.mutex);
      try {
        await drm_fb_release(file);
        drm_gem_release(file);
      } finally {
        mutex_unlock(dev.mode_config.mutex);
      }
      dev.filelist.delete(file);
      if (--dev.open_count === 0 && !dev.unplugged) await dev.driver.lastclose?.(dev);
      return 0;
    },
    read: (filp, buf, count, ppos) => (dev.unplugged ? -ENODEV : drm_read(drmOf(filp).file, buf, count, ppos)),
    poll: (filp) => drm_poll(drmOf(filp).file, filp),
    unlocked_ioctl: (filp, cmd, arg) => drm_ioctl(dev, drmOf(filp).file, cmd, arg),
    mmap: (filp, vma) => (dev.unplugged ? -ENODEV : drm_gem_mmap(dev, drmOf(filp).file, vma)),
  };
}

/** drm_dev_register(dev, flags): /dev/dri/cardN. 0, -EINVAL (registered already), -ENXIO (no minor), -errno. */
export async function drm_dev_register(dev: DrmDevice, _flags: number): Promise<number> {
  if (dev.registered || dev.unplugged) return -EINVAL;
  const env = dev.dev.env;
  const inode = { i_rdev: 0 };
  const ops = adaptFileOperations(env, () => dev.primary?.node ?? 0, drm_fops(dev), inode, dev);
  for (let i = 0; i < DRM_MAX_MINOR; i++) {
    let node: number;
    try {
      node = (await env.registerNode(dev.dev.binding, {
        path: `/dev/dri/card${i}`, kind: 'chr', mode: 0o660, major: DRM_MAJOR, minor: i, className: 'drm',
      }, ops)).node;
    } catch (e) {
      const err = (e as { errno?: number }).errno ?? -EINVAL;
      if (err === -Errno.EEXIST) continue; // another container's cardN
      dev_err(dev.dev, `drm: cannot register /dev/dri/card${i}: ${err}`);
      return err;
    }
    dev.primary = { index: i, node };
    inode.i_rdev = MKDEV(DRM_MAJOR, i);
    dev.registered = true;
    env.log(6, `[drm] Initialized ${dev.driver.name} ${dev.driver.major}.${dev.driver.minor}.${dev.driver.patchlevel ?? 0} ${dev.driver.date} for ${dev.dev.init_name} on minor ${i}`, dev.dev.binding);
    return 0;
  }
  return -ENXIO;
}

/** drm_dev_unregister: the pipes go off, the node goes, open files see -ENODEV. */
export async function drm_dev_unregister(dev: DrmDevice): Promise<void> {
  if (!dev.registered) return;
  dev.registered = false;
  dev.unplugged = true;
  for (const p of dev.pipes) await simple_pipe_disable(p).catch(() => undefined);
  for (const f of dev.filelist) { f.closed = true; wake_up_interruptible(f.event_wait); }
  if (dev.primary) await dev.dev.env.unregisterNode(dev.primary.node).catch(() => undefined);
}

/** drm_dev_unplug: the same as unregister here (no hotplug beyond the binding going). */
export const drm_dev_unplug = drm_dev_unregister;
