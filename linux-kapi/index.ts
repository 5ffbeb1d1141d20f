/**
 * @module linux-kapi
 * The Linux kernel API for drivers in hmdrv containers, grouped as Linux's headers are.
 * See docs/kapi.md for what differs from Linux and why.
 */
export * from './errno.js';
export * from './ioctl.js';
export * from './uaccess.js';
export * from './kernel.js';
export * from './device.js';
export * from './fs.js';
export * from './wait.js';
export * from './miscdevice.js';
export * from './module.js';
export * from './mm.js';
export * from './io.js';
export * from './interrupt.js';
export * from './dma.js';
export * from './bug.js';
export * from './preempt.js';
export * from './spinlock.js';
export * from './mutex.js';
export * from './completion.js';
export * from './atomic.js';
export * from './time.js';
export * from './workqueue.js';
