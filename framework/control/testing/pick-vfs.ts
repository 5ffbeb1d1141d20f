/**
 * @module control/testing/pick-vfs
 * Picks the VFS behind the fake kernel in tests: the kernel's own `Vfs` (framework/vfs/vfs.ts)
 * when it is built, else {@link MemoryVfs}. Set HMDRV_TEST_MEMORY_VFS=1 to force the fake.
 * The import is by computed path so this file compiles before vfs.ts exists.
 *
 * @example
 * const { vfs, kind } = await pickVfs();
 * const kernel = createFakeKernel(vfs);
 */
import type { IVfs } from '../../vfs/api.js';
import { MemoryVfs } from './memory-vfs.js';

export async function pickVfs(): Promise<{ vfs: IVfs; kind: 'kernel' | 'memory' }> {
  if (process.env.HMDRV_TEST_MEMORY_VFS !== '1') {
    const specifier = new URL('../../vfs/vfs.js', import.meta.url).href;
    try {
      const mod = (await import(specifier)) as { Vfs?: new () => IVfs };
      if (typeof mod.Vfs === 'function') return { vfs: new mod.Vfs(), kind: 'kernel' };
    } catch {
      // not built yet: fall through to the in-memory VFS
    }
  }
  return { vfs: new MemoryVfs(), kind: 'memory' };
}
