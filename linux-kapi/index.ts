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
export * from './clk.js';
export * from './pm_runtime.js';
export * from './fs.js';
export * from './wait.js';
export * from './miscdevice.js';
export * from './module.js';
export * from './mm.js';
export * from './io.js';
export * from './bits.js';
export * from './memremap.js';
export * from './fb.js';
export * from './drm-device.js';
export * from './interrupt.js';
export * from './dma.js';
export * from './dma-mapping.js';
export * from './scatterlist.js';
export { IO_TLB_SIZE, IO_TLB_SHIFT, SWIOTLB_DEFAULT_SIZE, swiotlb_init_dev, swiotlb_stats, is_swiotlb_active } from './swiotlb.js';
export { live_dma_mappings } from './dma-debug.js';
export * from './debug.js';
export { held_sleeping_locks } from './lockdep.js';
export { kapi_unbind_check } from './unbind-check.js';
export * from './vmalloc.js';
export * from './kmem-cache.js';
export * from './cdev.js';
export * from './sysfs.js';
export * from './bug.js';
export * from './preempt.js';
export * from './spinlock.js';
export * from './mutex.js';
export * from './completion.js';
export * from './atomic.js';
export * from './time.js';
export * from './workqueue.js';
export * from './skbuff.js';
export * from './netdevice.js';
export * from './etherdevice.js';
export * from './blk_types.js';
export * from './blkdev.js';
export * from './blk-mq.js';
export * from './genhd.js';
export * from './blk-lib.js';
export * from './block-fops.js';
