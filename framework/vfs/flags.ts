/**
 * @module vfs/flags
 * open() flags: numbers (O.*) or Node's flag strings ('r', 'r+', 'w', 'a+', 'rs+', ...).
 */
import { O } from './types.js';
import { sysErr } from './errors.js';

const STRING_FLAGS: Record<string, number> = {
  'r': O.RDONLY, 'rs': O.RDONLY | O.SYNC, 'sr': O.RDONLY | O.SYNC,
  'r+': O.RDWR, 'rs+': O.RDWR | O.SYNC, 'sr+': O.RDWR | O.SYNC,
  'w': O.TRUNC | O.CREAT | O.WRONLY, 'wx': O.TRUNC | O.CREAT | O.WRONLY | O.EXCL,
  'xw': O.TRUNC | O.CREAT | O.WRONLY | O.EXCL,
  'w+': O.TRUNC | O.CREAT | O.RDWR, 'wx+': O.TRUNC | O.CREAT | O.RDWR | O.EXCL,
  'xw+': O.TRUNC | O.CREAT | O.RDWR | O.EXCL,
  'a': O.APPEND | O.CREAT | O.WRONLY, 'ax': O.APPEND | O.CREAT | O.WRONLY | O.EXCL,
  'xa': O.APPEND | O.CREAT | O.WRONLY | O.EXCL, 'as': O.APPEND | O.CREAT | O.WRONLY | O.SYNC,
  'sa': O.APPEND | O.CREAT | O.WRONLY | O.SYNC,
  'a+': O.APPEND | O.CREAT | O.RDWR, 'ax+': O.APPEND | O.CREAT | O.RDWR | O.EXCL,
  'xa+': O.APPEND | O.CREAT | O.RDWR | O.EXCL, 'as+': O.APPEND | O.CREAT | O.RDWR | O.SYNC,
  'sa+': O.APPEND | O.CREAT | O.RDWR | O.SYNC,
};

/** Numeric open flags; EINVAL for an unknown string or access mode 3. */
export function parseOpenFlags(flags: number | string | undefined, path: string): number {
  let n: number;
  if (flags === undefined) n = O.RDONLY;
  else if (typeof flags === 'number') n = flags;
  else {
    const found = STRING_FLAGS[flags];
    if (found === undefined) throw sysErr('EINVAL', 'open', path, `unknown open flags '${flags}'`);
    n = found;
  }
  if (!Number.isInteger(n) || n < 0) throw sysErr('EINVAL', 'open', path, 'bad open flags');
  if ((n & O.ACCMODE) === O.ACCMODE) throw sysErr('EINVAL', 'open', path, 'bad access mode');
  return n;
}

export function wantsRead(flags: number): boolean {
  const acc = flags & O.ACCMODE;
  return acc === O.RDONLY || acc === O.RDWR;
}

export function wantsWrite(flags: number): boolean {
  const acc = flags & O.ACCMODE;
  return acc === O.WRONLY || acc === O.RDWR;
}
