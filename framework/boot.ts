/**
 * @module boot
 * Boots a kernel from a platform file: the composition root used by `hmdrv run`, tests and
 * benchmarks. (Placeholder signature; the implementation lands with the device manager.)
 */
import type { IKernel } from './kernel-api.js';
import type { IsolationClass } from './platform/types.js';

export interface BootOptions {
  /** Platform file path; the built-in default platform when omitted. */
  platform?: string;
  /** Override every binding's isolation class (`hmdrv run --ic`). */
  isolation?: IsolationClass;
  /** Watchdog for hung containers, ms. */
  watchdogMs?: number;
  /** Where kernel log lines go (default: nowhere; `hmdrv run` prints them). */
  onLog?: (line: string) => void;
}

export interface BootedKernel extends IKernel {
  /** ms from boot start to all devices probed. */
  readonly readyMs: number;
}

export async function bootKernel(_opts: BootOptions = {}): Promise<BootedKernel> {
  throw new Error('bootKernel: not implemented yet');
}
