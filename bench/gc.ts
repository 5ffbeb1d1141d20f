// A full-GC function for measurements: `globalThis.gc` under --expose-gc, otherwise the one
// V8 hands out after `--expose-gc` is set at run time (a new context then gets a `gc` global).
// Returns undefined if neither works; callers then measure without collecting.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let cached: (() => void) | null | undefined;

export function gcFunction(): (() => void) | undefined {
  if (cached !== undefined) return cached ?? undefined;
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return (cached = () => g());
  try {
    setFlagsFromString('--expose-gc');
    const fromContext = runInNewContext('gc') as unknown;
    if (typeof fromContext === 'function') return (cached = fromContext as () => void);
  } catch {}
  cached = null;
  return undefined;
}
