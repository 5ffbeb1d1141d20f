/**
 * @module net/sysfs
 * /sys/class/net/<if>: the class device (under its parent, /sys/devices/platform/<dev>/net/<if>,
 * with the /sys/class/net link; no device number) and the kernel-generated attributes Linux
 * has there: address, broadcast, addr_len, carrier, mtu (writable: ndo_change_mtu), operstate,
 * ifindex, iflink, type, flags, tx_queue_len, and statistics/* read from the driver's
 * ndo_get_stats64 at every read.
 */
import type { IVfs } from '../vfs/api.js';
import { SystemError } from '../errors/hm-error.js';
import { DisposableStore, type IDisposable } from '../lifecycle/disposable.js';
import { addClassDevice, devicePath } from '../device-manager/sysfs-layout.js';
import { NETDEV_STATS } from './abi.js';
import type { NetInterface } from './interface.js';

/** The statistics files of Linux's net-sysfs: every rtnl_link_stats64 field. */
export const SYSFS_STATS = NETDEV_STATS;

export function netSysfsDir(iface: NetInterface): string {
  return `${devicePath(iface.device)}/net/${iface.name}`;
}

export function addNetSysfs(vfs: IVfs, iface: NetInterface): IDisposable {
  const store = new DisposableStore(`sysfs net ${iface.name}`);
  store.add(addClassDevice(vfs, 'net', iface.name, iface.device, -1, 0));
  const dir = netSysfsDir(iface);
  const ro = (name: string, show: () => string | Promise<string>): void => {
    store.add(vfs.addAttribute(`${dir}/${name}`, { show: async () => `${await show()}\n` }, { mode: 0o444 }));
  };
  ro('address', () => iface.info.address);
  ro('broadcast', () => iface.info.broadcast);
  ro('addr_len', () => '6');
  ro('ifindex', () => String(iface.ifindex));
  ro('iflink', () => String(iface.ifindex));
  ro('type', () => String(iface.info.type));
  ro('flags', () => `0x${iface.flags.toString(16)}`);
  ro('tx_queue_len', () => String(iface.txQueueLen));
  ro('operstate', () => iface.operstate);
  ro('carrier', () => {
    // Linux: reading carrier of an interface that is not up is EINVAL.
    if (!iface.up) throw new SystemError('EINVAL', 'read', `${dir}/carrier`, 'interface is down');
    return iface.carrier ? '1' : '0';
  });
  store.add(vfs.addAttribute(`${dir}/mtu`, {
    show: () => `${iface.info.mtu}\n`,
    store: async (v) => {
      const mtu = Number(v.trim());
      if (!Number.isInteger(mtu) || mtu < iface.info.minMtu || mtu > iface.info.maxMtu) {
        throw new SystemError('EINVAL', 'write', `${dir}/mtu`, `MTU must be ${iface.info.minMtu}..${iface.info.maxMtu}`);
      }
      await iface.setMtu(mtu);
    },
  }, { mode: 0o644 }));
  store.add(vfs.mkdir(`${dir}/statistics`));
  for (const k of SYSFS_STATS) {
    store.add(vfs.addAttribute(`${dir}/statistics/${k}`, { show: async () => `${(await iface.stats())[k]}\n` }, { mode: 0o444 }));
  }
  return store;
}
