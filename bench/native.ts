// Locates the package root and loads the hmdrv native addon (shared memory + futex) for the
// benchmarks. The bench tree does not import the devices/ layer so that baselines measure the
// raw mechanisms only, with nothing of ours in between.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The subset of `devices/native/hmdrv_native.cc` that the baselines use. */
export interface HmdrvNative {
  /** Anonymous shared memory (memfd_create + ftruncate, MFD_CLOEXEC); returns the fd. */
  memfdCreate(name: string, size: number): number;
  /** MAP_SHARED mapping of `fd` as a SharedArrayBuffer; visible to every process mapping it. */
  mapFd(fd: number, size: number): SharedArrayBuffer;
  /** Plain (non-private) FUTEX_WAIT: 0 woken or EINTR, 1 value differed, 2 timed out. */
  futexWait(words: Int32Array, index: number, expected: number, timeoutMs: number): 0 | 1 | 2;
  /** Plain FUTEX_WAKE; returns the number of waiters woken. */
  futexWake(words: Int32Array, index: number, count: number): number;
}

let root: string | undefined;

/** The directory holding hmdrv's package.json, found by walking up from this compiled file. */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`hmdrv bench: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

let native: HmdrvNative | undefined;

/** Loads `build/Release/hmdrv_native.node` once per isolate (the addon is context-aware). */
export function loadNative(): HmdrvNative {
  if (native) return native;
  const path = join(packageRoot(), 'build', 'Release', 'hmdrv_native.node');
  if (!existsSync(path)) throw new Error(`hmdrv bench: native addon not built (${path}); run \`npx node-gyp rebuild\``);
  const require = createRequire(import.meta.url);
  native = require(path) as HmdrvNative;
  return native;
}
