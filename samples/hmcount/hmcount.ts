/**
 * hmcount: a counter as a misc character device.
 *   read   -> the count as text ("10\n")
 *   write  -> adds the number written ("5", "-3")
 *   ioctl  -> HMCOUNT_IOC_GET copies the count out as an s64, HMCOUNT_IOC_RESET zeroes it
 */
import {
  _IO, _IOR, copy_from_user, copy_to_user, put_user, dev_info, dev_err_probe, devm_add_action_or_reset,
  misc_register, misc_deregister, module_platform_driver, of_property_read_u32, MISC_DYNAMIC_MINOR,
  EFAULT, EINVAL, ENOTTY,
  type File, type FileOperations, type Loff, type MiscDevice, type PlatformDevice, type UserPtr,
} from '../../linux-kapi/index.js';

export const HMCOUNT_IOC_RESET = _IO('C', 0);
export const HMCOUNT_IOC_GET = _IOR('C', 1, 8);

/** One counter per device. It *is* the miscdevice, so file->private_data points at it. */
interface Counter extends MiscDevice {
  count: number;
}

function hmcount_read(filp: File, buf: UserPtr, count: number, ppos: Loff): number {
  const c = filp.private_data as Counter;
  const text = new TextEncoder().encode(`${c.count}\n`);
  if (ppos.value >= text.length) return 0;                 // EOF
  const chunk = text.subarray(ppos.value, ppos.value + count);
  if (copy_to_user(buf, chunk)) return -EFAULT;
  ppos.value += chunk.length;
  return chunk.length;
}

function hmcount_write(filp: File, buf: UserPtr, count: number, _ppos: Loff): number {
  const c = filp.private_data as Counter;
  if (count > 32) return -EINVAL;
  const kbuf = new Uint8Array(count);
  if (copy_from_user(kbuf, buf, count)) return -EFAULT;
  const text = new TextDecoder().decode(kbuf).trim();
  if (!/^-?\d+$/.test(text)) return -EINVAL;               // kstrtoint's job
  c.count += Number(text);
  return count;
}

function hmcount_ioctl(filp: File, cmd: number, arg: UserPtr | number): number {
  const c = filp.private_data as Counter;
  switch (cmd) {
    case HMCOUNT_IOC_RESET:
      c.count = 0;
      return 0;
    case HMCOUNT_IOC_GET:
      if (typeof arg === 'number') return -EFAULT;         // an integer is not a buffer
      return put_user(BigInt(c.count), arg, 's64');        // 0 or -EFAULT
    default:
      return -ENOTTY;
  }
}

const hmcount_fops: FileOperations = {
  read: hmcount_read,
  write: hmcount_write,
  unlocked_ioctl: hmcount_ioctl,
};

async function hmcount_probe(pdev: PlatformDevice): Promise<number> {
  const dev = pdev.dev;
  const [err, start] = of_property_read_u32(dev, 'start');   // from the platform file
  const c: Counter = {
    minor: MISC_DYNAMIC_MINOR, name: pdev.name, fops: hmcount_fops, parent: dev, mode: 0o666,
    count: err ? 0 : start,
  };
  const ret = await misc_register(c);
  if (ret) return dev_err_probe(dev, ret, 'misc_register failed');
  devm_add_action_or_reset(dev, () => misc_deregister(c));  // undone on unbind
  dev_info(dev, `/dev/${c.name} ready, count ${c.count}`);
  return 0;
}

export default module_platform_driver({
  probe: hmcount_probe,
  driver: { name: 'hmcount', of_match_table: [{ compatible: 'tutorial,counter' }] },
});
