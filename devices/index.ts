/**
 * @module hmdrv/devices
 * The machine: register maps and device-model building blocks, physical memory and DMA,
 * clocks, the machine thread and its MMIO ports, and the hardware models.
 */
export * from './core/index.js';
export { Machine } from './machine/machine.js';
export { MmioPort } from './machine/mmio-port.js';
export { SpinBudget } from './ipc/spin.js';
export { KernelPage } from './ipc/kernel-page.js';
export { registerModel, modelNames, type ModelContext, type ModelFactory, type ModelModule } from './machine/models.js';
export { TICK_REGS } from './demo/tick.regs.js';
