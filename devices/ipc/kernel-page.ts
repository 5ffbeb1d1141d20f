/**
 * @module kernel-page
 * One page of memory shared by the kernel and every container, whatever its class: the
 * machine-wide spin budget lives here. A memfd, so IC2 processes can map it too.
 */
import { availableParallelism } from 'node:os';
import { native } from '../native/index.js';
import { SpinBudget } from './spin.js';

export const KERNEL_PAGE_BYTES = 4096;

export class KernelPage {
  readonly fd: number;
  readonly buffer: SharedArrayBuffer;
  readonly budget: SpinBudget;
  /** Spinners allowed at once: one per core, so a spinner never starves the peer it waits on. */
  readonly maxSpinners: number;

  constructor(maxSpinners = Number(process.env.HMDRV_MAX_SPINNERS ?? availableParallelism())) {
    const n = native();
    this.fd = n.memfdCreate('hmdrv-kernel-page', KERNEL_PAGE_BYTES);
    this.buffer = n.mapFd(this.fd, KERNEL_PAGE_BYTES);
    this.maxSpinners = Math.max(0, maxSpinners);
    this.budget = new SpinBudget(new Int32Array(this.buffer), this.maxSpinners);
  }
}
