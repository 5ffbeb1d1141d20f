/**
 * @module linux/module.h + linux/platform_device.h (driver side)
 * module_platform_driver(): turns a Linux-shaped `platform_driver` into the DriverModule a
 * container loads. probe failures and unbind run the device's devres in reverse order.
 */
import type { DeviceHandle, DriverModule } from '../framework/driver-port.js';
import { Device, PlatformDevice, devres_release_all, of_match_device, of_property_read_bool, __device_bound } from './device.js';
import { kapi_debug_enable } from './debug.js';
import { lockdep_task } from './lockdep.js';
import { kapi_unbind_check } from './unbind-check.js';
import { moduleParams, setDriverEnv, setModuleParams } from './kernel.js';
import { dev_can_dma, swiotlb_init_dev } from './swiotlb.js';
import { __pm_runtime_unbind, __set_dev_pm_ops, type DevPmOps } from './pm_runtime.js';
import type { DriverEnv } from '../framework/driver-port.js';

export interface OfDeviceId { compatible: string; data?: unknown }

export interface PlatformDriver {
  probe(pdev: PlatformDevice): number | Promise<number>;
  remove?(pdev: PlatformDevice): void | Promise<void>;
  /** `pm`: Linux's .driver.pm; its runtime callbacks serve pm_runtime.ts. */
  driver: { name: string; of_match_table?: readonly OfDeviceId[]; pm?: DevPmOps | null };
}

/** Module parameters as given by the platform file / manifest defaults (module_param). */
export function module_param<T>(name: string, fallback: T): T {
  const params = moduleParams();
  return (name in params ? params[name] : fallback) as T;
}

/**
 * of_device_get_match_data(dev): the `data` of the bound driver's of_match_table entry that
 * matches the device (undefined if none). The older form (drv, pdev) names the driver explicitly.
 */
export function of_device_get_match_data(dev: Device): unknown;
export function of_device_get_match_data(drv: PlatformDriver, pdev: PlatformDevice): unknown;
export function of_device_get_match_data(a: Device | PlatformDriver, pdev?: PlatformDevice): unknown {
  if (a instanceof Device) return of_match_device(a.driver_match_table, a)?.data;
  return pdev ? of_match_device(a.driver.of_match_table, pdev.dev)?.data : undefined;
}
/** device_get_match_data(dev): the firmware-agnostic name. */
export const device_get_match_data = (dev: Device): unknown => of_device_get_match_data(dev);

export function module_platform_driver(drv: PlatformDriver, hooks: { init?: () => number | void; exit?: () => void } = {}): DriverModule {
  const bound = new Map<number, PlatformDevice>();
  let env: DriverEnv | null = null;
  const enter = (): DriverEnv => { setDriverEnv(env!); return env!; };
  return {
    name: drv.driver.name,
    init(e, params) {
      env = e;
      setModuleParams(e, params);
      enter();
      return hooks.init?.();
    },
    async probe(handle: DeviceHandle) {
      const e = enter();
      const pdev = new PlatformDevice(e, handle);
      pdev.dev.driver_match_table = drv.driver.of_match_table;
      __set_dev_pm_ops(pdev.dev, drv.driver.pm);
      // The debug mode for this driver (debug.ts): the device property "kapi-debug".
      if (of_property_read_bool(pdev.dev, 'kapi-debug')) kapi_debug_enable(e);
      // Streaming DMA (dma_map_*) is synchronous: the device's bounce pool must exist before probe.
      if (dev_can_dma(pdev.dev)) { await swiotlb_init_dev(pdev.dev); enter(); }
      __device_bound(pdev.dev, true);
      const r = await lockdep_task(e, `probe ${pdev.name}`, () => drv.probe(pdev));
      if (r !== 0) {
        await devres_release_all(pdev.dev);
        __pm_runtime_unbind(pdev.dev);
        __device_bound(pdev.dev, false);
        await kapi_unbind_check(pdev.dev, drv.driver.name, bound.size === 0, 'failed probe');
        return r;
      }
      bound.set(handle.binding, pdev);
      return 0;
    },
    async remove(handle: DeviceHandle) {
      const pdev = bound.get(handle.binding);
      if (!pdev) return;
      const e = enter();
      bound.delete(handle.binding);
      await lockdep_task(e, `remove ${pdev.name}`, async () => { await drv.remove?.(pdev); });
      await devres_release_all(pdev.dev);
      __pm_runtime_unbind(pdev.dev);
      __device_bound(pdev.dev, false);
      await kapi_unbind_check(pdev.dev, drv.driver.name, bound.size === 0);
    },
    exit() { enter(); hooks.exit?.(); },
  };
}
