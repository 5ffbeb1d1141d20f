/**
 * @module devices/ufs
 * UFSHCI 3.0 host controller (legacy single doorbell) with a UFS 3.1 device: the model, its
 * register map and protocol constants, UPIU helpers and timing profiles. Drivers import only
 * `ufs.regs.ts`; the test driver (`ufs.testing.ts`) is not part of this barrel.
 */
export * from './ufs.regs.js';
export * from './ufs.upiu.js';
export * from './ufs.timing.js';
export { UfsHostController, UfsConfigError, type UfsParams, type UfsHostControllerOptions, type UfsStats } from './ufs.model.js';
export { type LuParams, DEFAULT_IDENTITY } from './ufs.device.js';
export type { DeviceIdentity } from './ufs.descriptors.js';
export { MemoryStorage, FileStorage, openStorage, type BlockStorage } from './ufs.storage.js';
