/**
 * @module sysfs-layout
 * The sysfs tree the device manager maintains, with Linux's names:
 *   /sys/devices/platform/<dev>/{modalias,uevent,of_node/compatible,driver -> …}
 *   /sys/bus/platform/devices/<dev> -> ../../../devices/platform/<dev>
 *   /sys/bus/platform/drivers/<drv>/{bind,unbind,uevent,<dev> -> …}
 *   /sys/devices/platform/<dev>/<class>/<name>/{dev,uevent,device -> ../..}
 *   /sys/class/<class>/<name> -> …, /sys/block/<disk> -> …
 */
import type { IVfs } from '../vfs/api.js';
import type { DeviceSpec, DriverManifest } from '../platform/types.js';
import type { IDisposable } from '../lifecycle/disposable.js';

export const devicePath = (name: string): string => `/sys/devices/platform/${name}`;
export const driverPath = (name: string): string => `/sys/bus/platform/drivers/${name}`;

export function createSkeleton(vfs: IVfs): void {
  for (const d of ['/dev', '/sys/devices/platform', '/sys/bus/platform/devices', '/sys/bus/platform/drivers', '/sys/class', '/proc/hmdrv']) vfs.mkdirp(d);
}

/** /sys entries of a platform device; they exist whether or not a driver is bound. */
export function addDeviceDir(vfs: IVfs, spec: DeviceSpec): void {
  const dir = devicePath(spec.name);
  vfs.mkdirp(`${dir}/of_node`);
  const modalias = `of:N${spec.name}T(null)${spec.compatible.map((c) => `C${c}`).join('')}`;
  vfs.addAttribute(`${dir}/modalias`, { show: () => `${modalias}\n` });
  vfs.addAttribute(`${dir}/uevent`, { show: () => `OF_NAME=${spec.name}\nOF_COMPATIBLE_N=${spec.compatible.length}\n${spec.compatible.map((c, i) => `OF_COMPATIBLE_${i}=${c}`).join('\n')}\nMODALIAS=${modalias}\n` });
  vfs.addAttribute(`${dir}/of_node/compatible`, { show: () => `${spec.compatible.join('\n')}\n` });
  vfs.addAttribute(`${dir}/of_node/name`, { show: () => `${spec.name}\n` });
  vfs.symlink(`../../../devices/platform/${spec.name}`, `/sys/bus/platform/devices/${spec.name}`);
}

/** /sys/bus/platform/drivers/<drv> with bind/unbind (write-only, root), like Linux. */
export function addDriverDir(vfs: IVfs, drv: DriverManifest,
  bind: (device: string) => Promise<void>, unbind: (device: string) => Promise<void>): void {
  const dir = driverPath(drv.name);
  vfs.mkdirp(dir);
  vfs.addAttribute(`${dir}/bind`, { store: (v) => bind(v.trim()) }, { mode: 0o200 });
  vfs.addAttribute(`${dir}/unbind`, { store: (v) => unbind(v.trim()) }, { mode: 0o200 });
  vfs.addAttribute(`${dir}/uevent`, { store: () => undefined }, { mode: 0o200 });
}

/** The links that say "this device is bound to that driver". */
export function linkBinding(vfs: IVfs, device: string, driver: string): IDisposable[] {
  return [
    vfs.symlink(`../../../../devices/platform/${device}`, `${driverPath(driver)}/${device}`),
    vfs.symlink(`../../../bus/platform/drivers/${driver}`, `${devicePath(device)}/driver`),
  ];
}

/**
 * A class device, laid out as Linux does: the real directory sits under its parent device,
 *   /sys/devices/platform/<parent>/<class>/<name>/{dev,uevent,device -> ../..}
 * and the class (and, for disks, /sys/block) holds a symlink to it:
 *   /sys/class/<class>/<name> -> ../../devices/platform/<parent>/<class>/<name>
 *   /sys/block/<name> -> ../devices/platform/<parent>/block/<name>
 * Attributes a driver adds with `dir: "<class>/<name>"` land in that directory.
 * `major` < 0 means the class device has no device number (network interfaces).
 */
export function addClassDevice(vfs: IVfs, className: string, name: string, parent: string,
  major: number, minor: number): IDisposable {
  const rel = `devices/platform/${parent}/${className}/${name}`;
  const dir = `/sys/${rel}`;
  vfs.mkdirp(`/sys/class/${className}`);
  vfs.mkdirp(`${devicePath(parent)}/${className}`);
  const regs: IDisposable[] = [vfs.mkdir(dir)];
  if (major >= 0) {
    vfs.addAttribute(`${dir}/dev`, { show: () => `${major}:${minor}\n` });
    vfs.addAttribute(`${dir}/uevent`, { show: () => `MAJOR=${major}\nMINOR=${minor}\nDEVNAME=${name}\n` });
  } else {
    vfs.addAttribute(`${dir}/uevent`, { show: () => `INTERFACE=${name}\n` });
  }
  vfs.symlink('../..', `${dir}/device`);
  vfs.symlink(`../../../../../class/${className}`, `${dir}/subsystem`);
  regs.push(vfs.symlink(`../../${rel}`, `/sys/class/${className}/${name}`));
  if (className === 'block') {
    vfs.mkdirp('/sys/block');
    regs.push(vfs.symlink(`../${rel}`, `/sys/block/${name}`));
  }
  return { dispose: () => { for (const r of regs.reverse()) void r.dispose(); } };
}
