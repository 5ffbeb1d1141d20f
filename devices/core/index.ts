/**
 * @module devices/core
 * The machine's primitives that device models are built from: register maps as data and the
 * register file that dispatches MMIO from them, physical memory and the checked DMA view of it,
 * clocks and the scheduler (bottom halves, timers), IRQ lines and the device-model lifecycle.
 * Drivers import only regmap.ts (via their device's `*.regs.ts`).
 */
export * from './regmap.js';
export * from './register-file.js';
export * from './page-allocator.js';
export * from './phys-mem.js';
export * from './dma.js';
export * from './event-queue.js';
export * from './clock.js';
export * from './scheduler.js';
export * from './irq.js';
export * from './device-model.js';
export * from './bytes.js';
