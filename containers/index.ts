/** @module containers Driver hosts for IC0/IC1/IC2 and the IPC they use. */
export { createHostFactory } from './hosts/factory.js';
export { KernelPage } from '../devices/ipc/kernel-page.js';
export { InProcessHost } from './hosts/in-process-host.js';
export { WorkerHost } from './hosts/worker-host.js';
export { ChildProcessHost } from './hosts/child-host.js';
export { DriverRuntime, type KernelLink } from './runtime/driver-runtime.js';
export { Ring, RingCorruptError } from '../devices/ipc/ring.js';
export { Endpoint } from '../devices/ipc/endpoint.js';
export { SpinBudget, AdaptiveSpin } from '../devices/ipc/spin.js';
export { bootPlatform, type PlatformBootOptions } from './boot.js';
