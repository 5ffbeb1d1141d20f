/**
 * @module hmdrv
 * The public API of the kernel (framework): boot a platform, use the VFS like fs/promises,
 * inspect devices, drivers and containers. `hmdrv/containers` adds the real container hosts
 * (`bootPlatform`), `hmdrv/linux-kapi` is the API drivers are written against.
 */
export { bootKernel, defaultPlatformPath, builtinDriverDir, type BootOptions, type BootedKernel } from './boot.js';
export type { IKernel, DeviceInfo, DriverInfo, ContainerInfo, IpcStats, DeviceState, ContainerState } from './kernel-api.js';
export type { IVfs, IFileHandle, VfsStats, VfsDirent, PollRequest, PollResult } from './vfs/api.js';
export { O, POLL, ROOT, type Credentials } from './vfs/types.js';
export { Vfs } from './vfs/vfs.js';
export { HmError, SystemError, isSystemError } from './errors/hm-error.js';
export { Errno, errnoName, errnoMessage } from './errors/errno.js';
export type { DriverModule, DriverEnv, DriverFileOps, DeviceHandle } from './driver-port.js';
export type { PlatformSpec, DeviceSpec, DriverManifest, IsolationClass, IoctlDecl } from './platform/types.js';
export { loadPlatformFile, PlatformError } from './platform/index.js';
export { ControlClient } from './control/client.js';
export { defaultSocketPath } from './control/socket-path.js';
