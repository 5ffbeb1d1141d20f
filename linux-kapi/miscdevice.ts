/**
 * @module linux/miscdevice.h
 * Misc character devices (major 10): /dev/<name> plus /sys/class/misc/<name>.
 */
import type { Device } from './device.js';
import { adaptFileOperations, type FileOperations } from './fs.js';
import { driverEnv } from './kernel.js';
import { EINVAL } from './errno.js';
import { MKDEV } from './cdev.js';
import { debug_site } from './debug.js';
import { track_resource, untrack_resource, type TrackedResource } from './unbind-check.js';
import { might_sleep } from './preempt.js';

export const MISC_DYNAMIC_MINOR = 255;

/** Registrations the debug mode's unbind check knows about. */
const trackedOf = new WeakMap<MiscDevice, TrackedResource>();

export interface MiscDevice {
  minor: number;
  name: string;
  fops: FileOperations;
  /** The parent device (set it to &pdev->dev so the node is released with the binding). */
  parent?: Device;
  /** Node permissions (Linux: umode_t mode), default 0600. */
  mode?: number;
  /** Set by misc_register. */
  this_node?: number;
}

export async function misc_register(misc: MiscDevice): Promise<number> {
  might_sleep('misc_register()');
  if (!misc.name || !misc.fops) return -EINVAL;
  const env = misc.parent?.env ?? driverEnv();
  const binding = misc.parent?.binding ?? 0;
  const inode = { i_rdev: 0 };
  // Like Linux's misc_open, open() finds file->private_data already pointing at the miscdevice.
  const base = adaptFileOperations(env, () => misc.this_node ?? 0, misc.fops, inode, misc);
  // The kernel may open the node as soon as it exists, before this function has learnt its
  // minor (the container serves the open first): such an open waits for the registration to
  // finish, so the driver's open sees misc.minor and iminor(inode) set, as on Linux.
  let registered = false;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => { finish = resolve; });
  const open = base.open;
  const ops = open ? { ...base, open: (f: Parameters<typeof open>[0]) => (registered ? open(f) : done.then(() => open(f))) } : base;
  try {
    const r = await env.registerNode(binding, {
      path: `/dev/${misc.name}`, kind: 'chr', mode: misc.mode ?? 0o600,
      major: misc.minor === MISC_DYNAMIC_MINOR ? 0 : 10, minor: misc.minor === MISC_DYNAMIC_MINOR ? 0 : misc.minor,
      className: 'misc',
    }, ops);
    misc.this_node = r.node;
    misc.minor = r.minor;
    (inode as { i_rdev: number }).i_rdev = MKDEV(r.major, r.minor);
    registered = true;
    finish();
    if (misc.parent) {
      trackedOf.set(misc, track_resource(misc.parent, { kind: 'misc device', name: `/dev/${misc.name}`, site: debug_site(env),
        hint: 'misc_deregister missing in remove (or use devm_add_action)' }));
    }
    return 0;
  } catch (e) {
    finish();
    return (e as { errno?: number }).errno ?? -EINVAL;
  }
}

export async function misc_deregister(misc: MiscDevice): Promise<void> {
  if (misc.this_node === undefined) return;
  const env = misc.parent?.env ?? driverEnv();
  const node = misc.this_node;
  misc.this_node = undefined;
  if (misc.parent) untrack_resource(misc.parent, trackedOf.get(misc));
  await env.unregisterNode(node);
}
