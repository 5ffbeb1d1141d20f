/**
 * @module linux/miscdevice.h
 * Misc character devices (major 10): /dev/<name> plus /sys/class/misc/<name>.
 */
import type { Device } from './device.js';
import { adaptFileOperations, type FileOperations } from './fs.js';
import { driverEnv } from './kernel.js';
import { EINVAL } from './errno.js';

export const MISC_DYNAMIC_MINOR = 255;

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
  if (!misc.name || !misc.fops) return -EINVAL;
  const env = misc.parent?.env ?? driverEnv();
  const binding = misc.parent?.binding ?? 0;
  const inode = { i_rdev: 0 };
  // Like Linux's misc_open, open() finds file->private_data already pointing at the miscdevice.
  const ops = adaptFileOperations(env, () => misc.this_node ?? 0, misc.fops, inode, misc);
  try {
    const r = await env.registerNode(binding, {
      path: `/dev/${misc.name}`, kind: 'chr', mode: misc.mode ?? 0o600,
      major: misc.minor === MISC_DYNAMIC_MINOR ? 0 : 10, minor: misc.minor === MISC_DYNAMIC_MINOR ? 0 : misc.minor,
      className: 'misc',
    }, ops);
    misc.this_node = r.node;
    misc.minor = r.minor;
    (inode as { i_rdev: number }).i_rdev = (r.major << 8) | r.minor;
    return 0;
  } catch (e) {
    return (e as { errno?: number }).errno ?? -EINVAL;
  }
}

export async function misc_deregister(misc: MiscDevice): Promise<void> {
  if (misc.this_node === undefined) return;
  const env = misc.parent?.env ?? driverEnv();
  const node = misc.this_node;
  misc.this_node = undefined;
  await env.unregisterNode(node);
}
