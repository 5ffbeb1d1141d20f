// Imported first by bench/main.ts: installs a real `globalThis.gc` before mitata is imported.
// mitata picks its collector when its module loads; without `gc` it falls back to allocating
// huge arrays to provoke collections, which once left ~2 GiB of external memory behind and
// made every later allocation-heavy case GC-bound.
import { gcFunction } from './gc.js';

const g = globalThis as { gc?: () => void };
if (typeof g.gc !== 'function') {
  const gc = gcFunction();
  if (gc) g.gc = gc;
}
