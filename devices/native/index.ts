/**
 * @module native
 * Loader for the native core (devices/native/hmdrv_native.cc, built by node-gyp on install):
 * shared memory that crosses processes and futex wait/wake that crosses processes.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeCore {
  memfdCreate(name: string, size: number): number;
  /** Zeroed, page-aligned memory shared between the threads of this process. */
  allocAligned(size: number): SharedArrayBuffer;
  /** Maps `size` bytes of `fd` from page-aligned `offset` (default 0). */
  mapFd(fd: number, size: number, offset?: number): SharedArrayBuffer;
  /** 0 = woken (or EINTR: re-check), 1 = the word did not hold `expected`, 2 = timed out. */
  futexWait(word: Int32Array, index: number, expected: number, timeoutMs?: number): 0 | 1 | 2;
  futexWake(word: Int32Array, index: number, count?: number): number;
  /** Calls `onRing` on this thread's event loop whenever word[index] changes. */
  doorbellOpen(word: Int32Array, index: number, onRing: () => void): number;
  doorbellClose(id: number): void;
}

/** The package root: the nearest ancestor directory holding package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('hmdrv: cannot find package root');
    dir = up;
  }
  return dir;
}

let cached: NativeCore | undefined;

export function native(): NativeCore {
  if (cached) return cached;
  const path = join(packageRoot(), 'build', 'Release', 'hmdrv_native.node');
  if (!existsSync(path)) {
    throw new Error(`hmdrv native core not built (${path} missing): run \`npm install\` (needs g++, python3)`);
  }
  cached = createRequire(import.meta.url)(path) as NativeCore;
  return cached;
}
