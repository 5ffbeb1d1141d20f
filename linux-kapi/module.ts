/**
 * @module linux/module.h + linux/platform_device.h (driver side)
 * module_platform_driver(): turns a Linux-shaped `platform_driver` into the DriverModule a
 * container loads. probe failures and unbind run the device's devres in reverse order.
 */
import type { DeviceHandle, DriverModule } from '../framework/driver-port.js';
import { PlatformDevice, devres_release_all } from './device.js';
import { moduleParams, setDriverEnv, setModuleParams } from './kernel.js';
import type { DriverEnv } from '../framework/driver-port.js';

export interface OfDeviceId { compatible: string; data?: unknown }

export interface PlatformDriver {
  probe(pdev: PlatformDevice): number | Promise<number>;
  remove?(pdev: PlatformDevice): void | Promise<void>;
  driver: { name: string; of_match_table?: readonly OfDeviceId[] };
}

/** Module parameters as given by the platform file / manifest defaults (module_param). */
export function module_param<T>(name: string, fallback: T): T {
  const params = moduleParams();
  return (name in params ? params[name] : fallback) as T;
}

/** The matched of_device_id entry's data (of_device_get_match_data). */
export function of_device_get_match_data(drv: PlatformDriver, pdev: PlatformDevice): unknown {
  const compat = pdev.dev.handle.spec.compatible;
  for (const c of compat) {
    const m = drv.driver.of_match_table?.find((e) => e.compatible === c);
    if (m) return m.data;
  }
  return undefined;
}

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
      const pdev = new PlatformDevice(enter(), handle);
      const r = await drv.probe(pdev);
      if (r !== 0) { await devres_release_all(pdev.dev); return r; }
      bound.set(handle.binding, pdev);
      return 0;
    },
    async remove(handle: DeviceHandle) {
      const pdev = bound.get(handle.binding);
      if (!pdev) return;
      enter();
      bound.delete(handle.binding);
      await drv.remove?.(pdev);
      await devres_release_all(pdev.dev);
    },
    exit() { enter(); hooks.exit?.(); },
  };
}
